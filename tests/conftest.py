"""Shared fixtures: isolation from the machine, temporary configs and databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_SAMPLES = SHARED / "real-samples"
ENTITIES = REPO / "config" / "entities.yaml"

_ISOLATED_ENV = (
    "TRACKER_CONFIG",
    "TRACKER_DATABASE_URL",
    "NAVER_CLIENT_ID",
    "NAVER_CLIENT_SECRET",
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Keep every test away from the user's config, database, keys and proxies."""
    for name in _ISOLATED_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("TERM", "dumb")
    yield tmp_path


def write_config(directory: Path, sources: list[dict[str, Any]], **overrides: Any) -> Path:
    """Write a tracker.yaml (and an entities.yaml) into ``directory``; return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    entities = directory / "entities.yaml"
    if ENTITIES.is_file():
        entities.write_bytes(ENTITIES.read_bytes())
    else:
        entities.write_text("{}\n", encoding="utf-8")
    data: dict[str, Any] = {
        "database": {"url": f"sqlite:///{directory / 'tracker.db'}"},
        "keywords": {"any": ["독자 AI 파운데이션 모델", "독파모", "국가대표 AI", "sovereign AI"]},
        "crawl": {"download_timeout": 3, "retry_times": 1, "concurrent_requests": 8},
        "sources": sources,
    }
    for key, value in overrides.items():
        data[key] = value
    path = directory / "tracker.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    """A minimal valid config with one RSS source."""
    return write_config(
        tmp_path / "cfg", [{"name": "feed", "type": "rss", "url": "http://127.0.0.1:9/feed.xml"}]
    )


def requires_real_samples() -> Any:
    return pytest.mark.skipif(not REAL_SAMPLES.is_dir(), reason="../shared/real-samples absent")


def env_without(*names: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in names}


POSTGRES_ADMIN_URL = os.environ.get(
    "TRACKER_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_available() -> str | None:
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any driver/connection problem means "not available"
        return str(exc).splitlines()[0]
    return None


def require_service(service: str, problem: str | None) -> None:
    """Go on when ``problem`` is None; else fail in CI (the service must run there), skip here."""
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{service} is required in CI but unavailable: {problem}")
        pytest.skip(f"{service} unavailable: {problem}")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    from sqlalchemy import create_engine, text

    require_service("PostgreSQL", _postgres_available())
    name = f"tracker_test_{os.getpid()}_{os.urandom(3).hex()}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))
