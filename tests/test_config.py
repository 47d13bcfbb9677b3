"""Config validation: every problem names the file, the key and what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.config import load_config, resolve_sqlite_url
from tracker.errors import ConfigError

from .conftest import REPO, write_config


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "entities.yaml").write_text("{}\n", encoding="utf-8")
    path = tmp_path / "tracker.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """
keywords: {any: ["독파모"]}
sources:
  - {name: feed, type: rss, url: "http://127.0.0.1/feed.xml"}
"""


def test_minimal_config_loads_with_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, GOOD))
    assert config.database.url == "sqlite:///data/tracker.db"
    assert config.sources[0].name == "feed"
    assert config.entities_path == tmp_path / "entities.yaml"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD + "colour: red\n", "tracker.yaml: colour: unknown key"),
        (
            GOOD.replace('url: "http://127.0.0.1/feed.xml"', 'url: "x", fetch: 1'),
            "sources[0].fetch: unknown key",
        ),
        (GOOD.replace("type: rss", "type: gopher"), "sources[0]: unknown source type"),
        (
            GOOD + "crawl: {download_timeout: soon}\n",
            "crawl.download_timeout: Input should be a valid number",
        ),
        ("sources: []\n", "keywords: required key is missing"),
        (GOOD.replace("name: feed", "name: Bad Name"), "sources[0].name: Value error"),
        ("keywords: [unclosed\n", "invalid YAML (line"),
        ("- just\n- a list\n", "top level must be a mapping"),
        (GOOD + "  - {name: feed, type: rss, url: y}\n", "duplicate source name 'feed'"),
    ],
)
def test_invalid_config_names_file_key_and_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert message in str(info.value)
    assert str(tmp_path / "tracker.yaml") in str(info.value)


def test_missing_config_and_entities_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")
    path = _write(tmp_path, GOOD)
    (tmp_path / "entities.yaml").unlink()
    with pytest.raises(ConfigError, match="entities: file not found"):
        load_config(path)


def test_env_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, GOOD)
    monkeypatch.setenv("TRACKER_CONFIG", str(path))
    monkeypatch.setenv("TRACKER_DATABASE_URL", "sqlite:///rel/x.db")
    monkeypatch.setenv("TRACKER_HOME", str(tmp_path))
    config = load_config()
    assert config.database_url == f"sqlite:///{tmp_path / 'rel' / 'x.db'}"


def test_resolve_sqlite_url_leaves_other_urls_alone() -> None:
    assert resolve_sqlite_url("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"
    assert resolve_sqlite_url("sqlite:////abs/x.db") == "sqlite:////abs/x.db"
    assert resolve_sqlite_url("sqlite:///:memory:") == "sqlite:///:memory:"


def test_shipped_config_is_valid() -> None:
    config = load_config(REPO / "config" / "tracker.yaml")
    names = {s.name for s in config.sources}
    assert {"naver", "msit"} <= names
    assert any(
        s.type == "rss" and "news.google.com" in s.url for s in config.sources if s.type == "rss"
    )
    assert config.source("msit").official


def test_write_config_helper_produces_valid_config(tmp_path: Path) -> None:
    path = write_config(tmp_path, [{"name": "a", "type": "rss", "url": "http://x/"}])
    assert load_config(path).sources[0].name == "a"
