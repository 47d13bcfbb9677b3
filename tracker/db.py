"""Engine, the one sessionmaker, and Alembic migrations applied on first use."""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from filelock import FileLock
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from tracker.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# Alembic is imported inside the functions that use it: a crawl process whose parent already
# migrated the database never needs it, and it costs 0.2 s to import.

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary constant key for PostgreSQL's advisory lock around migrations.
_PG_MIGRATION_LOCK = 0x646F6B70


def make_engine(url: str, echo: bool = False) -> Engine:
    """Return an engine; SQLite gets WAL, foreign keys and a busy timeout, its folder is created."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise DatabaseError(f"cannot use database {parsed.render_as_string()}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Return the sessionmaker; sessions are opened only at the edges (CLI, job, pipeline)."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> AlembicConfig:
    """Return an Alembic config bound to ``engine`` (no alembic.ini needed)."""
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def current_revision(engine: Engine) -> str | None:
    """Return the database's Alembic revision, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """Return the newest migration's revision id."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    """Hold a cross-process lock so concurrent first runs do not migrate twice."""
    backend = engine.url.get_backend_name()
    if backend == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        with FileLock(str(engine.url.database) + ".migrate.lock", timeout=120):
            yield
    elif backend == "postgresql":
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_MIGRATION_LOCK})
                connection.commit()
    else:
        yield


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    from alembic import command

    with _migration_lock(engine):
        command.upgrade(alembic_config(engine), revision)


_REVISION_LINE = re.compile(r'^(down_revision|revision)\b[^=]*=\s*(?:"([^"]*)"|None)', re.MULTILINE)


@functools.cache  # the files do not change while the process runs
def declared_head() -> str | None:
    """Return the head revision as the migration files declare it, without importing them.

    Alembic finds the head by importing every migration module (one imports numpy): most
    processes open a database that is already at head and need neither. None when the files
    do not name exactly one head in the plain form every migration here uses.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        found = dict(_REVISION_LINE.findall(path.read_text("utf-8")))
        if "revision" not in found or "down_revision" not in found:
            return None
        revisions.add(found["revision"])
        if found["down_revision"]:
            parents.add(found["down_revision"])
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stored_revision(engine: Engine) -> str | None:
    """Return the revision in alembic_version with plain SQL; None when there is none (yet)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except SQLAlchemyError:  # no alembic_version table: a new database
        return None
    return rows[0][0] if len(rows) == 1 else None


def ensure_schema(engine: Engine) -> None:
    """Upgrade the database to head when it is behind (first use included)."""
    try:
        head = declared_head()
        if head is not None and _stored_revision(engine) == head:
            return  # the usual case, settled without importing Alembic
        target = head_revision()
        if current_revision(engine) != target:
            logger.info("Upgrading database schema to %s", target)
            upgrade(engine)
    except SQLAlchemyError as exc:
        where = engine.url.render_as_string()
        raise DatabaseError(f"cannot open database {where}: {exc}") from None


class Database:
    """The engine and its sessionmaker, built once per process from a URL."""

    def __init__(self, url: str, echo: bool = False, migrate: bool = True) -> None:
        self.engine = make_engine(url, echo=echo)
        if migrate:
            ensure_schema(self.engine)
        self.sessions = make_sessionmaker(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """Yield a session in a transaction committed on success, rolled back on error."""
        with self.sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        """Close all pooled connections."""
        self.engine.dispose()
