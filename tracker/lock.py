"""One `tracker run` at a time: a file lock beside SQLite, an advisory lock on PostgreSQL."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import Engine, text

logger = logging.getLogger(__name__)

# Arbitrary constant key for PostgreSQL's advisory lock around a run ("dokr").
_PG_RUN_LOCK = 0x646F6B72


class Busy(Exception):
    """Another run holds the lock."""


@contextmanager
def run_lock(engine: Engine, wait: float = 0.0, poll: float = 0.5) -> Iterator[str]:
    """Hold the run lock for the block; yield a description of it, or raise Busy.

    ``wait`` seconds are spent retrying before giving up (0: try once). The lock is released
    when the block ends or the process dies (the OS drops file locks and PostgreSQL drops
    session advisory locks with the connection), so a crashed run never blocks the next one.
    """
    backend = engine.url.get_backend_name()
    if backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        path = Path(str(engine.url.database)).with_suffix(".run.lock")
        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=wait if wait > 0 else 0, poll_interval=poll)
        except Timeout:
            raise Busy(f"another tracker run holds {path}") from None
        try:
            yield str(path)
        finally:
            lock.release()
    elif backend == "postgresql":
        with engine.connect() as connection:
            deadline = time.monotonic() + wait
            while not connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_RUN_LOCK}
            ).scalar():
                if time.monotonic() >= deadline:
                    raise Busy("another tracker run holds the PostgreSQL advisory lock")
                time.sleep(poll)
            try:
                yield f"pg_advisory_lock({_PG_RUN_LOCK})"
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_RUN_LOCK})
                connection.commit()
    else:
        yield "no lock (in-memory database)"
