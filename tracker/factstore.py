"""Store extracted facts per article and re-extract them after a config or code change."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from tracker.facts import EXTRACTOR_VERSION, Fact, extract_facts
from tracker.facts.entities import Entities
from tracker.models import Article, FactRow, utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReextractSummary:
    articles: int
    facts_before: int
    facts_after: int


def facts_for_article(article: Article, entities: Entities) -> list[Fact]:
    """Return the facts of a stored article (pure extraction over its title and body)."""
    return extract_facts(
        article.title, article.body, article.published_at, entities, language=article.language
    )


def replace_facts(session: Session, article_id: int, facts: Iterable[Fact]) -> int:
    """Replace the article's stored facts with ``facts``; return how many were stored."""
    session.execute(delete(FactRow).where(FactRow.article_id == article_id))
    return insert_facts(session, [(article_id, fact) for fact in facts])


def insert_facts(session: Session, facts: Sequence[tuple[int, Fact]]) -> int:
    """Insert (article id, fact) pairs, all in one executemany; return how many.

    For articles that have no facts yet (new ones). A Core insert rather than ORM objects:
    the unit of work cost as much as extracting the facts, and nothing reads these rows back
    in the same session.
    """
    if not facts:
        return 0
    now = utcnow()
    session.execute(
        insert(FactRow),
        [
            {
                "article_id": article_id,
                "type": fact.type,
                "subject": fact.subject,
                "values": dict(fact.values),
                "modality": fact.modality,
                "sentence": fact.sentence,
                "start": fact.start,
                "end": fact.end,
                "language": fact.language,
                "extractor_version": EXTRACTOR_VERSION,
                "created_at": now,
            }
            for article_id, fact in facts
        ],
    )
    return len(facts)


def extract_and_store(session: Session, article: Article, entities: Entities) -> int:
    """Extract the article's facts and store them; return how many."""
    return replace_facts(session, article.id, facts_for_article(article, entities))


def reextract_all(session: Session, entities: Entities, batch: int = 200) -> ReextractSummary:
    """Re-run extraction over every stored article; articles themselves are untouched."""
    before = session.scalar(select(func.count()).select_from(FactRow)) or 0
    count = after = 0
    last_id = 0
    while True:
        articles = list(
            session.scalars(
                select(Article).where(Article.id > last_id).order_by(Article.id).limit(batch)
            )
        )
        if not articles:
            break
        for article in articles:
            after += extract_and_store(session, article, entities)
            count += 1
        last_id = articles[-1].id
        session.flush()
    return ReextractSummary(articles=count, facts_before=before, facts_after=after)


def query_facts(
    session: Session, article_id: int | None = None, fact_type: str | None = None, limit: int = 200
) -> list[FactRow]:
    """Return stored facts, newest article first."""
    stmt = select(FactRow).join(Article, Article.id == FactRow.article_id)
    if article_id is not None:
        stmt = stmt.where(FactRow.article_id == article_id)
    if fact_type is not None:
        stmt = stmt.where(FactRow.type == fact_type)
    stmt = stmt.order_by(
        Article.published_at.desc().nulls_last(), FactRow.article_id.desc(), FactRow.start
    ).limit(limit)
    return list(session.scalars(stmt))


def fact_to_dict(row: FactRow) -> dict[str, Any]:
    """Return a stored fact as a JSON-ready dict with its evidence."""
    return {
        "id": row.id,
        "article_id": row.article_id,
        "type": row.type,
        "subject": row.subject,
        "values": row.values,
        "modality": row.modality,
        "sentence": row.sentence,
        "start": row.start,
        "end": row.end,
        "language": row.language,
        "extractor_version": row.extractor_version,
    }
