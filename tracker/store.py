"""Repository functions for sources, articles and crawl runs; they take a session, never commit."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.articles import PreparedArticle
from tracker.models import (
    Article,
    ArticleBand,
    ArticleSource,
    ArticleUrl,
    CrawlRun,
    FetchFailure,
    ListingState,
    Source,
    utcnow,
)
from tracker.text import (
    band_hashes,
    estimated_jaccard,
    minhash_signature,
    signature_from_bytes,
    signature_to_bytes,
)
from tracker.urls import canonical_url, naver_canonical_url

logger = logging.getLogger(__name__)

MAX_RUN_MESSAGES = 50


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What storing one article did: ``new`` or ``duplicate`` (and of what, by which key)."""

    status: Literal["new", "duplicate"]
    article_id: int
    reason: str
    story_id: int | None = None


@dataclass(frozen=True, slots=True)
class NearDuplicateSettings:
    threshold: float = 0.7
    permutations: int = 128
    bands: int = 32


def get_or_create_source(session: Session, name: str, type_: str, official: bool) -> Source:
    """Return the Source row for a configured source, creating or updating it."""
    source = session.scalar(select(Source).where(Source.name == name))
    if source is None:
        source = Source(name=name, type=type_, official=official)
        session.add(source)
        session.flush()
    elif source.type != type_ or source.official != official:
        source.type, source.official = type_, official
    return source


def find_article_by_urls(
    session: Session, urls: Iterable[str], naver_id: tuple[str, str] | None = None
) -> int | None:
    """Return the id of the stored article known under any of ``urls`` or ``naver_id``."""
    if naver_id:
        found = session.scalar(
            select(Article.id).where(
                Article.naver_oid == naver_id[0], Article.naver_aid == naver_id[1]
            )
        )
        if found is not None:
            return found
    candidates = {canonical_url(u) for u in urls if u}
    if naver_id:
        candidates.add(naver_canonical_url(*naver_id))
    if not candidates:
        return None
    found = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url.in_(candidates)))
    if found is not None:
        return found
    return session.scalar(select(Article.id).where(Article.canonical_url.in_(candidates)))


def attach_urls(session: Session, article_id: int, urls: dict[str, str]) -> int:
    """Record the URLs an article is known under; return how many were new."""
    if not urls:
        return 0
    existing = set(session.scalars(select(ArticleUrl.url).where(ArticleUrl.url.in_(list(urls)))))
    added = 0
    for url, kind in urls.items():
        if url in existing:
            continue
        # A savepoint per URL: another process may record the same URL at the same moment.
        try:
            with session.begin_nested():
                session.add(ArticleUrl(url=url, kind=kind, article_id=article_id))
            added += 1
        except IntegrityError:
            logger.debug("URL %s was recorded concurrently", url)
    return added


def attach_source(session: Session, article_id: int, source_id: int) -> bool:
    """Record that ``source_id`` listed ``article_id``; return True when that is new."""
    exists = session.scalar(
        select(ArticleSource.id).where(
            ArticleSource.article_id == article_id, ArticleSource.source_id == source_id
        )
    )
    if exists is not None:
        return False
    try:
        with session.begin_nested():
            session.add(ArticleSource(article_id=article_id, source_id=source_id))
    except IntegrityError:
        return False
    return True


def store_article(
    session: Session,
    article: PreparedArticle,
    source_id: int,
    near: NearDuplicateSettings | None = None,
) -> StoreOutcome:
    """Store ``article`` once: a known URL, Naver id or content hash makes it a duplicate.

    The lookups are an optimisation; the unique constraints on canonical URL, (oid, aid),
    content hash and URL are the guarantee, so a concurrent insert that wins the race turns
    this call into a duplicate rather than a second row.
    """
    existing = _find_duplicate(session, article)
    if existing is not None:
        article_id, reason = existing
        attach_urls(session, article_id, _as_aliases(article.urls))
        attach_source(session, article_id, source_id)
        return StoreOutcome("duplicate", article_id, reason, _story_of(session, article_id))
    parsed = article.parsed
    signature = minhash_signature(article.body, (near or NearDuplicateSettings()).permutations)
    row = Article(
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
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = _find_duplicate(session, article)
        if existing is None:
            raise
        article_id, reason = existing
        attach_urls(session, article_id, _as_aliases(article.urls))
        attach_source(session, article_id, source_id)
        return StoreOutcome("duplicate", article_id, reason + " (concurrent)")
    row.story_id = _assign_story(session, row.id, signature, near or NearDuplicateSettings())
    attach_urls(session, row.id, article.urls)
    attach_source(session, row.id, source_id)
    return StoreOutcome("new", row.id, "new", row.story_id)


def _as_aliases(urls: dict[str, str]) -> dict[str, str]:
    """Return a duplicate's URLs for the stored article: its own canonical URL is an alias."""
    return {url: "alias" if kind == "canonical" else kind for url, kind in urls.items()}


def _find_duplicate(session: Session, article: PreparedArticle) -> tuple[int, str] | None:
    if article.naver_id:
        found = session.scalar(
            select(Article.id).where(
                Article.naver_oid == article.naver_id[0], Article.naver_aid == article.naver_id[1]
            )
        )
        if found is not None:
            return found, "naver_id"
    found = session.scalar(select(Article.id).where(Article.canonical_url == article.canonical_url))
    if found is not None:
        return found, "canonical_url"
    found = session.scalar(
        select(ArticleUrl.article_id).where(ArticleUrl.url.in_(list(article.urls)))
    )
    if found is not None:
        return found, "url"
    found = session.scalar(select(Article.id).where(Article.content_hash == article.content_hash))
    if found is not None:
        return found, "content_hash"
    return None


def _story_of(session: Session, article_id: int) -> int | None:
    return session.scalar(select(Article.story_id).where(Article.id == article_id))


def _assign_story(
    session: Session, article_id: int, signature: np.ndarray, near: NearDuplicateSettings
) -> int:
    """Return the story (near-duplicate group) of a new article and index its LSH bands."""
    sig = np.asarray(signature, dtype=np.uint64)
    hashes = band_hashes(sig, near.bands)
    conditions = [
        (ArticleBand.band == band) & (ArticleBand.hash == value)
        for band, value in enumerate(hashes)
    ]
    candidate_ids = set(
        session.scalars(
            select(ArticleBand.article_id).where(or_(*conditions)).distinct().limit(200)
        )
    )
    best: tuple[float, int] | None = None
    if candidate_ids:
        rows = session.execute(
            select(Article.id, Article.story_id, Article.minhash).where(
                Article.id.in_(candidate_ids)
            )
        )
        for other_id, story_id, blob in rows:
            if blob is None:
                continue
            similarity = estimated_jaccard(sig, signature_from_bytes(blob))
            if similarity >= near.threshold and (best is None or similarity > best[0]):
                best = (similarity, story_id or other_id)
    session.add_all(
        ArticleBand(article_id=article_id, band=band, hash=value)
        for band, value in enumerate(hashes)
    )
    return best[1] if best else article_id


def record_fetch_failure(
    session: Session,
    url: str,
    error: str,
    permanent: bool,
    kind: str = "error",
    now: datetime | None = None,
) -> FetchFailure:
    """Count a failed (or keyword-filtered) fetch of an article URL."""
    key = canonical_url(url)
    failure = session.scalar(select(FetchFailure).where(FetchFailure.url == key))
    if failure is None:
        failure = FetchFailure(url=key, attempts=0, last_error="")
        session.add(failure)
    failure.kind = kind
    failure.attempts += 1
    failure.permanent = permanent
    failure.last_error = error[:2000]
    failure.last_attempt_at = now or utcnow()
    return failure


def skip_reason(session: Session, url: str, max_attempts: int, filter_key: str) -> str | None:
    """Return why ``url`` need not be fetched again ("filtered", "failed"), or None.

    That is when it failed permanently ``max_attempts`` times, or was fetched and found to
    mention no keyword under the same keyword configuration (``filter_key``); after the
    keywords change it is fetched again.
    """
    failure = session.scalar(select(FetchFailure).where(FetchFailure.url == canonical_url(url)))
    if failure is None:
        return None
    if failure.kind == "filtered":
        return "filtered" if failure.last_error == filter_key else None
    return "failed" if failure.permanent and failure.attempts >= max_attempts else None


def clear_fetch_failure(session: Session, urls: Iterable[str]) -> None:
    """Forget failures of URLs that have now been fetched."""
    keys = [canonical_url(u) for u in urls]
    for failure in session.scalars(select(FetchFailure).where(FetchFailure.url.in_(keys))):
        session.delete(failure)


def get_listing_state(session: Session, source_id: int, url: str) -> ListingState | None:
    """Return the conditional-GET validators kept for a listing URL."""
    return session.scalar(
        select(ListingState).where(ListingState.source_id == source_id, ListingState.url == url)
    )


def save_listing_state(
    session: Session, source_id: int, url: str, etag: str | None, last_modified: str | None
) -> None:
    """Keep a listing URL's ETag and Last-Modified for the next run."""
    state = get_listing_state(session, source_id, url)
    if state is None:
        state = ListingState(source_id=source_id, url=url)
        session.add(state)
    state.etag, state.last_modified, state.checked_at = etag, last_modified, utcnow()


def start_run(session: Session, run_group: str, source_id: int) -> CrawlRun:
    """Create the CrawlRun row of one source in a crawl."""
    run = CrawlRun(run_group=run_group, source_id=source_id, status="running", messages=[])
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session, run_id: int, counts: dict[str, int], status: str, messages: Sequence[str]
) -> None:
    """Store the final counts, status and (capped) error messages of a CrawlRun."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    for key in ("listed", "fetched", "new", "duplicate", "filtered", "errors", "skipped"):
        setattr(run, key, int(counts.get(key, 0)))
    run.status = status
    run.messages = list(messages)[:MAX_RUN_MESSAGES]
    run.finished_at = utcnow()


def runs_in_group(session: Session, run_group: str) -> list[CrawlRun]:
    """Return the CrawlRun rows of one crawl, in source order."""
    return list(
        session.scalars(
            select(CrawlRun).where(CrawlRun.run_group == run_group).order_by(CrawlRun.id)
        )
    )


def last_runs(session: Session) -> dict[str, CrawlRun]:
    """Return each source's most recent CrawlRun, keyed by source name."""
    latest = (
        select(CrawlRun.source_id, func.max(CrawlRun.id).label("run_id"))
        .group_by(CrawlRun.source_id)
        .subquery()
    )
    rows = session.scalars(select(CrawlRun).join(latest, CrawlRun.id == latest.c.run_id))
    return {run.source.name: run for run in rows}
