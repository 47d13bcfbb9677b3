"""Cron mode: one run at a time (file lock / advisory lock), quiet one-line summaries."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracker.db import Database
from tracker.lock import Busy, run_lock
from tracker.world.server import NewsWorld

from .test_e2e_crawl import make_config, run_tracker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def world() -> NewsWorld:
    with NewsWorld() as running:
        yield running


def test_lock_is_exclusive_and_released(tmp_path: Path, database_url: str) -> None:
    db = Database(database_url)
    with run_lock(db.engine) as where:
        assert where
        other = Database(database_url)
        with pytest.raises(Busy), run_lock(other.engine, wait=0.3, poll=0.05):
            pass
        other.dispose()
    with run_lock(db.engine):
        pass
    db.dispose()


def test_two_runs_contend_the_second_exits_at_once(tmp_path: Path, world: NewsWorld) -> None:
    world.set_day(2)
    hang = {"name": "slow", "type": "rss", "url": f"{world.base_url}/fail/hang"}
    config = make_config(tmp_path, world, [hang], crawl={"download_timeout": 4, "retry_times": 0})
    environment = dict(os.environ, NAVER_CLIENT_ID="test-id", NAVER_CLIENT_SECRET="test-secret")
    environment.pop("TRACKER_DATABASE_URL", None)
    first = subprocess.Popen(
        [sys.executable, "-m", "tracker", "-q", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        # Wait until the first run's crawl is listing (it holds the lock from before the crawl;
        # its hanging source keeps it busy for seconds after that).
        lock_file = config.parent / "tracker.run.lock"
        deadline = time.monotonic() + 60
        while not world.requests["/v1/search/news.json"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert world.requests["/v1/search/news.json"], "the first run never started crawling"
        second = run_tracker(config, "-q", "run")
        assert second.returncode == 0
        assert second.stdout.strip().startswith("tracker run: skipped, another tracker run holds")
        assert str(lock_file) in second.stdout
        out, err = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
    # The first run finished its cycle; quiet mode printed exactly one summary line.
    assert first.returncode == 1, err  # the hanging source failed
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("crawl: ") and "changes: " in lines[0]
    assert "alerts: " in lines[0]
    # Now free: a waiting run goes through.
    third = run_tracker(config, "-q", "run", "--wait", "5", "--source", "msit")
    assert third.returncode == 0 and third.stdout.startswith("crawl: ")
