"""Migrations and models cannot drift: upgrade head on an empty database, then autogenerate
must find nothing to do (the `alembic check` guarantee), on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tracker.db import current_revision, head_revision, make_engine, upgrade
from tracker.models import Base


def test_upgrade_head_matches_models(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_downgrade_to_base_and_back(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)
    from alembic import command

    from tracker.db import alembic_config

    command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
