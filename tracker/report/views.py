"""Read the database into plain view objects for the report's templates (labels in Korean)."""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts.render import LABELS, SUBJECT_PREFIX, clean_header, headline, label
from tracker.changes import query_changes
from tracker.export import query_articles
from tracker.facts.entities import Entities
from tracker.models import Article, Change, ChangeEvidence, FactRow
from tracker.state import CompetitionState

KST = timezone(timedelta(hours=9), "KST")
REMAINING = ("selected", "active")
UNKNOWN = "(매체 미상)"
EVENT_LABELS = {
    "results": "결과 발표",
    "call_deadline": "공모 마감",
    "call_open": "공모 개시",
    "evaluation": "평가",
}
PRECISION_LABELS = {"day": "", "month_part": " (순·경)", "month": " (월 중)"}
# The subject line an alert about a change of this confidence would carry.
ALERT_KIND_BY_CONFIDENCE = {
    "confirmed": "immediate",
    "reported": "unconfirmed",
    "retracted": "correction",
}


def team_slug(name: str) -> str:
    """Return the ASCII file stem of a team's page: a hash of its name.

    Korean file names break some web servers and archive tools, and transliteration is lossy;
    a hash is stable across builds as long as the team's canonical name is.
    """
    return "team-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]


def safe_url(url: str | None) -> str | None:
    """Return ``url`` when it is http(s), else None: crawled data never becomes a script link."""
    if not url:
        return None
    scheme = urlsplit(url.strip()).scheme.lower()
    return url.strip() if scheme in {"http", "https"} else None


def kst(moment: datetime | None, with_time: bool = True) -> str:
    """Return ``moment`` as KST text, or an empty string."""
    if moment is None:
        return ""
    local = moment.astimezone(KST)
    return local.strftime("%Y-%m-%d %H:%M") if with_time else local.strftime("%Y-%m-%d")


def value_label(value: str | None) -> str:
    """Return a before/after value for people: status and stage keys in Korean."""
    if not value:
        return "(없음)"
    return " ".join(LABELS["status"].get(w, LABELS["stage"].get(w, w)) for w in value.split())


def params_label(total: int | None, active: int | None = None) -> str:
    """Return a parameter count like ``519B`` or ``32B (활성 3B)``."""

    def short(value: int) -> str:
        billions = value / 1e9
        return f"{billions:.0f}B" if billions >= 10 else f"{billions:.1f}B"

    if not total:
        return ""
    return short(total) + (f" (활성 {short(active)})" if active else "")


@dataclass(frozen=True, slots=True)
class LinkView:
    title: str
    publisher: str
    url: str | None


@dataclass(frozen=True, slots=True)
class EvidenceView:
    article_id: int
    publisher: str
    title: str
    sentence: str
    url: str | None
    official: bool
    published: str
    other_urls: tuple[str, ...]
    duplicates: tuple[LinkView, ...]


@dataclass(frozen=True, slots=True)
class ChangeView:
    id: int
    kind: str
    kind_label: str
    subject: str
    team_slug: str | None
    stage: str | None
    stage_label: str
    before: str
    after: str
    confidence: str
    confidence_label: str
    headline: str
    feed_title: str
    first_seen_at: datetime
    confirmed_at: datetime | None
    retracted_at: datetime | None
    first_seen: str
    confirmed: str
    retracted: str
    silent: bool
    evidence: tuple[EvidenceView, ...]

    @property
    def updated_at(self) -> datetime:
        """When the change last moved: confirmed, retracted, else first seen."""
        return max(t for t in (self.first_seen_at, self.confirmed_at, self.retracted_at) if t)

    @property
    def publishers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.publisher for e in self.evidence))


@dataclass(frozen=True, slots=True)
class ArticleView:
    id: int
    title: str
    publisher: str
    url: str | None
    published: str
    day: str
    published_on: date | None
    sources: tuple[str, ...]
    teams: tuple[str, ...]
    other_urls: tuple[str, ...]


@dataclass(slots=True)
class StageCell:
    outcomes: list[ChangeView] = field(default_factory=list)
    scores: list[str] = field(default_factory=list)


@dataclass(slots=True)
class TeamView:
    name: str
    slug: str
    status: str
    status_label: str
    stage_label: str
    confidence: str | None
    confidence_label: str
    models: list[tuple[str, str]]
    cells: dict[str, StageCell]
    changes: list[ChangeView] = field(default_factory=list)
    articles: list[ArticleView] = field(default_factory=list)

    @property
    def remaining(self) -> bool:
        return self.status in REMAINING

    @property
    def tracked(self) -> bool:
        return self.status != "candidate" or bool(self.models or self.changes)


@dataclass(frozen=True, slots=True)
class StageView:
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class ScheduleView:
    event: str
    stage: str
    day: date
    text: str  # what and when: "1차 단계평가 결과 발표 2026년 1월 중순"
    marker: str  # for the chart, whose axis gives the day: "1차 단계평가 결과 발표 (1월 중순)"


@dataclass(slots=True)
class ReportData:
    generated: str
    stages: list[StageView]
    teams: list[TeamView]
    changes: list[ChangeView]
    articles: list[ArticleView]
    schedules: list[ScheduleView]
    programme: dict[str, Any]
    sources: list[str]
    publishers: list[str]

    def team(self, name: str) -> TeamView | None:
        return next((t for t in self.teams if t.name == name), None)


def date_text(when: str, precision: str = "day") -> str:
    """Return a schedule date for people: ``2026-01-15``, ``2026년 1월 중순``, ``2026년 4월 중``."""
    try:
        day = date.fromisoformat(when)
    except ValueError:
        return when
    if precision == "day":
        return day.isoformat()
    month = f"{day.year}년 {day.month}월"
    if precision == "month_part":
        return f"{month} {('초순', '중순', '하순')[min(2, (day.day - 1) // 10)]}"
    return f"{month} 중"


_SCHEDULE_VALUE = re.compile(r"^(\d{4}-\d{2}-\d{2}) \((\w+)\)$")


def schedule_value(value: str | None) -> str:
    """Return a stored schedule value (``2026-04-01 (month)``) for people."""
    match = _SCHEDULE_VALUE.match(value or "")
    return date_text(match.group(1), match.group(2)) if match else value_label(value)


def _schedule_name(event: str, stage: str) -> str:
    parts = [label("stage", stage) if stage else "", EVENT_LABELS.get(event, event)]
    return " ".join(p for p in parts if p)


def _schedule_text(event: str, stage: str, when: str, precision: str) -> str:
    return f"{_schedule_name(event, stage)} {date_text(when, precision)}"


def change_headline(change: Change) -> str:
    """Return the change's one-line title (schedules name their event, not its key)."""
    if change.kind.startswith("schedule_"):
        stage = label("stage", change.stage)
        event = EVENT_LABELS.get(change.subject, change.subject)
        what = " ".join(p for p in (stage, event) if p)
        return f"{what} 일정: {schedule_value(change.after)}"
    return headline(change)


def feed_title(change: Change) -> str:
    """Return the title an alert about the change would have, e.g. ``[독파모] 확정: …``."""
    kind = ALERT_KIND_BY_CONFIDENCE.get(change.confidence, "")
    alert = label("alert", kind)
    text = f"{SUBJECT_PREFIX} {alert}: {change_headline(change)}"
    return clean_header(text + (" (앞선 보도 철회)" if kind == "correction" else ""))


def rank_text(rank: Any) -> str:
    """Return a score's rank: ``1위``, ``최하위`` or nothing."""
    if rank in (None, ""):
        return ""
    return "최하위" if rank == "last" else f"{rank}위"


def _article_links(session: Session) -> tuple[dict[int, Article], dict[int, list[Article]]]:
    articles = {a.id: a for a in query_articles(session)}
    stories: dict[int, list[Article]] = defaultdict(list)
    for article in articles.values():
        if article.story_id is not None:
            stories[article.story_id].append(article)
    return articles, stories


def _evidence_view(
    item: ChangeEvidence, articles: dict[int, Article], stories: dict[int, list[Article]]
) -> EvidenceView:
    article = articles.get(item.article_id)
    other_urls: tuple[str, ...] = ()
    duplicates: tuple[LinkView, ...] = ()
    if article is not None:
        shown = {item.url}
        urls = [safe_url(u.url) for u in article.urls if u.url not in shown]
        other_urls = tuple(u for u in dict.fromkeys(urls) if u)
        if article.story_id is not None:
            duplicates = tuple(
                LinkView(other.title, other.publisher or UNKNOWN, safe_url(other.canonical_url))
                for other in stories[article.story_id]
                if other.id != article.id
            )
    return EvidenceView(
        article_id=item.article_id,
        publisher=item.publisher or UNKNOWN,
        title=item.title,
        sentence=item.sentence,
        url=safe_url(item.url),
        official=item.official,
        published=kst(article.published_at) if article is not None else "",
        other_urls=other_urls,
        duplicates=duplicates,
    )


def _change_view(
    change: Change,
    team_names: set[str],
    articles: dict[int, Article],
    stories: dict[int, list[Article]],
) -> ChangeView:
    ordered = sorted(change.evidence, key=lambda item: (not item.official, item.id))
    schedule = change.kind.startswith("schedule_")
    return ChangeView(
        id=change.id,
        kind=change.kind,
        kind_label=label("kind", change.kind),
        subject=change.subject,
        team_slug=team_slug(change.subject) if change.subject in team_names else None,
        stage=change.stage,
        stage_label=label("stage", change.stage),
        before=schedule_value(change.before) if schedule else value_label(change.before),
        after=schedule_value(change.after) if schedule else value_label(change.after),
        confidence=change.confidence,
        confidence_label=label("confidence", change.confidence),
        headline=change_headline(change),
        feed_title=feed_title(change),
        first_seen_at=change.first_seen_at,
        confirmed_at=change.confirmed_at,
        retracted_at=change.retracted_at,
        first_seen=kst(change.first_seen_at),
        confirmed=kst(change.confirmed_at),
        retracted=kst(change.retracted_at),
        silent=change.silent,
        evidence=tuple(_evidence_view(item, articles, stories) for item in ordered),
    )


def _article_teams(session: Session, team_names: set[str]) -> dict[int, set[str]]:
    """Return the teams each article mentions, by the subjects of its facts."""
    rows = session.execute(
        select(FactRow.article_id, FactRow.subject)
        .where(FactRow.subject.in_(team_names))
        .distinct()
    )
    found: dict[int, set[str]] = defaultdict(set)
    for article_id, subject in rows:
        found[article_id].add(subject)
    return found


def _article_view(article: Article, teams: set[str]) -> ArticleView:
    moment = article.published_at or article.crawled_at
    urls = [safe_url(u.url) for u in article.urls if u.url != article.canonical_url]
    return ArticleView(
        id=article.id,
        title=article.title,
        publisher=article.publisher or UNKNOWN,
        url=safe_url(article.canonical_url),
        published=kst(article.published_at),
        day=kst(moment, with_time=False),
        published_on=moment.astimezone(KST).date() if moment else None,
        sources=tuple(sorted(s.source.name for s in article.sources)),
        teams=tuple(sorted(teams)),
        other_urls=tuple(u for u in dict.fromkeys(urls) if u),
    )


def _team_order(entities: Entities) -> dict[str, int]:
    return {team.canonical: index for index, team in enumerate(entities.teams)}


def load_report_data(
    session: Session, entities: Entities, state: CompetitionState, now: datetime
) -> ReportData:
    """Return everything the report shows, read in a handful of queries."""
    order = _team_order(entities)
    team_names = set(order) | set(state.teams)
    articles, stories = _article_links(session)
    changes = [
        _change_view(change, team_names, articles, stories) for change in query_changes(session)
    ]
    stages = [
        StageView(s.key, label("stage", s.key))
        for s in sorted(entities.stages, key=lambda s: s.order)
    ]
    known_stages = {s.key for s in stages}

    teams: dict[str, TeamView] = {}
    for name in sorted(team_names, key=lambda n: (order.get(n, len(order)), n)):
        tracked = state.teams.get(name)
        status = tracked.status if tracked else "candidate"
        confidence = tracked.confidence if tracked else None
        teams[name] = TeamView(
            name=name,
            slug=team_slug(name),
            status=status,
            status_label=label("status", status),
            stage_label=label("stage", tracked.stage) if tracked else "",
            confidence=confidence,
            confidence_label=label("confidence", confidence),
            models=[
                (model, params_label(info.get("params_total"), info.get("params_active")))
                for model, info in (tracked.models.items() if tracked else [])
            ],
            cells={key: StageCell() for key in known_stages},
        )
        if tracked:
            for stage, parts in tracked.scores.items():
                cell = teams[name].cells.setdefault(stage, StageCell())
                for part, score in parts.items():
                    scale = f"/{score['scale']:g}" if score.get("scale") else ""
                    rank = f" {rank_text(score.get('rank'))}" if score.get("rank") else ""
                    cell.scores.append(f"{_PARTS.get(part, part)} {score['value']:g}{scale}{rank}")
    for change in changes:
        team = teams.get(change.subject)
        if team is None:
            continue
        team.changes.append(change)
        if change.kind.startswith("team_") and change.stage:
            team.cells.setdefault(change.stage, StageCell()).outcomes.append(change)
    if any(t.cells.get("unknown") for t in teams.values()):
        stages.append(StageView("unknown", "단계 미상"))

    by_article = _article_teams(session, team_names)
    for change in changes:
        if change.team_slug is None:
            continue
        for item in change.evidence:
            by_article[item.article_id].add(change.subject)
    article_views = [_article_view(a, by_article.get(a.id, set())) for a in articles.values()]
    for view in article_views:
        for name in view.teams:
            teams[name].articles.append(view)

    schedules = []
    for key, value in state.schedules.items():
        event, _, stage = key.partition("|")
        precision = value.get("precision", "day")
        name = _schedule_name(event, stage)
        when = date_text(value["date"], precision)
        schedules.append(
            ScheduleView(
                event,
                stage,
                date.fromisoformat(value["date"]),
                f"{name} {when}",
                name if precision == "day" else f"{name} ({when.split(' ', 1)[1]})",
            )
        )
    schedules.sort(key=lambda s: s.day)
    nxt = state.next_decision
    programme = {
        "current_stage": label("stage", state.current_stage) or "-",
        "teams_remaining": state.teams_remaining,
        "next_decision": _schedule_text(
            nxt["event"], nxt["stage"], nxt["date"], nxt.get("precision", "day")
        )
        if nxt
        else None,
        "additional_call": {"opened": "접수 중", "closed": "마감"}.get(
            state.additional_call or "", state.additional_call or "-"
        ),
    }
    ordered_teams = sorted(
        teams.values(), key=lambda t: (not t.remaining, not t.tracked, order.get(t.name, 999))
    )
    return ReportData(
        generated=kst(now),
        stages=stages,
        teams=ordered_teams,
        changes=changes,
        articles=article_views,
        schedules=schedules,
        programme=programme,
        sources=sorted({s for a in article_views for s in a.sources}),
        publishers=sorted({a.publisher for a in article_views}),
    )


_PARTS = {"benchmark": "벤치마크", "expert": "전문가", "user": "사용자", "total": "종합"}
