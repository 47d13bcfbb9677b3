"""The append-only change log: load facts, fold them into state, record each change once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from tracker.archive import insert_ignore
from tracker.config import Config
from tracker.facts.entities import Entities
from tracker.models import (
    Article,
    ArticleSource,
    Change,
    ChangeEvidence,
    FactRow,
    Source,
)
from tracker.state import ChangeDraft, CompetitionState, FactRecord, fold
from tracker.urls import canonical_url, is_under_domain

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RebuildResult:
    state: CompetitionState
    new: list[int]
    confirmed: list[int]
    retracted: list[int]


def load_fact_records(session: Session, config: Config) -> list[FactRecord]:
    """Return every stored fact with its article's publisher, story and officialness."""
    official_articles = set(
        session.scalars(
            select(ArticleSource.article_id)
            .join(Source, Source.id == ArticleSource.source_id)
            .where(Source.official.is_(True))
        )
    )
    rows = session.execute(
        select(FactRow, Article)
        .join(Article, Article.id == FactRow.article_id)
        .order_by(FactRow.id)
    )
    records = []
    for fact, article in rows:
        official = article.id in official_articles or any(
            url and is_under_domain(url, config.official_domains)
            for url in (article.canonical_url, article.original_url)
        )
        records.append(
            FactRecord(
                fact_id=fact.id,
                article_id=article.id,
                type=fact.type,
                subject=fact.subject,
                values=fact.values,
                modality=fact.modality,
                sentence=fact.sentence,
                # The publisher's own page when known (tracking parameters removed).
                url=canonical_url(article.original_url)
                if article.original_url
                else article.canonical_url,
                title=article.title,
                publisher=article.publisher,
                story_id=article.story_id,
                official=official,
                published_at=article.published_at,
            )
        )
    return records


def stage_order(entities: Entities) -> dict[str, int]:
    """Return each stage key's position in the competition."""
    return {stage.key: stage.order for stage in entities.stages}


def record_changes(
    session: Session, drafts: list[ChangeDraft], now: datetime, silent: bool = False
) -> tuple[list[int], list[int], list[int]]:
    """Record drafts in the change log; return ids of new, newly confirmed and retracted changes.

    Idempotent: a change is found by its key, so re-running, re-processing or reading the same
    story from many outlets adds evidence to one row. Rows are never deleted; confidence only
    moves reported → confirmed, or to retracted (and back to confirmed if official).
    """
    new: list[int] = []
    confirmed: list[int] = []
    retracted: list[int] = []
    existing = (
        {
            change.key: change
            for change in session.scalars(
                select(Change).where(Change.key.in_([d.key for d in drafts]))
            )
        }
        if drafts
        else {}
    )
    for draft in drafts:
        change = existing.get(draft.key)
        if change is None:
            change = Change(
                key=draft.key,
                kind=draft.kind,
                subject=draft.subject,
                stage=draft.stage,
                before=draft.before,
                after=draft.after,
                confidence=draft.confidence,
                first_seen_at=now,
                confirmed_at=now if draft.confidence == "confirmed" else None,
                retracted_at=now if draft.confidence == "retracted" else None,
                # A retraction of something never reported is history, not news.
                silent=silent or draft.confidence == "retracted",
            )
            session.add(change)
            session.flush()
            existing[draft.key] = change
            new.append(change.id)
        elif draft.confidence != change.confidence:
            if draft.confidence == "confirmed":
                change.confidence, change.confirmed_at = "confirmed", now
                change.retracted_at = None
                confirmed.append(change.id)
            elif draft.confidence == "retracted" and change.confidence == "reported":
                change.confidence, change.retracted_at = "retracted", now
                retracted.append(change.id)
        insert_ignore(
            session,
            ChangeEvidence,
            [
                {
                    "change_id": change.id,
                    "article_id": record.article_id,
                    "fact_id": record.fact_id,
                    "url": record.url,
                    "publisher": record.publisher,
                    "title": record.title,
                    "sentence": record.sentence,
                    "official": record.official,
                }
                for record in {r.article_id: r for r in draft.evidence}.values()
            ],
        )
    return new, confirmed, retracted


def rebuild(
    session: Session, config: Config, entities: Entities, now: datetime, silent: bool = False
) -> RebuildResult:
    """Fold every stored fact into the state and record the changes it implies."""
    records = load_fact_records(session, config)
    state, drafts = fold(records, stage_order(entities), config.tracking.min_publishers, now.date())
    new, confirmed, retracted = record_changes(session, drafts, now, silent)
    return RebuildResult(state, new, confirmed, retracted)


def current_state(
    session: Session, config: Config, entities: Entities, today: date
) -> CompetitionState:
    """Return the state folded from stored facts, without recording anything."""
    records = load_fact_records(session, config)
    state, _ = fold(records, stage_order(entities), config.tracking.min_publishers, today)
    return state


def query_changes(
    session: Session,
    since: datetime | None = None,
    kind: str | None = None,
    team: str | None = None,
) -> list[Change]:
    """Return changes, oldest first, with their evidence loaded."""
    stmt = select(Change).options(selectinload(Change.evidence))
    if since is not None:
        stmt = stmt.where(or_(Change.first_seen_at >= since, Change.confirmed_at >= since))
    if kind is not None:
        stmt = stmt.where(Change.kind == kind)
    if team is not None:
        stmt = stmt.where(Change.subject == team)
    return list(session.scalars(stmt.order_by(Change.first_seen_at, Change.id)))


def change_to_dict(change: Change) -> dict[str, Any]:
    """Return a change in the JSON shape documented in the README."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": change.id,
        "kind": change.kind,
        "subject": change.subject,
        "stage": change.stage,
        "before": change.before,
        "after": change.after,
        "confidence": change.confidence,
        "first_seen_at": iso(change.first_seen_at),
        "confirmed_at": iso(change.confirmed_at),
        "retracted_at": iso(change.retracted_at),
        "silent": change.silent,
        "evidence": [
            {
                "url": e.url,
                "publisher": e.publisher,
                "title": e.title,
                "sentence": e.sentence,
                "official": e.official,
            }
            for e in change.evidence
        ],
    }
