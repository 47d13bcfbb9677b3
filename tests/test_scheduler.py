"""The schedule daemon: jobs, triggers, persistence, adaptive polling and cycle subprocesses."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_RUNNING, STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from pydantic import ValidationError

from tests.conftest import write_config
from tracker import scheduler as sched
from tracker.config import Config, load_config
from tracker.db import Database
from tracker.errors import ConfigError
from tracker.models import Article, ArticleSource, FactRow, Source
from tracker.polling import (
    KST,
    AdaptiveConfig,
    GroupSchedule,
    ScheduleConfig,
    fast_polling_due,
    fast_polling_reason,
    parse_window,
)
from tracker.state import CompetitionState

SOURCES: list[dict[str, Any]] = [
    {"name": "naver", "type": "naver_api", "queries": ["독파모"]},
    {"name": "msit", "type": "rss", "url": "http://127.0.0.1:9/msit.xml", "official": True},
    {"name": "board", "type": "msit_board", "url": "http://127.0.0.1:9/board"},
    {"name": "feed", "type": "rss", "url": "http://127.0.0.1:9/feed.xml"},
    {"name": "old", "type": "rss", "url": "http://127.0.0.1:9/old.xml", "enabled": False},
]
SCHEDULE = ScheduleConfig.model_validate(
    {
        "groups": {
            "news": {"cron": ["*/30 7-23 * * *", "0 0-6 * * *"]},
            "official": {"sources": ["msit", "board"], "cron": ["*/15 * * * *"]},
        },
        "adaptive": {"interval_minutes": 5, "window": "09:00-20:00", "official_hours": 6},
        "job_timeout": 600,
        "misfire_grace_time": 300,
    }
)
DAY = date(2026, 1, 15)


def kst(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=KST)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path / "cfg", SOURCES))


def build(
    config: Config,
    now: datetime,
    tmp_path: Path,
    schedule: ScheduleConfig = SCHEDULE,
    scheduler_class: type[BaseScheduler] = BlockingScheduler,
) -> BaseScheduler:
    return sched.build_scheduler(
        config,
        schedule,
        clock=lambda: now,
        scheduler_class=scheduler_class,
        jobstore_url=f"sqlite:///{tmp_path / 'jobs.db'}",
    )


def jobs_by_id(scheduler: BaseScheduler) -> dict[str, Any]:
    return {job.id: job for job in scheduler.get_jobs()}


@pytest.fixture
def started() -> Iterator[list[BaseScheduler]]:
    """Schedulers started (paused) by a test, shut down afterwards."""
    schedulers: list[BaseScheduler] = []
    yield schedulers
    for scheduler in schedulers:
        if scheduler.state != STATE_STOPPED:
            scheduler.shutdown(wait=False)


# ---------------------------------------------------------------------------- config


def test_schedule_defaults_are_valid_and_documented_values() -> None:
    schedule = ScheduleConfig()
    assert list(schedule.groups) == ["all"]
    assert schedule.groups["all"].cron == ("*/30 7-23 * * *", "0 0-6 * * *")
    assert schedule.adaptive.window_minutes == (9 * 60, 20 * 60)
    # Defaults are not validated by pydantic; validating them explicitly must pass.
    ScheduleConfig.model_validate(schedule.model_dump())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"groups": {"a": {"cron": ["61 * * * *"]}}}, "invalid crontab line"),
        ({"groups": {"a": {"cron": ["* * *"]}}}, "invalid crontab line"),
        ({"groups": {"a": {"cron": []}}}, "at least 1"),
        ({"groups": {"A b": {}}}, "lowercase"),
        ({"groups": {"a": {}, "b": {}}}, "only one group may leave sources empty"),
        (
            {"groups": {"a": {"sources": ["x"]}, "b": {"sources": ["x", "y"]}}},
            "in groups 'a' and 'b'",
        ),
        ({"groups": {"a": {"sources": ["x", "x"]}}}, "named twice"),
        ({"adaptive": {"window": "20:00-09:00"}}, "start must be before end"),
        ({"adaptive": {"window": "9-20"}}, "HH:MM-HH:MM"),
        ({"adaptive": {"window": "09:00-24:01"}}, "not a time of day"),
        ({"adaptive": {"interval_minutes": 0}}, "greater than or equal to 1"),
        ({"adaptive": {"precisions": ["week"]}}, "day"),
        ({"job_timeout": 0}, "greater than 0"),
        ({"jobstore": "x"}, "Extra inputs"),
    ],
)
def test_schedule_config_rejects(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ScheduleConfig.model_validate(data)


def test_schedule_config_is_frozen_and_names_unknown_sources() -> None:
    with pytest.raises(ValidationError):
        SCHEDULE.job_timeout = 5  # type: ignore[misc]
    schedule = ScheduleConfig.model_validate(
        {"groups": {"a": {"sources": ["msit", "nope"]}}, "adaptive": {"sources": ["gone"]}}
    )
    assert schedule.unknown_sources(["msit", "naver"]) == ["gone", "nope"]
    assert parse_window("00:00-24:00") == (0, 1440)


def test_group_sources_resolve_the_catch_all_group_and_skip_disabled(config: Config) -> None:
    assert sched.group_sources(config, SCHEDULE) == {
        "news": ["naver", "feed"],
        "official": ["msit", "board"],
    }
    assert sched.fast_sources(config, SCHEDULE.adaptive) == ["naver", "msit", "board"]
    unknown = ScheduleConfig(groups={"x": GroupSchedule(sources=("msit", "nope"))})
    with pytest.raises(ConfigError, match=r"unknown source.*nope"):
        sched.group_sources(config, unknown)


# ---------------------------------------------------------------------------- jobs


def test_jobs_ids_settings_and_picklable_arguments(config: Config, tmp_path: Path) -> None:
    scheduler = build(config, kst(10, 2), tmp_path)
    jobs = jobs_by_id(scheduler)
    assert set(jobs) == {"run:news", "fast:news", "run:official", "fast:official"}
    path = str(config.path)
    assert jobs["run:news"].func_ref == "tracker.scheduler:run_cycle"
    assert jobs["run:news"].args == (path, ["naver", "feed"], 600.0)
    assert jobs["fast:news"].func_ref == "tracker.scheduler:fast_cycle"
    assert jobs["fast:news"].args == (
        path,
        ["naver"],
        600.0,
        ["*/30 7-23 * * *", "0 0-6 * * *"],
    )
    assert jobs["fast:official"].args[1] == ["msit", "board"]
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 300)
    assert str(jobs["run:news"].trigger) == (
        "or[cron[month='*', day='*', day_of_week='*', hour='7-23', minute='*/30'], "
        "cron[month='*', day='*', day_of_week='*', hour='0-6', minute='0']]"
    )
    assert str(jobs["fast:news"].trigger) == "interval[0:05:00]"
    lines = sched.describe_jobs(scheduler)
    assert [line.split()[0] for line in lines] == list(jobs)
    assert any("next 2026-01-15 10:30 KST" in line for line in lines)


def test_adaptive_disabled_schedules_no_fast_jobs(config: Config, tmp_path: Path) -> None:
    schedule = SCHEDULE.model_copy(update={"adaptive": AdaptiveConfig(enabled=False)}, deep=True)
    assert set(jobs_by_id(build(config, kst(10), tmp_path, schedule))) == {
        "run:news",
        "run:official",
    }


@pytest.mark.parametrize(
    ("now", "job_id", "expected"),
    [
        (kst(6, 59), "run:news", kst(7, 0)),
        (kst(7, 0), "run:news", kst(7, 0)),
        (kst(7, 0, 1), "run:news", kst(7, 30)),
        (kst(23, 30), "run:news", kst(23, 30)),
        (kst(23, 30, 1), "run:news", kst(0, 0, day=DAY + timedelta(days=1))),
        (kst(2, 15), "run:news", kst(3, 0)),
        (kst(6, 0, 1), "run:news", kst(7, 0)),
        (kst(10, 2), "run:official", kst(10, 15)),
        (kst(10, 2), "fast:news", kst(10, 5)),
        (kst(19, 58), "fast:official", kst(20, 0)),
        # The scheduler's clock may be in any zone; triggers are KST.
        (datetime(2026, 1, 14, 21, 59, tzinfo=UTC), "run:news", kst(7, 0)),
    ],
)
def test_next_fire_times_for_an_injected_clock(
    config: Config, tmp_path: Path, now: datetime, job_id: str, expected: datetime
) -> None:
    job = jobs_by_id(build(config, now, tmp_path))[job_id]
    assert job.next_run_time == expected
    assert job.next_run_time.utcoffset() == timedelta(hours=9)


def test_job_store_round_trip_keeps_next_run_times(
    config: Config, tmp_path: Path, started: list[BaseScheduler]
) -> None:
    first = build(config, kst(6, 59), tmp_path, scheduler_class=BackgroundScheduler)
    started.append(first)
    first.start(paused=True)
    stored = {job.id: job.next_run_time for job in first.get_jobs()}
    assert stored["run:news"] == kst(7, 0)
    first.shutdown(wait=False)

    # Restarted three hours later with the same configuration: the persisted times stand, so
    # the 07:00 run missed while the daemon was down is still due (the misfire grace decides).
    second = build(config, kst(9, 59), tmp_path, scheduler_class=BackgroundScheduler)
    started.append(second)
    second.start(paused=True)
    assert {job.id: job.next_run_time for job in second.get_jobs()} == stored
    second.shutdown(wait=False)

    # A changed group is rescheduled from the clock; a group no longer configured is removed.
    changed = ScheduleConfig(
        groups={"news": GroupSchedule(cron=("0 * * * *",))},
        adaptive=AdaptiveConfig(enabled=False),
        job_timeout=600,
        misfire_grace_time=300,
    )
    third = build(config, kst(9, 59), tmp_path, changed, scheduler_class=BackgroundScheduler)
    started.append(third)
    third.start(paused=True)
    assert {job.id: job.next_run_time for job in third.get_jobs()} == {"run:news": kst(10, 0)}
    assert jobs_by_id(third)["run:news"].args[1] == ["naver", "msit", "board", "feed"]


def test_job_store_hands_out_no_due_jobs_once_stopping(
    config: Config, tmp_path: Path, started: list[BaseScheduler]
) -> None:
    scheduler = build(config, kst(6, 59), tmp_path, scheduler_class=BackgroundScheduler)
    started.append(scheduler)
    scheduler.start(paused=True)
    scheduler.shutdown(wait=False)
    store = sched.TrackerJobStore(url=f"sqlite:///{tmp_path / 'jobs.db'}")
    owner = SimpleNamespace(state=STATE_RUNNING)
    store.start(owner, "default")  # type: ignore[arg-type]
    assert {job.id for job in store.get_due_jobs(kst(12))} == {
        "run:news",
        "fast:news",
        "run:official",
        "fast:official",
    }
    owner.state = STATE_STOPPED
    assert store.get_due_jobs(kst(12)) == []
    store.shutdown()


# ---------------------------------------------------------------------------- adaptive rule


def schedule_state(*entries: tuple[str, str, str]) -> dict[str, Any]:
    """A state dict holding (event, date, precision) schedules for stage2."""
    return {
        "programme": {
            "schedules": {
                f"{event}|stage2": {"date": when, "precision": precision}
                for event, when, precision in entries
            },
            "next_decision": None,
        }
    }


ADAPTIVE = AdaptiveConfig()


@pytest.mark.parametrize(
    ("state", "official_at", "now", "due"),
    [
        # a decision on the day, inside and outside the 09:00-20:00 window
        (schedule_state(("results", "2026-01-15", "day")), None, kst(10), True),
        (schedule_state(("results", "2026-01-15", "day")), None, kst(9, 0), True),
        (schedule_state(("results", "2026-01-15", "day")), None, kst(19, 59), True),
        (schedule_state(("results", "2026-01-15", "day")), None, kst(8, 59), False),
        (schedule_state(("results", "2026-01-15", "day")), None, kst(20, 0), False),
        # tomorrow's decision does not make today fast; yesterday's has expired
        (schedule_state(("results", "2026-01-16", "day")), None, kst(10), False),
        (schedule_state(("results", "2026-01-14", "day")), None, kst(10), False),
        # month parts: 11-20 covers the 15th; 1-10 does not; 21-end covers the 31st
        (schedule_state(("results", "2026-01-11", "month_part")), None, kst(10), True),
        (schedule_state(("results", "2026-01-01", "month_part")), None, kst(10), False),
        (
            schedule_state(("results", "2026-01-21", "month_part")),
            None,
            kst(10, day=date(2026, 1, 31)),
            True,
        ),
        (
            schedule_state(("results", "2026-01-21", "month_part")),
            None,
            kst(10, day=date(2026, 2, 1)),
            False,
        ),
        # "1월 중" covers all of January and nothing of February
        (schedule_state(("results", "2026-01-01", "month")), None, kst(10), True),
        (
            schedule_state(("results", "2026-01-01", "month")),
            None,
            kst(10, day=date(2026, 2, 1)),
            False,
        ),
        # only configured events count
        (schedule_state(("evaluation", "2026-01-15", "day")), None, kst(10), False),
        # an official item: within official_hours, expired, or outside the window
        (None, kst(8, 30), kst(10), True),
        (schedule_state(), kst(3, 59), kst(10), False),
        (schedule_state(), kst(4, 0), kst(10), True),
        (None, kst(21, 0, day=DAY - timedelta(days=1)), kst(9, 30), False),
        (None, kst(19, 0), kst(20, 30), False),
        # the timestamp may come from the database in UTC
        (None, datetime(2026, 1, 15, 0, 30, tzinfo=UTC), kst(10), True),
    ],
)
def test_fast_polling_due(
    state: dict[str, Any] | None, official_at: datetime | None, now: datetime, due: bool
) -> None:
    assert fast_polling_due(state, official_at, ADAPTIVE, now) is due


def test_fast_polling_reads_a_competition_state_and_its_next_decision() -> None:
    state = CompetitionState(
        teams={},
        current_stage="stage1",
        teams_remaining=4,
        next_decision={
            "event": "results",
            "stage": "stage2",
            "date": "2026-01-15",
            "precision": "day",
        },
        schedules={},
        additional_call=None,
    )
    assert fast_polling_reason(state, None, ADAPTIVE, kst(12)) == (
        "decision day: results stage2 on 2026-01-15 (day)"
    )
    assert fast_polling_reason(state.to_dict(), None, ADAPTIVE, kst(12)) is not None
    assert not fast_polling_due(state, None, AdaptiveConfig(enabled=False), kst(12))
    assert not fast_polling_due(state, None, AdaptiveConfig(window="13:00-14:00"), kst(12))
    monthly = schedule_state(("results", "2026-01-01", "month"))
    assert not fast_polling_due(monthly, None, AdaptiveConfig(precisions=("day",)), kst(12))
    assert not fast_polling_due(None, kst(11), AdaptiveConfig(official_hours=0), kst(12))


# ---------------------------------------------------------------------------- from the database


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    db = Database(config.database_url)
    yield db
    db.dispose()


def add_article(
    db: Database,
    url: str,
    crawled_at: datetime,
    published_at: datetime | None = None,
    source: str = "feed",
    official: bool = False,
    schedule: dict[str, str] | None = None,
) -> None:
    with db.begin() as session:
        row = session.query(Source).filter_by(name=source).one_or_none()
        if row is None:
            row = Source(name=source, type="rss", official=official)
            session.add(row)
        article = Article(
            canonical_url=url,
            content_hash=f"hash-{url}",
            title="제목",
            body="본문",
            publisher="테스트일보",
            published_at=published_at or crawled_at,
            crawled_at=crawled_at,
        )
        session.add(article)
        session.flush()
        session.add(ArticleSource(article_id=article.id, source_id=row.id))
        if schedule:
            session.add(
                FactRow(
                    article_id=article.id,
                    type="schedule",
                    subject="programme",
                    values={"stage": "stage2", **schedule},
                    modality="expected",
                    sentence="결과는 발표될 예정이다.",
                    start=0,
                    end=10,
                    extractor_version="test",
                )
            )


def reason_at(db: Database, config: Config, now: datetime) -> str | None:
    with db.begin() as session:
        return sched.polling_reason_from_db(session, config, ADAPTIVE, now)


def test_polling_reason_from_an_official_article(config: Config, database: Database) -> None:
    assert reason_at(database, config, kst(10)) is None
    add_article(database, "https://news.example/a/1", kst(9))
    assert reason_at(database, config, kst(10)) is None  # not official
    add_article(database, "https://gov.example/p/1", kst(9, 15), source="msit", official=True)
    assert reason_at(database, config, kst(10)) == "official item crawled at 2026-01-15 09:15 KST"
    assert reason_at(database, config, kst(15, 16)) is None  # more than 6 hours later


def test_polling_reason_official_by_domain_and_backfills_ignored(
    config: Config, database: Database
) -> None:
    old = kst(9) - timedelta(days=30)
    add_article(database, "https://www.korea.kr/briefing/1", kst(9), published_at=old)
    assert reason_at(database, config, kst(10)) is None  # old news found by a backfill
    add_article(database, "https://www.korea.kr/briefing/2", kst(9, 30))
    assert reason_at(database, config, kst(10)) == "official item crawled at 2026-01-15 09:30 KST"


def test_polling_reason_from_a_schedule_fact(config: Config, database: Database) -> None:
    earlier = kst(9, day=DAY - timedelta(days=5))
    add_article(
        database,
        "https://news.example/a/2",
        earlier,
        schedule={"event": "results", "date": "2026-01-15", "precision": "day"},
    )
    assert reason_at(database, config, kst(10)) == (
        "decision day: results stage2 on 2026-01-15 (day)"
    )
    assert reason_at(database, config, kst(10, day=DAY + timedelta(days=1))) is None


def test_fast_cycle_runs_only_when_due_and_not_beside_a_regular_run(
    config: Config, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []
    monkeypatch.setattr(sched, "run_cycle", lambda *args: calls.append(args) or 0)
    regular = ["*/30 7-23 * * *"]

    def fast(now: datetime) -> int | None:
        return sched.fast_cycle_for(config, ADAPTIVE, ["msit"], 60.0, regular, now)

    assert fast(kst(10, 5)) is None  # nothing official, no decision
    add_article(database, "https://gov.example/p/2", kst(10), source="msit", official=True)
    assert fast(kst(10, 5)) == 0
    assert calls == [(str(config.path), ["msit"], 60.0)]
    assert fast(kst(10, 30)) is None  # the regular 10:30 run crawls these sources anyway
    assert fast(kst(10, 33)) is None  # still that run's interval (queued behind it)
    assert fast(kst(10, 35)) == 0
    assert fast(kst(20, 5)) is None  # outside the window
    assert len(calls) == 2


# ---------------------------------------------------------------------------- cycles


def test_cycle_command_is_a_quiet_tracker_run(tmp_path: Path) -> None:
    argv = sched.cycle_command("/etc/tracker.yaml", ["naver", "msit"], 480.0)
    assert argv[0] == sys.executable
    assert argv[1:] == [
        "-m",
        "tracker",
        "--config",
        "/etc/tracker.yaml",
        "-q",
        "--log-json",
        "run",
        "--source",
        "naver",
        "--source",
        "msit",
        "--timeout",
        "480",
    ]


def fake_command(monkeypatch: pytest.MonkeyPatch, script: str) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []

    def command(*args: Any) -> list[str]:
        seen.append(args)
        return [sys.executable, "-c", script]

    monkeypatch.setattr(sched, "cycle_command", command)
    return seen


def test_run_cycle_returns_the_exit_code_and_logs_one_line(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    seen = fake_command(monkeypatch, "import sys; sys.exit(3)")
    caplog.set_level("INFO", logger="tracker.scheduler")
    assert sched.run_cycle("/cfg.yaml", ["msit"], 100.0) == 3
    assert seen == [("/cfg.yaml", ["msit"], 80.0)]  # the crawl gets 80% of the job's time
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == ["Cycle msit: exit 3"]
    fake_command(monkeypatch, "pass")
    assert sched.run_cycle("/cfg.yaml", [], 100.0) == 0


def process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, only not reaped


def test_run_cycle_timeout_sends_sigterm_to_the_whole_cycle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marker, child_pid = tmp_path / "terminated", tmp_path / "grandchild"
    script = f"""
import signal, subprocess, sys, time
from pathlib import Path
def stop(signum, frame):
    Path({str(marker)!r}).write_text(str(signum))
    sys.exit(5)
signal.signal(signal.SIGTERM, stop)
crawl = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
Path({str(child_pid)!r}).write_text(str(crawl.pid))
time.sleep(60)
"""
    fake_command(monkeypatch, script)
    assert sched.run_cycle("/cfg.yaml", ["msit"], timeout=3.0, grace=10.0) == 5
    assert marker.read_text() == str(int(signal.SIGTERM))
    grandchild = int(child_pid.read_text())
    deadline = time.monotonic() + 10
    while process_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not process_alive(grandchild)  # the crawl got SIGTERM with its parent


def test_run_cycle_kills_a_cycle_that_ignores_sigterm(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_command(
        monkeypatch,
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)",
    )
    assert sched.run_cycle("/cfg.yaml", ["msit"], timeout=2.0, grace=0.2) == -signal.SIGKILL


def test_run_cycle_reports_a_command_that_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sched, "cycle_command", lambda *args: ["/nonexistent/python"])
    assert sched.run_cycle("/cfg.yaml", ["msit"], 10.0) == 127


# ---------------------------------------------------------------------------- run_forever


def run_now(scheduler: BaseScheduler, job: Any) -> None:
    # A repeating trigger (like the real cron jobs): a finished one-off date job is removed,
    # which races with shutdown in APScheduler 3.x and only adds noise here.
    scheduler.add_job(job, "interval", hours=1, next_run_time=datetime.now(KST), id="job")


@pytest.mark.parametrize("scheduler_class", [BackgroundScheduler, BlockingScheduler])
def test_sigterm_stops_after_the_current_job(scheduler_class: type[BaseScheduler]) -> None:
    finished = threading.Event()

    def job() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.3)  # still working when the daemon starts shutting down
        finished.set()

    def sentinel(signum: int, frame: Any) -> None:
        raise AssertionError("the previous handler must not run while the daemon runs")

    previous = signal.signal(signal.SIGTERM, sentinel)
    try:
        scheduler = scheduler_class(timezone=KST)
        run_now(scheduler, job)
        sched.run_forever(scheduler, poll=0.05)
        assert finished.is_set()  # shutdown waited for the job
        assert scheduler.state == STATE_STOPPED
        assert signal.getsignal(signal.SIGTERM) is sentinel  # handlers restored
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_second_signal_stops_the_running_cycle(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_command(monkeypatch, "import time; time.sleep(60)")
    results: list[int] = []
    scheduler = BackgroundScheduler(timezone=KST)

    def job() -> None:
        results.append(sched.run_cycle("/cfg.yaml", ["msit"], timeout=120.0))

    def signaller() -> None:
        deadline = time.monotonic() + 20
        while not sched._active and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)
        while scheduler.state != STATE_STOPPED and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGTERM)

    run_now(scheduler, job)
    helper = threading.Thread(target=signaller, daemon=True)
    helper.start()
    sched.run_forever(scheduler, poll=0.05)
    helper.join(5)
    assert results == [-signal.SIGTERM]
    assert not sched._active


def test_a_real_tracker_run_cycle_fails_cleanly_on_a_bad_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: []\n", encoding="utf-8")
    # The real argv: `python -m tracker ... run` exits 2 (config error), no traceback.
    code = sched.run_cycle(str(bad), ["msit"], timeout=60.0)
    assert code == 2
    completed = subprocess.run(
        sched.cycle_command(str(bad), ["msit"], 10.0), capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
