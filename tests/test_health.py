"""Source health: problem streaks, zero results vs 304, extraction failures, operator notices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tracker.health import assess
from tracker.models import CrawlRun
from tracker.world.server import NewsWorld

from .test_e2e_crawl import make_config, run_tracker
from .test_tracking import Inbox, free_port


def run(
    status: str = "ok",
    listed: int = 3,
    fetched: int = 0,
    extraction: int = 0,
    not_modified: bool = False,
    message: str = "boom",
) -> CrawlRun:
    return CrawlRun(
        run_group="g", source_id=1, status=status, listed=listed, fetched=fetched,
        extraction_errors=extraction, not_modified=not_modified, messages=[message],
        finished_at=datetime(2026, 1, 1, tzinfo=UTC),
    )  # fmt: skip


def test_streaks_count_the_newest_problem_runs_only() -> None:
    health = assess("s", [run("failed"), run("partial"), run("ok"), run("failed")])
    assert (health.problem_streak, health.consecutive_failures) == (2, 2)
    assert health.unhealthy(2) and not health.unhealthy(3)
    assert health.reason == "failed: boom"


def test_not_modified_is_not_zero_results_but_silence_is() -> None:
    assert assess("s", [run(listed=0, not_modified=True)] * 5).problem_streak == 0
    silent = assess("s", [run(listed=0)] * 3)
    assert silent.zero_result_runs == 3 and silent.unhealthy(3)


def test_pages_that_all_fail_extraction_are_a_problem() -> None:
    broken = assess("s", [run(listed=5, fetched=4, extraction=4)] * 3)
    assert broken.extraction_failures == 3 and "extraction" in broken.reason
    assert assess("s", [run(listed=5, fetched=4, extraction=1)]).problem_streak == 0


@pytest.fixture(scope="module")
def world() -> Any:
    with NewsWorld() as running:
        yield running


@pytest.mark.slow
def test_operator_told_once_per_incident_and_of_the_recovery(
    tmp_path: Path, world: NewsWorld
) -> None:
    from aiosmtpd.controller import Controller

    port = free_port()
    broken = {"name": "broken", "type": "rss", "url": f"{world.base_url}/fail/404"}
    config = make_config(
        tmp_path,
        world,
        [broken],
        alerts={"smtp": {"host": "127.0.0.1", "port": port}, "to": [], "from": "t@example.com"},
        health={"threshold": 2, "operator": ["ops@example.com"]},
    )
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        for _ in range(4):
            result = run_tracker(config, "-q", "run", "--source", "broken")
            assert result.returncode == 1
        subjects = [str(m["Subject"]) for _, m in inbox.messages]
        assert subjects == ["[dokpamo-tracker] source broken is unhealthy"]
        assert "HTTP 404" in inbox.messages[0][1].get_content()
        health = json.loads(run_tracker(config, "sources", "--json").stdout)
        state = {s["name"]: s["health"] for s in health}["broken"]
        assert state["healthy"] is False and state["consecutive_failures"] == 4
        # The source is fixed: one recovery notice, then silence.
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        for source in data["sources"]:
            if source["name"] == "broken":
                source["url"] = f"{world.base_url}/rss/msit.xml"
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        for _ in range(2):
            assert run_tracker(config, "-q", "run", "--source", "broken").returncode == 0
    finally:
        controller.stop()
    subjects = [str(m["Subject"]) for _, m in inbox.messages]
    assert subjects == [
        "[dokpamo-tracker] source broken is unhealthy",
        "[dokpamo-tracker] source broken has recovered",
    ]
    assert all(to == "ops@example.com" for to, _ in inbox.messages)


@pytest.mark.slow
def test_doctor_says_what_is_wrong(tmp_path: Path, world: NewsWorld) -> None:
    from aiosmtpd.controller import Controller

    port = free_port()
    broken = {"name": "broken", "type": "rss", "url": f"{world.base_url}/fail/500"}
    config = make_config(
        tmp_path,
        world,
        [broken],
        alerts={"smtp": {"host": "127.0.0.1", "port": port, "timeout": 2}, "to": ["a@example.com"]},
    )
    result = run_tracker(config, "doctor", "--timeout", "3")
    assert result.returncode == 1
    assert "ok   database: reachable" in result.stdout
    assert any(line.startswith("FAIL smtp") for line in result.stdout.splitlines())
    assert "FAIL source broken: " in result.stdout and "HTTP 500" in result.stdout
    assert "ok   source msit: HTTP 200" in result.stdout
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        again = run_tracker(config, "doctor", "--timeout", "3")
    finally:
        controller.stop()
    assert "ok   smtp: 127.0.0.1" in again.stdout
    assert again.stdout.strip().endswith("1 failed")
