"""Static HTML report of the competition (status board, change log, teams, articles, Atom feed)."""

from __future__ import annotations

import logging
import shutil
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy.orm import Session

from tracker.changes import current_state
from tracker.config import Config
from tracker.facts.entities import Entities
from tracker.report.atom import atom_feed
from tracker.report.chart import volume_chart
from tracker.report.views import KST, ReportData, load_report_data, team_slug

__all__ = ["ReportSummary", "build_report", "team_slug"]

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "report"
ASSETS = ("report.css", "filter.js")
LATEST_CHANGES = 10


@dataclass(frozen=True, slots=True)
class ReportSummary:
    """What :func:`build_report` wrote."""

    out_dir: Path
    index: Path
    feed: Path
    pages: int
    changes: int
    teams: int
    articles: int


def _environment() -> Environment:
    # Autoescape everything: crawled titles and sentences are hostile until proven otherwise.
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _chart_series(data: ReportData) -> dict[str, list[date]]:
    series: dict[str, list[date]] = defaultdict(list)
    for article in data.articles:
        if article.published_on is None:
            continue
        for name in article.teams:
            series[name].append(article.published_on)
    return series


def build_report(
    session: Session,
    config: Config,
    entities: Entities,
    out_dir: Path,
    now: datetime,
    base_url: str | None = None,
) -> ReportSummary:
    """Write the static site into ``out_dir`` and return what was written.

    Every link is relative, so the site works from file:// and from any web server; nothing is
    loaded from elsewhere. Rebuilding into the same folder overwrites the pages (a change's and
    a team's page names are stable). ``base_url`` only makes the Atom feed's links absolute.
    """
    state = current_state(session, config, entities, now.astimezone(KST).date())
    data = load_report_data(session, entities, state, now)
    env = _environment()
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = 0

    def render(template: str, target: str, root: str, page: str, **values: Any) -> None:
        nonlocal pages
        html = env.get_template(template).render(data=data, root=root, page=page, **values)
        _write(out_dir / target, html)
        pages += 1

    for asset in ASSETS:
        (out_dir / "assets").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(TEMPLATES / asset, out_dir / "assets" / asset)

    board = [t for t in data.teams if t.tracked]
    untracked = [t for t in data.teams if not t.tracked]
    markers = [(s.day, s.marker) for s in data.schedules]
    latest = sorted(data.changes, key=lambda c: (c.updated_at, c.id), reverse=True)
    render(
        "index.html",
        "index.html",
        "",
        "index",
        board=board,
        untracked=untracked,
        chart=volume_chart(_chart_series(data), markers),
        latest=latest[:LATEST_CHANGES],
    )
    newest_first = sorted(data.changes, key=lambda c: (c.first_seen_at, c.id), reverse=True)
    days = [
        (day, list(items))
        for day, items in groupby(
            newest_first, key=lambda c: c.first_seen_at.astimezone(KST).strftime("%Y-%m-%d")
        )
    ]
    render("changes.html", "changes/index.html", "../", "changes", days=days)
    for change in data.changes:
        render("change.html", f"changes/{change.id}.html", "../", "changes", c=change)
    for team in data.teams:
        render("team.html", f"teams/{team.slug}.html", "../", "index", t=team, stages=data.stages)
    slugs = {t.name: t.slug for t in data.teams}
    render("articles.html", "articles.html", "", "articles", teams=data.teams, slugs=slugs)
    feed = out_dir / "changes.xml"
    feed.write_bytes(atom_feed(data.changes, now, base_url))
    logger.info("report written to %s: %d pages", out_dir, pages)
    return ReportSummary(
        out_dir=out_dir,
        index=out_dir / "index.html",
        feed=feed,
        pages=pages,
        changes=len(data.changes),
        teams=len(data.teams),
        articles=len(data.articles),
    )
