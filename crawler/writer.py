"""The archive writer: stores batches of articles off the reactor's thread, on its own connection.

Done on the reactor's thread, storing a batch (dedupe lookups, inserts, MinHash stories) held up
every download. One writer keeps writes serialized, as SQLite wants them. It runs as a thread of
the crawl process by default (crawler.pipelines.store): a thread costs no second interpreter
(about 80 MB), and much of a batch's time is spent in the database drivers, which release the
GIL. The facts of new articles are extracted here too: measured on 2 cores, that keeps the
crawl faster than extracting them in the parse worker, which is the busier process. As a process
the writer takes pickled batches instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from tracker.archive import NearDuplicateSettings, Pending, StoreOutcome, store_batch
from tracker.db import Database
from tracker.facts import Fact, extract_facts
from tracker.facts.entities import Entities, load_entities
from tracker.factstore import insert_facts
from tracker.store import clear_fetch_failure

logger = logging.getLogger(__name__)

_database: Database | None = None
_entities: Entities | None = None
RETRIES = 3
# Deadlock and serialization failure: transient, retried like a race.
_TRANSIENT_SQLSTATES = {"40P01", "40001"}


class WriteFailed(Exception):
    """A batch could not be stored; the message says why (picklable, unlike driver errors)."""


def open_writer(database_url: str, entities_path: str) -> None:
    """Open the writer's database connection and load the entities (the pool's initializer)."""
    global _database, _entities
    _database = Database(database_url, migrate=False)
    _entities = load_entities(Path(entities_path))


def write_batch(
    batch: Sequence[Pending], near: NearDuplicateSettings, fetched_urls: Sequence[str]
) -> list[StoreOutcome]:
    """Store ``batch`` and the facts of its new articles in one transaction, and forget the
    fetch failures of ``fetched_urls``.

    A batch that races another crawler process (IntegrityError on a unique constraint) is
    retried in a new transaction, where the other process's rows are then found as duplicates.
    """
    if _database is None or _entities is None:
        raise WriteFailed("writer used before open_writer()")
    last_error = ""
    for attempt in range(1, RETRIES + 1):
        try:
            with _database.begin() as session:
                outcomes = store_batch(session, batch, near)
                insert_facts(
                    session,
                    [
                        (outcome.article_id, fact)
                        for pending, outcome in zip(batch, outcomes, strict=True)
                        if outcome.status == "new"
                        for fact in _facts(pending, _entities)
                    ],
                )
                clear_fetch_failure(session, fetched_urls)
            return outcomes
        except IntegrityError as exc:
            last_error = str(exc.orig)
            logger.info("Batch raced another writer (attempt %d): %s", attempt, last_error)
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) not in _TRANSIENT_SQLSTATES:
                raise WriteFailed(f"database error: {exc}") from None
            last_error = str(exc.orig)
            logger.info("Batch deadlocked with another writer (attempt %d): %s", attempt, exc.orig)
        except SQLAlchemyError as exc:
            raise WriteFailed(f"database error: {exc}") from None
    raise WriteFailed(f"could not store the batch after {RETRIES} attempts: {last_error}")


def _facts(pending: Pending, entities: Entities) -> list[Fact]:
    """Return the facts of a newly stored article."""
    article = pending.article
    return extract_facts(
        article.title,
        article.body,
        article.parsed.published_at,
        entities,
        language=article.parsed.language,
    )


def close_writer() -> None:
    """Close the writer's connections (when it ran in this process: thread or inline mode)."""
    global _database
    if _database is not None:
        _database.dispose()
        _database = None
