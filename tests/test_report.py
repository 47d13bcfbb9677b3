"""The static report and its Atom feed, built from a replay of the local news world.

The site is opened in headless Chromium (Debian's ``chromium``): a screenshot of the status
board, and DOM assertions on the board, a change with its evidence, the escaping of a hostile
title and the client-side article filter. Without the binary the browser tests skip locally and
fail under CI (``$CI`` set), where ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import pytest
from lxml import html as lxml_html
from markupsafe import escape
from sqlalchemy import select

from tracker.changes import current_state
from tracker.config import Config, load_config
from tracker.db import Database
from tracker.facts.entities import Entities, load_entities
from tracker.models import Article, ArticleUrl, Change, ChangeEvidence
from tracker.report import ReportSummary, build_report, team_slug
from tracker.world.server import NewsWorld

from .test_e2e_crawl import make_config, run_tracker

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert(1)</script>"
ENTRY_ID = re.compile(r"^tag:dokpamo-tracker,\d{4}:change-(\d+)$")
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


@dataclass
class Replay:
    """The world replayed day 3 (baseline), day 4, then every day, with a report after each."""

    config: Config
    entities: Entities
    db: Database
    feeds: dict[str, bytes]  # stage name → changes.xml of the report built then
    out: Path
    summary: ReportSummary
    now: datetime

    def build(self, out: Path, now: datetime | None = None) -> ReportSummary:
        with self.db.begin() as session:
            return build_report(session, self.config, self.entities, out, now or self.now)


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replay]:
    tmp = tmp_path_factory.mktemp("report")
    # The module fixture runs before the per-test isolation: pass what it would set.
    env = {"TRACKER_HOME": str(tmp), "no_proxy": "127.0.0.1,localhost"}
    with NewsWorld() as world:
        config_path = make_config(tmp, world)
        config = load_config(config_path)
        entities = load_entities(config.entities_path)
        db = Database(f"sqlite:///{config_path.parent / 'tracker.db'}")
        feeds: dict[str, bytes] = {}
        for stage, day in (("day3", 3), ("day4", 4), ("all", None)):
            world.set_day(day)
            result = run_tracker(config_path, "run", env=env)
            assert result.returncode == 0, result.stdout + result.stderr
            with db.begin() as session:
                built = build_report(
                    session, config, entities, tmp / f"site-{stage}", datetime.now(UTC)
                )
            feeds[stage] = built.feed.read_bytes()
        now = datetime.now(UTC)
        with db.begin() as session:
            summary = build_report(session, config, entities, tmp / "site", now)
        yield Replay(config, entities, db, feeds, tmp / "site", summary, now)
        db.dispose()


def changes_in_db(replay: Replay) -> list[Change]:
    with replay.db.begin() as session:
        return list(session.scalars(select(Change).order_by(Change.id)))


# ---------------------------------------------------------------------------- the Atom feed


def test_feed_is_valid_atom_with_one_stable_entry_per_change(replay: Replay) -> None:
    changes = changes_in_db(replay)
    assert changes, "the replay records changes"
    parsed = feedparser.parse(replay.feeds["all"])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id.startswith("tag:dokpamo-tracker,")
    assert any(link.rel == "self" for link in parsed.feed.links)
    ids = [ENTRY_ID.match(entry.id) for entry in parsed.entries]
    assert all(ids), [entry.id for entry in parsed.entries]
    assert sorted(int(m.group(1)) for m in ids if m) == [c.id for c in changes]
    for entry in parsed.entries:
        number = ENTRY_ID.match(entry.id).group(1)  # type: ignore[union-attr]
        assert entry.link.endswith(f"changes/{number}.html")
        assert (replay.out / "changes" / f"{number}.html").is_file()
        assert entry.title.startswith("[독파모] ")
        assert entry.content[0].type == "text/html"
    # Ids of a change do not depend on the build: every earlier entry keeps its id.
    earlier = {e.id for e in feedparser.parse(replay.feeds["day3"]).entries}
    later = {e.id for e in parsed.entries}
    assert earlier and earlier <= later
    # The same database and clock give the same feed, byte for byte.
    again = replay.build(replay.out.parent / "site-again")
    assert again.feed.read_bytes() == replay.summary.feed.read_bytes()


def test_feed_entry_is_updated_when_its_change_is_confirmed(replay: Replay) -> None:
    rumour = next(
        c for c in changes_in_db(replay) if c.kind == "team_eliminated" and c.subject == "NC AI"
    )
    assert rumour.confirmed_at is not None and rumour.confirmed_at > rumour.first_seen_at

    def entry(stage: str) -> Any:
        parsed = feedparser.parse(replay.feeds[stage])
        assert not parsed.bozo
        return next(e for e in parsed.entries if e.id.endswith(f":change-{rumour.id}"))

    before, after = entry("day3"), entry("day4")
    assert before.id == after.id
    assert "미확인" in before.title and "확정" in after.title
    assert before.updated_parsed < after.updated_parsed
    stamp = rumour.confirmed_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert after.updated == stamp


def test_feed_content_keeps_a_hostile_title_as_text(replay: Replay) -> None:
    parsed = feedparser.parse(replay.feeds["all"])
    contents = [e.content[0].value for e in parsed.entries]
    assert any(str(escape(HOSTILE)) in content for content in contents)
    assert not any(HOSTILE in content for content in contents)


# ---------------------------------------------------------------------------- static files


def known_article_urls(replay: Replay) -> set[str]:
    with replay.db.begin() as session:
        urls = set(session.scalars(select(Article.canonical_url)))
        urls |= {u for u in session.scalars(select(Article.original_url)) if u}
        urls |= set(session.scalars(select(ArticleUrl.url)))
        urls |= set(session.scalars(select(ChangeEvidence.url)))
    return urls


def test_site_layout_and_no_external_reference_except_article_links(replay: Replay) -> None:
    out = replay.out
    summary = replay.summary
    with replay.db.begin() as session:
        articles = len(list(session.scalars(select(Article.id))))
    assert summary.changes == len(changes_in_db(replay)) and summary.articles == articles
    for change in changes_in_db(replay):
        assert (out / "changes" / f"{change.id}.html").is_file()
    for team in replay.entities.teams:
        assert (out / "teams" / f"{team_slug(team.canonical)}.html").is_file()
    for path in (out / "teams").iterdir():
        assert re.fullmatch(r"[a-z0-9-]+\.html", path.name), path.name
    assert (out / "articles.html").is_file() and (out / "changes" / "index.html").is_file()

    allowed = sorted(known_article_urls(replay), key=len, reverse=True)
    files = [p for p in out.rglob("*") if p.suffix in {".html", ".css", ".js"}]
    assert len(files) == summary.pages + 2
    for path in files:
        text = path.read_text(encoding="utf-8")
        # Strip article links (as attributes and as the shown text of "other URLs"): what is
        # left must not name any other site, or a page would make a request elsewhere.
        for url in allowed:
            text = text.replace(f'href="{escape(url)}"', "").replace(f">{escape(url)}<", "><")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE), path
        if path.suffix == ".html":
            document = lxml_html.fromstring(path.read_bytes())
            assert document.get("lang") == "ko"
            for element in document.iter():
                for attribute in ("src", "href"):
                    value = element.get(attribute) or ""
                    if element.tag != "a" and value:
                        assert "://" not in value and not value.startswith("//"), (path, value)


# ---------------------------------------------------------------------------- the browser


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").is_file() else None


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = chromium_binary()
    if binary is None:
        message = "headless Chromium not found (Debian package `chromium`; .ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message + " — required under CI")
        pytest.skip(message)
    return binary


def browse(binary: str, tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    result = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, url],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def dump_dom(binary: str, tmp_path: Path, page: Path, fragment: str = "") -> Any:
    result = browse(binary, tmp_path, page.as_uri() + fragment, "--dump-dom")
    assert "<html" in result.stdout, result.stderr[-2000:]
    return lxml_html.fromstring(result.stdout)


def png_info(path: Path) -> tuple[int, int, bytes]:
    """Return width, height and the decompressed (filtered) pixel rows of a PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return width, height, zlib.decompress(b"".join(chunks))


@pytest.mark.parametrize("size", [(1280, 1600), (390, 844)], ids=["desktop", "phone"])
def test_screenshot_of_the_status_board(
    replay: Replay, chromium: str, tmp_path: Path, size: tuple[int, int]
) -> None:
    shot = tmp_path / "index.png"
    browse(
        chromium,
        tmp_path,
        replay.summary.index.as_uri(),
        f"--screenshot={shot}",
        f"--window-size={size[0]},{size[1]}",
    )
    width, height, pixels = png_info(shot)
    assert (width, height) == size
    # A page that failed to render is one flat colour; text, badges and the chart are not.
    assert len(set(pixels)) > 64


def test_status_board_in_the_browser(replay: Replay, chromium: str, tmp_path: Path) -> None:
    dom = dump_dom(chromium, tmp_path, replay.summary.index)
    with replay.db.begin() as session:
        state = current_state(session, replay.config, replay.entities, replay.now.date())
    rows = {
        row.xpath("string(th)").strip(): row for row in dom.xpath('//table[@id="status-board"]//tr')
    }
    rows.pop("팀", None)
    assert set(state.teams) <= set(rows)
    for name, team in state.teams.items():
        assert rows[name].xpath('string(td[@class="status"]/@data-status)') == team.status
    statuses = {name: rows[name].xpath('string(td[@class="status"]/@data-status)') for name in rows}
    assert statuses["NC AI"] == "eliminated" and statuses["네이버클라우드"] == "eliminated"
    assert statuses["LG AI연구원"] == "active" and statuses["모티프테크놀로지스"] == "selected"
    # The stage1 cell of NC AI links its elimination's page; SK텔레콤 shows its model's size.
    cell = rows["NC AI"].xpath('td[@data-stage="stage1"]')[0]
    assert "탈락" in cell.text_content()
    assert any(re.fullmatch(r"changes/\d+\.html", href) for href in cell.xpath(".//a/@href"))
    assert "A.X K1" in rows["SK텔레콤"].text_content() and "519B" in rows["SK텔레콤"].text_content()
    header = [
        th.text_content().strip() for th in dom.xpath('//table[@id="status-board"]//thead//th')
    ]
    stage_labels = header[3 : 3 + len(replay.entities.stages)]
    assert len(stage_labels) == len(replay.entities.stages)
    assert dom.xpath('string(//*[@id="teams-remaining"])').strip() == str(state.teams_remaining)
    assert dom.xpath("//svg[contains(@class, 'chart')]//polyline")
    assert not dom.xpath("//script")


def test_change_page_shows_its_evidence(replay: Replay, chromium: str, tmp_path: Path) -> None:
    change = next(
        c
        for c in changes_in_db(replay)
        if c.kind == "team_eliminated" and c.subject == "네이버클라우드"
    )
    with replay.db.begin() as session:
        evidence = list(
            session.scalars(select(ChangeEvidence).where(ChangeEvidence.change_id == change.id))
        )
    assert any(e.official for e in evidence)
    dom = dump_dom(chromium, tmp_path, replay.out / "changes" / f"{change.id}.html")
    page = dom.xpath('//article[@id="change"]')[0]
    assert "네이버클라우드" in page.xpath("string(h1)") and "탈락" in page.xpath("string(h1)")
    sentences = [s.text_content().strip() for s in page.xpath('.//blockquote[@class="sentence"]')]
    assert sorted(sentences) == sorted(e.sentence for e in evidence)
    links = page.xpath('.//a[@class="article-link"]/@href')
    assert {e.url for e in evidence} <= set(links)
    assert page.xpath('.//li[contains(@class, "official")]//span[contains(@class, "official")]')
    assert "확정" in page.text_content()


def test_hostile_title_stays_text(replay: Replay, chromium: str, tmp_path: Path) -> None:
    with replay.db.begin() as session:
        hostile = session.scalars(select(Article).where(Article.title.contains(HOSTILE))).all()
        pages = [
            replay.out / "changes" / f"{e.change_id}.html"
            for e in session.scalars(
                select(ChangeEvidence).where(ChangeEvidence.title.contains(HOSTILE))
            )
        ]
    assert hostile, "the world serves an article whose title holds a script element"
    assert pages, "and it is evidence of a change"
    for page, scripts in ((replay.out / "articles.html", 1), (pages[0], 0)):
        raw = page.read_text(encoding="utf-8")
        assert HOSTILE not in raw and str(escape(HOSTILE)) in raw
        dom = dump_dom(chromium, tmp_path, page)
        # Only the report's own filter script exists; the title's element was never created.
        assert [s.get("src") for s in dom.xpath("//script")] == ["assets/filter.js"] * scripts
        assert not [s for s in dom.xpath("//script") if "alert" in (s.text or "")]
        assert HOSTILE in dom.text_content()


def test_article_filter_runs_from_file_url(replay: Replay, chromium: str, tmp_path: Path) -> None:
    team = "모티프테크놀로지스"
    slug = team_slug(team)
    dom = dump_dom(chromium, tmp_path, replay.out / "articles.html", f"#team={slug}")
    items = dom.xpath('//li[contains(@class, "article")]')
    assert items
    shown = [i for i in items if i.get("hidden") is None]
    hidden = [i for i in items if i.get("hidden") is not None]
    assert shown and hidden
    assert all(slug in i.get("data-teams").split() for i in shown)
    assert all(slug not in i.get("data-teams").split() for i in hidden)
    assert dom.xpath('string(//*[@id="shown-count"])').startswith(f"{len(shown)}건")


@pytest.mark.slow
def test_demo_runs_end_to_end_offline(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "demo"
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "demo", "--out", str(out), "--days", "4"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "day 4:" in result.stdout and "demo report:" in result.stdout
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "NC AI" in index and "탈락" in index
    feed = feedparser.parse((out / "changes.xml").read_bytes())
    assert not feed.bozo and any("NC AI" in e.title for e in feed.entries)
    assert not list(tmp_path.glob("*.db")), "the demo must not leave a database behind"
