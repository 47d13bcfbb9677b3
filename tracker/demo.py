"""`tracker demo`: the whole pipeline offline, on the bundled news world, into a temporary DB."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

from tracker.config import load_config
from tracker.cycle import track
from tracker.db import Database
from tracker.facts.entities import load_entities
from tracker.report import build_report
from tracker.runner import run_crawl
from tracker.world.server import NewsWorld

ENTITIES = Path(__file__).resolve().parent.parent / "config" / "entities.yaml"
DEMO_KEYWORDS = ["독자 AI 파운데이션 모델", "독파모", "국가대표 AI", "sovereign AI"]


def demo_config(world: NewsWorld, directory: Path) -> Path:
    """Write a config whose every source is the local world; return its path."""
    base = world.base_url
    entities = directory / "entities.yaml"
    entities.write_bytes(_entities_bytes())
    config = {
        "database": {"url": f"sqlite:///{directory / 'demo.db'}"},
        "keywords": {"any": DEMO_KEYWORDS},
        "crawl": {"download_timeout": 5, "naver_hosts": [f"127.0.0.1:{world.port}"]},
        "alerts": {"enabled": False},
        "sources": [
            {
                "name": "naver",
                "type": "naver_api",
                "endpoint": f"{base}/v1/search/news.json",
                "queries": ["독파모", "독자 AI 파운데이션 모델"],
            },
            _rss("google-news", f"{base}/rss/search?q=%EB%8F%85%ED%8C%8C%EB%AA%A8"),
            _rss("msit", f"{base}/rss/msit.xml", official=True, fetch_all=True),
            {
                "name": "msit-board",
                "type": "msit_board",
                "url": f"{base}/bbs/list.do?sCode=user&mPid=208&mId=307",
                "pages": 3,
            },
            _rss("techwire", f"{base}/rss/techwire.xml"),
            _rss("kyungje", f"{base}/rss/kyungje.xml"),
            _rss("ktherald", f"{base}/atom/ktherald.xml"),
        ],
    }
    path = directory / "tracker.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def _rss(name: str, url: str, **extra: object) -> dict[str, object]:
    return {"name": name, "type": "rss", "url": url, **extra}


def _entities_bytes() -> bytes:
    if ENTITIES.is_file():
        return ENTITIES.read_bytes()
    raise FileNotFoundError(f"the demo needs {ENTITIES}")


def run_demo(out_dir: Path, days: int, say: Callable[[str], None]) -> Path:
    """Replay ``days`` days of the news world through the pipeline; return the report index."""
    with tempfile.TemporaryDirectory(prefix="tracker-demo-") as tmp, NewsWorld() as world:
        work = Path(tmp)
        config = load_config(demo_config(world, work))
        entities = load_entities(config.entities_path)
        database = Database(config.database_url)
        # The world's Naver API look-alike wants these (fake) keys; the crawl child reads them.
        os.environ.setdefault("NAVER_CLIENT_ID", world.client_id)
        os.environ.setdefault("NAVER_CLIENT_SECRET", world.client_secret)
        for day in range(1, days + 1):
            world.set_day(day)
            run_crawl(config, log_dir=work, schema_ready=True)
            with database.begin() as session:
                result, silent = track(session, config, entities, datetime.now(UTC))
            note = " (baseline)" if silent else ""
            say(
                f"day {day}: {len(result.new)} new, {len(result.confirmed)} confirmed, "
                f"{len(result.retracted)} retracted change(s){note}"
            )
        with database.begin() as session:
            summary = build_report(session, config, entities, out_dir, datetime.now(UTC))
        database.dispose()
    return summary.index
