"""One `tracker run` at a time: a file lock beside SQLite, an advisory lock on PostgreSQL.

A run may hand its lock over to the program it execs into (see tracker.crawlwatch): each lock
lives in one file descriptor (the locked file; the PostgreSQL session's socket), which an exec
keeps open when it is made inheritable, and closing that descriptor releases the lock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, text

logger = logging.getLogger(__name__)

# Arbitrary constant key for PostgreSQL's advisory lock around a run ("dokr").
_PG_RUN_LOCK = 0x646F6B72


class Busy(Exception):
    """Another run holds the lock."""


@dataclass(slots=True)
class RunLock:
    """A held run lock: what it is, and the descriptor whose closing releases it."""

    description: str
    fd: int | None = None

    def hand_over(self) -> int | None:
        """Let the lock survive an exec of this process; return its descriptor (None: no lock).

        Only for a process that is about to exec: the new program owns the lock from then on
        and releases it with release_handed_over() (or by exiting).
        """
        if self.fd is not None:
            os.set_inheritable(self.fd, True)
        return self.fd

    def __str__(self) -> str:
        return self.description


@contextmanager
def run_lock(engine: Engine, wait: float = 0.0, poll: float = 0.5) -> Iterator[RunLock]:
    """Hold the run lock for the block; yield it, or raise Busy.

    ``wait`` seconds are spent retrying before giving up (0: try once). The lock is released
    when the block ends or the process dies (the OS drops file locks and PostgreSQL drops
    session advisory locks with the connection), so a crashed run never blocks the next one.
    """
    backend = engine.url.get_backend_name()
    if backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        path = Path(str(engine.url.database)).with_suffix(".run.lock")
        fd = _flock(path, wait, poll)
        try:
            yield RunLock(str(path), fd)
        finally:
            os.close(fd)
    elif backend == "postgresql":
        with engine.connect() as connection:
            deadline = time.monotonic() + wait
            while not connection.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": _PG_RUN_LOCK}
            ).scalar():
                connection.rollback()
                if time.monotonic() >= deadline:
                    raise Busy("another tracker run holds the PostgreSQL advisory lock")
                time.sleep(poll)
            # The lock belongs to the session, not the transaction: end the transaction so the
            # connection does not sit "idle in transaction" for the whole run (nor leave one
            # open when a handed-over socket is closed).
            connection.commit()
            socket_fd = connection.connection.dbapi_connection.fileno()  # type: ignore[union-attr]
            try:
                yield RunLock(f"pg_advisory_lock({_PG_RUN_LOCK})", socket_fd)
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_RUN_LOCK})
                connection.commit()
    else:
        yield RunLock("no lock (in-memory database)")


def _flock(path: Path, wait: float, poll: float) -> int:
    """Return a descriptor of ``path`` holding an exclusive flock, or raise Busy.

    Plain flock rather than the filelock package: the descriptor must be handed to an exec'd
    program, and flock locks belong to the open file, so they pass with it.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                raise Busy(f"another tracker run holds {path}") from None
            time.sleep(poll)
        except OSError:
            os.close(fd)
            raise


@contextmanager
def adopted_lock(fd: int | None, description: str) -> Iterator[RunLock]:
    """Hold, for the block, a run lock that an earlier program of this process handed over.

    Closing the descriptor releases it: the last descriptor of a flock'ed file, or the socket
    of the PostgreSQL session that holds the advisory lock (the server ends the session and
    its locks when the connection closes).
    """
    try:
        yield RunLock(description, fd)
    finally:
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                logger.debug("handed-over lock descriptor %s was already closed", fd)
