"""Store articles once, in batches: dedupe keys, near-duplicate stories, URL and source links.

Functions take a session and never commit. Lookups before inserting make the common case cheap;
the unique constraints (canonical URL, Naver oid/aid, content hash, URL, article×source) are the
guarantee: when another process inserts the same article between our lookup and our insert, the
flush raises IntegrityError and the caller retries the batch in a new transaction, where the
other process's row is then found as a duplicate.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from tracker.articles import PreparedArticle
from tracker.models import Article, ArticleBand, ArticleSource, ArticleUrl, Base, FetchFailure
from tracker.text import (
    band_hashes,
    minhash_signature,
    signature_from_bytes,
    signature_to_bytes,
)
from tracker.urls import canonical_url, naver_canonical_url

logger = logging.getLogger(__name__)

# Keep IN (...) lists well under SQLite's and PostgreSQL's parameter limits.
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class NearDuplicateSettings:
    threshold: float = 0.7
    permutations: int = 128
    band_rows: int = 6


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What storing one article did: ``new`` or ``duplicate`` (of which article, by which key)."""

    status: Literal["new", "duplicate"]
    article_id: int
    reason: str
    story_id: int | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """One article to store and every source that listed it."""

    article: PreparedArticle
    source_ids: Sequence[int]


@dataclass(frozen=True, slots=True)
class LeadKeys:
    """What a listing says about a lead: the URLs it gave and the Naver id they imply."""

    urls: Sequence[str]
    naver_id: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class LeadTriage:
    """Whether a lead needs fetching: the known article, or why not to fetch it again."""

    known_article_id: int | None = None
    skip: str | None = None  # "filtered" | "failed"


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def insert_ignore(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``, silently skipping those that violate a unique constraint."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(model).on_conflict_do_nothing(), list(rows))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(model).on_conflict_do_nothing(), list(rows))
    else:  # pragma: no cover - other engines take the slow, portable path
        from sqlalchemy.exc import IntegrityError

        for row in rows:
            try:
                with session.begin_nested():
                    session.add(model(**row))
            except IntegrityError:
                continue


class _KnownKeys:
    """Dedupe keys already stored, loaded in a few IN queries for a whole batch."""

    def __init__(self, session: Session, articles: Sequence[PreparedArticle]) -> None:
        naver_ids = sorted({a.naver_id for a in articles if a.naver_id})
        canonicals = sorted({a.canonical_url for a in articles})
        urls = sorted({u for a in articles for u in a.urls})
        hashes = sorted({a.content_hash for a in articles})
        self.by_naver = _lookup_naver(session, naver_ids)
        self.by_canonical = _lookup(session, Article.canonical_url, Article.id, canonicals)
        self.by_url = _lookup(session, ArticleUrl.url, ArticleUrl.article_id, urls)
        self.by_hash = _lookup(session, Article.content_hash, Article.id, hashes)

    def match(self, article: PreparedArticle) -> tuple[int, str] | None:
        if article.naver_id and article.naver_id in self.by_naver:
            return self.by_naver[article.naver_id], "naver_id"
        if article.canonical_url in self.by_canonical:
            return self.by_canonical[article.canonical_url], "canonical_url"
        for url in article.urls:
            if url in self.by_url:
                return self.by_url[url], "url"
        if article.content_hash in self.by_hash:
            return self.by_hash[article.content_hash], "content_hash"
        return None

    def add(self, article: PreparedArticle, article_id: int) -> None:
        if article.naver_id:
            self.by_naver[article.naver_id] = article_id
        self.by_canonical[article.canonical_url] = article_id
        for url in article.urls:
            self.by_url.setdefault(url, article_id)
        self.by_hash[article.content_hash] = article_id


def _lookup(session: Session, key: Any, value: Any, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        found.update({k: v for k, v in session.execute(select(key, value).where(key.in_(chunk)))})
    return found


def _lookup_naver(session: Session, ids: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Return the stored article id of each known Naver (oid, aid)."""
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Article.naver_oid, Article.naver_aid, Article.id).where(
                tuple_(Article.naver_oid, Article.naver_aid).in_(chunk)
            )
        )
        found.update({(oid, aid): id_ for oid, aid, id_ in rows})
    return found


def _new_row(article: PreparedArticle, source_id: int, signature: np.ndarray) -> Article:
    parsed = article.parsed
    return Article(
        canonical_url=article.canonical_url,
        naver_oid=article.naver_id[0] if article.naver_id else None,
        naver_aid=article.naver_id[1] if article.naver_id else None,
        content_hash=article.content_hash,
        title=article.title,
        body=article.body,
        publisher=parsed.publisher,
        authors=list(parsed.authors),
        published_at=parsed.published_at,
        modified_at=parsed.modified_at,
        section=parsed.section,
        language=parsed.language,
        description=parsed.description,
        original_url=parsed.original_url,
        extractor=parsed.extractor,
        first_source_id=source_id,
        minhash=signature_to_bytes(signature),
    )


def store_batch(
    session: Session, batch: Sequence[Pending], near: NearDuplicateSettings | None = None
) -> list[StoreOutcome]:
    """Store a batch of articles, each once; return one outcome per input, in order.

    An article is a duplicate when its Naver id, canonical URL, any of its URLs or its content
    hash is already stored (or earlier in the batch). Its URLs and sources are then recorded
    against the stored article. New articles get a story (near-duplicate group) via MinHash LSH.
    """
    near = near or NearDuplicateSettings()
    known = _KnownKeys(session, [p.article for p in batch])
    # Per input: (existing article id or the new row, reason).
    resolved: list[tuple[int | Article, str]] = []
    new_rows: list[tuple[Article, np.ndarray]] = []
    in_batch: dict[int, Article] = {}  # placeholder id -> row, for duplicates inside the batch
    for pending in batch:
        match = known.match(pending.article)
        if match is not None:
            target, reason = match
            resolved.append((in_batch.get(target, target), reason))
            continue
        if pending.article.signature is not None:
            signature = signature_from_bytes(pending.article.signature)
        else:
            signature = minhash_signature(pending.article.body, near.permutations)
        row = _new_row(pending.article, pending.source_ids[0], signature)
        new_rows.append((row, signature))
        placeholder = -len(new_rows)  # negative: cannot collide with a database id
        in_batch[placeholder] = row
        known.add(pending.article, placeholder)
        resolved.append((row, "new"))
    session.add_all(row for row, _ in new_rows)
    session.flush()
    stories = _assign_stories(session, [(row.id, sig) for row, sig in new_rows], near)
    for row, _ in new_rows:
        row.story_id = stories[row.id]
    ids = [target.id if isinstance(target, Article) else target for target, _ in resolved]
    duplicate_ids = sorted({i for (t, r), i in zip(resolved, ids, strict=True) if r != "new"})
    story_of = dict(stories)
    for chunk in _chunks(duplicate_ids):
        rows = session.execute(select(Article.id, Article.story_id).where(Article.id.in_(chunk)))
        story_of.update({article_id: story_id for article_id, story_id in rows})
    url_rows: list[dict[str, Any]] = []
    source_rows: list[dict[str, Any]] = []
    outcomes: list[StoreOutcome] = []
    for pending, (target, reason), article_id in zip(batch, resolved, ids, strict=True):
        fresh = reason == "new" and isinstance(target, Article)
        for url, kind in pending.article.urls.items():
            # A duplicate's own canonical URL is an alias of the stored article.
            kind = kind if fresh or kind != "canonical" else "alias"
            url_rows.append({"url": url, "kind": kind, "article_id": article_id})
        source_rows.extend(
            {"article_id": article_id, "source_id": source_id} for source_id in pending.source_ids
        )
        status: Literal["new", "duplicate"] = "new" if fresh else "duplicate"
        outcomes.append(StoreOutcome(status, article_id, reason, story_of.get(article_id)))
    insert_ignore(session, ArticleUrl, _unique(url_rows, "url"))
    insert_ignore(session, ArticleSource, _unique(source_rows, "article_id", "source_id"))
    return outcomes


def _unique(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique


def store_article(
    session: Session,
    article: PreparedArticle,
    source_id: int,
    near: NearDuplicateSettings | None = None,
) -> StoreOutcome:
    """Store one article (see store_batch)."""
    return store_batch(session, [Pending(article, [source_id])], near)[0]


def _assign_stories(
    session: Session, new: Sequence[tuple[int, np.ndarray]], near: NearDuplicateSettings
) -> dict[int, int]:
    """Return each new article's story id and index its LSH bands.

    Candidates are articles sharing at least one band hash (an indexed query, so memory does not
    grow with the archive); a candidate joins when the estimated Jaccard similarity reaches the
    threshold. Articles of the same batch are candidates of each other, in order.
    """
    if not new:
        return {}
    bands = {article_id: band_hashes(sig, near.band_rows) for article_id, sig in new}
    all_hashes = sorted({h for hashes in bands.values() for h in hashes})
    by_band: dict[tuple[int, int], list[int]] = defaultdict(list)
    connection = session.connection()  # Core rows: the ORM's row processing cost more here
    for chunk in _chunks(all_hashes):
        for article_id, band, value in connection.execute(
            select(ArticleBand.article_id, ArticleBand.band, ArticleBand.hash).where(
                ArticleBand.hash.in_(chunk)
            )
        ):
            by_band[(band, value)].append(article_id)
    candidate_ids = sorted({i for ids in by_band.values() for i in ids})
    signatures: dict[int, np.ndarray] = {}
    story_of: dict[int, int] = {}
    for chunk in _chunks(candidate_ids):
        for other_id, story_id, blob in connection.execute(
            select(Article.id, Article.story_id, Article.minhash).where(Article.id.in_(chunk))
        ):
            if blob is not None:
                signatures[other_id] = signature_from_bytes(blob)
                story_of[other_id] = story_id or other_id
    band_rows: list[dict[str, int]] = []
    for article_id, signature in new:
        best: tuple[float, int] | None = None
        candidates = {
            other
            for band, value in enumerate(bands[article_id])
            for other in by_band.get((band, value), ())
        }
        others = [o for o in sorted(candidates) if o in signatures]
        if others:
            # One vectorized comparison against every candidate signature.
            similarity = (np.stack([signatures[o] for o in others]) == signature).mean(axis=1)
            index = int(np.argmax(similarity))
            if similarity[index] >= near.threshold:
                best = (float(similarity[index]), story_of[others[index]])
        story_of[article_id] = best[1] if best else article_id
        signatures[article_id] = signature
        for band, value in enumerate(bands[article_id]):
            by_band[(band, value)].append(article_id)
            band_rows.append({"article_id": article_id, "band": band, "hash": value})
    connection.execute(ArticleBand.__table__.insert(), band_rows)
    return {article_id: story_of[article_id] for article_id, _ in new}


def triage_leads(
    session: Session, leads: Sequence[LeadKeys], max_attempts: int, filter_key: str
) -> list[LeadTriage]:
    """Return, per lead, the stored article it points to or why not to fetch it again."""
    candidates: list[set[str]] = []
    for lead in leads:
        keys = {canonical_url(u) for u in lead.urls if u}
        if lead.naver_id:
            keys.add(naver_canonical_url(*lead.naver_id))
        candidates.append(keys)
    all_urls = sorted(set().union(*candidates)) if candidates else []
    by_url = _lookup(session, ArticleUrl.url, ArticleUrl.article_id, all_urls)
    by_url.update(_lookup(session, Article.canonical_url, Article.id, all_urls))
    naver_ids = sorted({lead.naver_id for lead in leads if lead.naver_id})
    by_naver = _lookup_naver(session, naver_ids)
    failures: dict[str, FetchFailure] = {}
    for chunk in _chunks(all_urls):
        failures.update(
            {
                f.url: f
                for f in session.scalars(select(FetchFailure).where(FetchFailure.url.in_(chunk)))
            }
        )
    result = []
    for lead, keys in zip(leads, candidates, strict=True):
        known = by_naver.get(lead.naver_id) if lead.naver_id else None
        if known is None:
            known = next((by_url[k] for k in sorted(keys) if k in by_url), None)
        if known is not None:
            result.append(LeadTriage(known_article_id=known))
            continue
        skip = None
        for key in sorted(keys):
            failure = failures.get(key)
            if failure is None:
                continue
            if failure.kind == "filtered" and failure.last_error == filter_key:
                skip = "filtered"
            elif (
                failure.kind != "filtered"
                and failure.permanent
                and failure.attempts >= max_attempts
            ):
                skip = "failed"
        result.append(LeadTriage(skip=skip))
    return result


def attach_sources(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Record (article_id, source_id) listings, ignoring those already recorded."""
    insert_ignore(
        session,
        ArticleSource,
        _unique([{"article_id": a, "source_id": s} for a, s in pairs], "article_id", "source_id"),
    )
