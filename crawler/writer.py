"""The archive writer: stores batches of articles in its own process, with its own connection.

Storing a batch (dedupe lookups, inserts, MinHash stories) is CPU work for Python; done on the
reactor's thread it held up every download. A single writer process keeps writes serialized,
as SQLite wants them, and the reactor only hands it pickled batches.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from tracker.archive import NearDuplicateSettings, Pending, StoreOutcome, store_batch
from tracker.db import Database
from tracker.store import clear_fetch_failure

logger = logging.getLogger(__name__)

_database: Database | None = None
RETRIES = 3


class WriteFailed(Exception):
    """A batch could not be stored; the message says why (picklable, unlike driver errors)."""


def open_writer(database_url: str) -> None:
    """Open this process's database connection (a worker initializer)."""
    global _database
    _database = Database(database_url, migrate=False)


def write_batch(
    batch: Sequence[Pending], near: NearDuplicateSettings, fetched_urls: Sequence[str]
) -> list[StoreOutcome]:
    """Store ``batch`` in one transaction and forget the fetch failures of ``fetched_urls``.

    A batch that races another crawler process (IntegrityError on a unique constraint) is
    retried in a new transaction, where the other process's rows are then found as duplicates.
    """
    if _database is None:
        raise WriteFailed("writer used before open_writer()")
    last_error = ""
    for attempt in range(1, RETRIES + 1):
        try:
            with _database.begin() as session:
                outcomes = store_batch(session, batch, near)
                clear_fetch_failure(session, fetched_urls)
            return outcomes
        except IntegrityError as exc:
            last_error = str(exc.orig)
            logger.info("Batch raced another writer (attempt %d): %s", attempt, last_error)
        except SQLAlchemyError as exc:
            raise WriteFailed(f"database error: {exc}") from None
    raise WriteFailed(f"could not store the batch after {RETRIES} attempts: {last_error}")


def close_writer() -> None:
    """Close this process's connections (inline mode)."""
    global _database
    if _database is not None:
        _database.dispose()
        _database = None
