"""Repository functions for sources, fetch failures, listing state and crawl runs; never commit."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from tracker.models import (
    CrawlRun,
    FetchFailure,
    ListingState,
    Source,
    utcnow,
)
from tracker.urls import canonical_url

logger = logging.getLogger(__name__)

MAX_RUN_MESSAGES = 50
_CHUNK = 900  # IN lists under SQLite's oldest variable limit (999)


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


# A URL this plain (lowercase http(s) host, a port that is not 0-padded, a path of non-empty
# segments, no query, fragment or spaces) is its own canonical form: canonical_url would only
# parse and rebuild it. (Default ports, :80 and :443, still go through canonical_url.)
_PLAIN_URL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[1-9][0-9]{0,4})?(?:/[^/?#\s]+)+")
_DEFAULT_PORT = re.compile(r"^(?:http://[^/]+:80|https://[^/]+:443)/")


@contextmanager
def dbapi_errors(dialect: Dialect, statement: str) -> Iterator[None]:
    """Raise a driver's error from a statement run on a DBAPI cursor as SQLAlchemy's (an
    IntegrityError as sqlalchemy.exc.IntegrityError …), as if SQLAlchemy had run it: callers
    such as the writer's retry of a lost race catch those."""
    base = dialect.loaded_dbapi.Error
    try:
        yield
    except base as exc:
        raise DBAPIError.instance(statement, None, exc, base, dialect=dialect) from exc


def failure_key(url: str) -> str:
    """Return the key a fetch failure of ``url`` is recorded under (its canonical URL)."""
    if _PLAIN_URL.fullmatch(url) and not _DEFAULT_PORT.match(url):
        return url
    return canonical_url(url)


def clear_fetch_failure(session: Session, urls: Iterable[str]) -> None:
    """Forget failures of URLs that have now been fetched.

    The writer calls this for every batch with all its URLs (hundreds), so it is one plain
    DELETE on the DBAPI cursor, and most URLs need no parsing (see failure_key).
    """
    keys = sorted({failure_key(u) for u in urls})
    if not keys:
        return
    session.flush()  # failures recorded in this session must be in the table to be cleared
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    cursor = connection.connection.cursor()
    for start in range(0, len(keys), _CHUNK):
        chunk = keys[start : start + _CHUNK]
        sql = f"DELETE FROM fetch_failures WHERE url IN ({', '.join([mark] * len(chunk))})"
        with dbapi_errors(connection.dialect, sql):
            cursor.execute(sql, tuple(chunk))


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
    session: Session,
    run_id: int,
    counts: dict[str, int],
    status: str,
    messages: Sequence[str],
    not_modified: bool = False,
) -> None:
    """Store the final counts, status and (capped) error messages of a CrawlRun."""
    run = session.get(CrawlRun, run_id)
    if run is None:
        return
    for key in (
        "listed",
        "fetched",
        "new",
        "duplicate",
        "filtered",
        "errors",
        "skipped",
        "extraction_errors",
    ):
        setattr(run, key, int(counts.get(key, 0)))
    run.status = status
    run.not_modified = not_modified
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
