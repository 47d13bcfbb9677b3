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
    world.reset_counts()
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


def test_sigterm_during_a_crawl_loses_nothing(tmp_path: Path, world: NewsWorld) -> None:
    """SIGTERM to `tracker crawl` mid-crawl: runs close as interrupted, every stored article is
    whole (URLs and sources recorded), and the next crawl completes what was left."""
    from sqlalchemy import func, select

    from tracker.models import Article, ArticleSource, ArticleUrl, CrawlRun

    world.set_day(None)
    world.reset_counts()
    hang = {"name": "slow", "type": "rss", "url": f"{world.base_url}/fail/hang"}
    config = make_config(tmp_path, world, [hang], crawl={"download_timeout": 20, "retry_times": 0})
    environment = dict(os.environ, NAVER_CLIENT_ID="test-id", NAVER_CLIENT_SECRET="test-secret")
    environment.pop("TRACKER_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "tracker", "-q", "--config", str(config), "crawl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.startswith("/mnews/") for p in world.requests):
        time.sleep(0.05)
    process.send_signal(__import__("signal").SIGTERM)
    process.communicate(timeout=120)
    assert process.returncode != 0
    db = Database(f"sqlite:///{config.parent / 'tracker.db'}")
    with db.begin() as session:
        statuses = {r.status for r in session.scalars(select(CrawlRun))}
        assert "running" not in statuses and "interrupted" in statuses, statuses
        partial = session.scalar(select(func.count()).select_from(Article))
        for article in session.scalars(select(Article)):
            assert session.scalar(
                select(func.count())
                .select_from(ArticleUrl)
                .where(ArticleUrl.article_id == article.id)
            )
            assert session.scalar(
                select(func.count())
                .select_from(ArticleSource)
                .where(ArticleSource.article_id == article.id)
            )
    # The rest arrives on the next run, and the total equals a clean crawl's.
    rest = [s for s in ("naver", "gnews", "msit", "techwire", "kyungje", "ktherald")]
    args = [a for name in rest for a in ("--source", name)]
    assert run_tracker(config, "-q", "crawl", *args).returncode == 0
    clean = make_config(tmp_path / "clean", world)
    assert run_tracker(clean, "-q", "crawl").returncode == 0
    clean_db = Database(f"sqlite:///{clean.parent / 'tracker.db'}")
    with db.begin() as session, clean_db.begin() as other:
        total = session.scalar(select(func.count()).select_from(Article))
        assert total == other.scalar(select(func.count()).select_from(Article))
        assert total >= partial
    db.dispose()
    clean_db.dispose()
