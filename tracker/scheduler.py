"""The `tracker schedule` daemon: APScheduler 3.x jobs that run `tracker run` in subprocesses."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from apscheduler.util import obj_to_ref
from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.db import Database, make_engine
from tracker.errors import ConfigError
from tracker.models import Article, ArticleSource, Source
from tracker.polling import KST, AdaptiveConfig, ScheduleConfig, fast_polling_reason, in_window
from tracker.urls import is_under_domain

if TYPE_CHECKING:
    from apscheduler.job import Job

    from tracker.config import Config

logger = logging.getLogger(__name__)

JOBS_TABLE = "apscheduler_jobs"
# Jobs in a persistent store name their function by reference, never by object.
RUN_CYCLE_REF = "tracker.scheduler:run_cycle"
FAST_CYCLE_REF = "tracker.scheduler:fast_cycle"
# Seconds between SIGTERM and SIGKILL when a cycle overruns (Scrapy needs a moment to close).
STOP_GRACE = 30.0
# The crawl inside a cycle gets this share of the job timeout, so that it stops by itself and
# the cycle still records facts and sends alerts before the hard limit kills it.
CRAWL_SHARE = 0.8
# Fast-poll runs fall on multiples of interval_minutes after this instant (10:00, 10:05, ...).
FAST_ANCHOR = datetime(2024, 1, 1, tzinfo=KST)
# An official article published this long before it was crawled is old news (a backfill),
# not a sign that something is happening now.
BACKFILL_AGE = timedelta(days=2)

Clock = Callable[[], datetime]
JobFunc = str | Callable[..., Any]


def _now() -> datetime:
    return datetime.now(KST)


# ---------------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """One job the configuration asks for; ``args`` are plain values (the store pickles them)."""

    id: str
    func: JobFunc
    trigger: BaseTrigger
    args: tuple[Any, ...]


def cron_trigger(expressions: Sequence[str]) -> BaseTrigger:
    """Return a KST trigger firing whenever any crontab line matches."""
    triggers = [CronTrigger.from_crontab(e, timezone=KST) for e in expressions]
    return triggers[0] if len(triggers) == 1 else OrTrigger(triggers)


def fast_trigger(interval_minutes: int) -> IntervalTrigger:
    """Return the fast-poll trigger, aligned to whole multiples of the interval."""
    return IntervalTrigger(minutes=interval_minutes, start_date=FAST_ANCHOR, timezone=KST)


def group_sources(config: Config, schedule: ScheduleConfig) -> dict[str, list[str]]:
    """Return each group's enabled sources, in config order; raise ConfigError on unknown names."""
    unknown = schedule.unknown_sources(s.name for s in config.sources)
    if unknown:
        raise ConfigError(f"{config.path}: schedule: unknown source(s): {', '.join(unknown)}")
    enabled = [s.name for s in config.sources if s.enabled]
    named = {name for group in schedule.groups.values() for name in group.sources}
    result = {}
    for name, group in schedule.groups.items():
        wanted = set(group.sources) if group.sources else set(enabled) - named
        result[name] = [source for source in enabled if source in wanted]
    return result


def fast_sources(config: Config, adaptive: AdaptiveConfig) -> list[str]:
    """Return the sources polled fast: the configured ones, else official and Naver API ones."""
    if adaptive.sources:
        return list(adaptive.sources)
    return [s.name for s in config.sources if s.official or s.type == "naver_api"]


def plan_jobs(
    config: Config,
    schedule: ScheduleConfig,
    run_job: JobFunc = RUN_CYCLE_REF,
    fast_job: JobFunc = FAST_CYCLE_REF,
) -> list[PlannedJob]:
    """Return the jobs: ``run:<group>`` on its crontab, ``fast:<group>`` for its fast sources."""
    config_path = str(config.path)
    fast = set(fast_sources(config, schedule.adaptive))
    jobs = []
    for name, sources in group_sources(config, schedule).items():
        if not sources:
            logger.warning("Schedule group %s has no enabled source; not scheduled", name)
            continue
        cron = list(schedule.groups[name].cron)
        jobs.append(
            PlannedJob(
                f"run:{name}",
                run_job,
                cron_trigger(cron),
                (config_path, sources, schedule.job_timeout),
            )
        )
        quick = [source for source in sources if source in fast]
        if schedule.adaptive.enabled and quick:
            jobs.append(
                PlannedJob(
                    f"fast:{name}",
                    fast_job,
                    fast_trigger(schedule.adaptive.interval_minutes),
                    (config_path, quick, schedule.job_timeout, cron),
                )
            )
    return jobs


# ---------------------------------------------------------------------------- scheduler


class TrackerJobStore(SQLAlchemyJobStore):
    """The SQLAlchemy job store, handing out no due jobs once the scheduler is stopping.

    APScheduler 3.x makes one more pass over due jobs when its loop wakes during shutdown();
    a job taken then fails on the stopped executor and its persisted run time is moved on, so
    the run would be lost across a restart. This check runs under the scheduler's job-store
    lock, which shutdown() takes after marking the scheduler stopped, so it cannot race.
    """

    def get_due_jobs(self, now: datetime) -> list[Job]:
        scheduler = getattr(self, "_scheduler", None)
        if scheduler is not None and scheduler.state == STATE_STOPPED:
            return []
        return super().get_due_jobs(now)


def build_scheduler(
    config: Config,
    schedule: ScheduleConfig | None = None,
    *,
    clock: Clock | None = None,
    run_job: JobFunc = RUN_CYCLE_REF,
    fast_job: JobFunc = FAST_CYCLE_REF,
    scheduler_class: type[BaseScheduler] = BlockingScheduler,
    jobstore_url: str | None = None,
) -> BaseScheduler:
    """Return a scheduler (not started) holding the configured jobs in a persistent store.

    Jobs run one at a time (one worker thread; the cycles share one database and lock anyway),
    each with ``max_instances=1``, ``coalesce=True`` and the configured misfire grace time.
    A stored job whose trigger and arguments are unchanged keeps its stored next run time, so a
    run missed while the daemon was down still happens once on restart (within the grace
    time); changed jobs are rescheduled from ``clock()``, and stored jobs the configuration no
    longer names are removed. ``schedule`` defaults to ``config.schedule``.
    """
    schedule = schedule if schedule is not None else config.schedule
    now = (clock or _now)()
    url = jobstore_url or schedule.jobstore_url or config.database_url
    defaults = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": schedule.misfire_grace_time,
    }
    scheduler = scheduler_class(
        timezone=KST,
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=defaults,
    )
    # tracker.db's engine: a 30 s busy timeout, as a crawl may hold SQLite's write lock.
    store = TrackerJobStore(engine=make_engine(url), tablename=JOBS_TABLE)
    scheduler.add_jobstore(store, "default")
    # Started now to read the stored jobs; the scheduler's start() repeats this harmlessly.
    store.start(scheduler, "default")
    planned = plan_jobs(config, schedule, run_job, fast_job)
    wanted = {job.id for job in planned}
    for stored in store.get_all_jobs():
        if stored.id not in wanted:
            store.remove_job(stored.id)
            logger.info("Removed job %s: no longer in the configuration", stored.id)
    for job in planned:
        next_run = _kept_next_run(store.lookup_job(job.id), job)
        if next_run is None:
            next_run = job.trigger.get_next_fire_time(None, now)
        scheduler.add_job(
            job.func,
            job.trigger,
            args=list(job.args),
            id=job.id,
            name=job.id,
            replace_existing=True,
            next_run_time=next_run,
            **defaults,
        )
    return scheduler


def _kept_next_run(stored: Job | None, job: PlannedJob) -> datetime | None:
    """Return the stored job's next run time when it is the same job, else None."""
    if stored is None or stored.next_run_time is None:
        return None
    func_ref = job.func if isinstance(job.func, str) else obj_to_ref(job.func)
    same = (
        stored.func_ref == func_ref
        and tuple(stored.args) == job.args
        and repr(stored.trigger) == repr(job.trigger)
    )
    return stored.next_run_time if same else None


def describe_jobs(scheduler: BaseScheduler) -> list[str]:
    """Return one line per job: id, trigger, next run (KST) and arguments' sources."""
    lines = []
    for job in scheduler.get_jobs():
        next_run = getattr(job, "next_run_time", None)
        when = next_run.astimezone(KST).strftime("%Y-%m-%d %H:%M %Z") if next_run else "paused"
        sources = ",".join(job.args[1]) if len(job.args) > 1 else ""
        lines.append(f"{job.id}  {job.trigger}  next {when}  sources={sources}")
    return lines


# ---------------------------------------------------------------------------- cycles


_active: set[subprocess.Popen[bytes]] = set()
_active_lock = threading.Lock()


def cycle_command(config_path: str, sources: Sequence[str], crawl_timeout: float) -> list[str]:
    """Return the argv of one quiet `tracker run` cycle for ``sources``."""
    argv = [sys.executable, "-m", "tracker", "--config", config_path, "-q", "--log-json", "run"]
    for source in sources:
        argv += ["--source", source]
    return [*argv, "--timeout", f"{crawl_timeout:g}"]


def run_cycle(
    config_path: str, sources: list[str], timeout: float, grace: float = STOP_GRACE
) -> int:
    """Run one `tracker run` cycle in a subprocess and return its exit code.

    The child gets its own session (process group): a Ctrl-C at the daemon's terminal does not
    reach it, and on timeout the whole group (the cycle and its Scrapy crawl) gets SIGTERM,
    then SIGKILL after ``grace`` seconds. Its output goes to the daemon's stdout and stderr.
    Returns 127 when the command cannot start, a negative signal number when killed.
    """
    argv = cycle_command(config_path, sources, timeout * CRAWL_SHARE)
    label = ",".join(sources) or "all sources"
    started = time.monotonic()
    try:
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as exc:
        logger.error("Cycle %s: cannot start %s: %s", label, argv[0], exc)
        return 127
    with _active_lock:
        _active.add(process)
    timed_out = False
    try:
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        returncode = stop_group(process, grace)
    finally:
        with _active_lock:
            _active.discard(process)
    elapsed = time.monotonic() - started
    level = logging.INFO if returncode == 0 else logging.WARNING
    note = f" (timed out after {timeout:g}s)" if timed_out else ""
    logger.log(level, "Cycle %s: exit %s in %.1fs%s", label, returncode, elapsed, note)
    return returncode


def stop_group(process: subprocess.Popen[bytes], grace: float) -> int:
    """SIGTERM the process's group, SIGKILL it after ``grace`` seconds; return the exit code."""
    _signal_group(process, signal.SIGTERM)
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        return process.wait()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.killpg(process.pid, signum)


def terminate_active_cycles() -> int:
    """Send SIGTERM to every running cycle's process group; return how many were signalled."""
    with _active_lock:
        running = [p for p in _active if p.poll() is None]
    for process in running:
        _signal_group(process, signal.SIGTERM)
    return len(running)


# ---------------------------------------------------------------------------- fast polling


def fast_cycle(
    config_path: str, sources: list[str], timeout: float, regular_cron: list[str]
) -> int | None:
    """The fast-poll job: run a cycle for ``sources`` when fast polling is due, else nothing.

    The configuration is read at run time, so window and thresholds apply without a restart.
    Returns the cycle's exit code, or None when no cycle ran.
    """
    from tracker.config import load_config

    config = load_config(config_path)
    adaptive = config.schedule.adaptive
    return fast_cycle_for(config, adaptive, sources, timeout, regular_cron, _now())


def fast_cycle_for(
    config: Config,
    adaptive: AdaptiveConfig,
    sources: list[str],
    timeout: float,
    regular_cron: Sequence[str],
    now: datetime,
) -> int | None:
    """Decide at ``now`` whether a fast cycle is due and run it; see fast_cycle."""
    if not adaptive.enabled or not in_window(adaptive, now):
        return None  # decided without touching the database
    since = now - timedelta(minutes=adaptive.interval_minutes)
    regular = cron_trigger(regular_cron).get_next_fire_time(None, since + timedelta(seconds=1))
    if regular is not None and regular <= now:
        logger.debug("Fast poll skipped: the regular run at %s covers it", regular)
        return None
    database = Database(config.database_url, echo=config.database.echo)
    try:
        with database.begin() as session:
            reason = polling_reason_from_db(session, config, adaptive, now)
    finally:
        database.dispose()
    if reason is None:
        return None
    logger.info("Fast poll of %s: %s", ",".join(sources), reason)
    return run_cycle(str(config.path), sources, timeout)


def polling_reason_from_db(
    session: Session, config: Config, adaptive: AdaptiveConfig, now: datetime
) -> str | None:
    """Return fast_polling_reason for the stored state and newest official article."""
    recent = latest_official_at(
        session, config, now - timedelta(hours=adaptive.official_hours), now
    )
    # The state is only folded when no recent official item already decides (it reads every fact).
    reason = fast_polling_reason(None, recent, adaptive, now)
    if reason is not None:
        return reason
    from tracker.changes import current_state
    from tracker.facts.entities import load_entities

    entities = load_entities(config.entities_path)
    state = current_state(session, config, entities, now.astimezone(KST).date())
    return fast_polling_reason(state, recent, adaptive, now)


def latest_official_at(
    session: Session, config: Config, since: datetime, now: datetime
) -> datetime | None:
    """Return when the newest official article crawled since ``since`` was crawled.

    Official: listed by an official source or hosted on an official domain. Articles published
    more than BACKFILL_AGE before they were crawled are old news and do not count.
    """
    rows = session.execute(
        select(
            Article.id,
            Article.crawled_at,
            Article.published_at,
            Article.canonical_url,
            Article.original_url,
        ).where(Article.crawled_at >= since.astimezone(UTC), Article.crawled_at <= now)
    ).all()
    if not rows:
        return None
    from_official_source = set(
        session.scalars(
            select(ArticleSource.article_id)
            .join(Source, Source.id == ArticleSource.source_id)
            .where(Source.official.is_(True), ArticleSource.article_id.in_([r.id for r in rows]))
        )
    )
    newest = None
    for row in rows:
        official = row.id in from_official_source or any(
            url and is_under_domain(url, config.official_domains)
            for url in (row.canonical_url, row.original_url)
        )
        if not official:
            continue
        if row.published_at is not None and row.published_at < row.crawled_at - BACKFILL_AGE:
            continue
        if newest is None or row.crawled_at > newest:
            newest = row.crawled_at
    return newest


# ---------------------------------------------------------------------------- daemon


def run_forever(
    scheduler: BaseScheduler,
    signals: Sequence[int] = (signal.SIGTERM, signal.SIGINT),
    poll: float = 0.5,
) -> None:
    """Run ``scheduler`` until SIGTERM or SIGINT, then stop after the current job and return.

    The first signal stops the scheduler: no new job starts, the running cycle finishes
    (``shutdown(wait=True)``), the job store is closed and this function returns. A second
    signal also sends SIGTERM to the running cycle's processes, so shutdown does not wait for
    a long crawl (Scrapy still closes cleanly). Call it from the main thread (signal handlers).
    A BlockingScheduler's loop runs in a helper thread, so signals always reach this one.
    """
    stop = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        name = signal.Signals(signum).name
        if stop.is_set():
            count = terminate_active_cycles()
            logger.warning("%s again: asked %d running cycle(s) to stop", name, count)
            return
        logger.info("%s received: stopping after the current job", name)
        stop.set()

    failure: list[BaseException] = []

    def blocking_loop() -> None:
        try:
            scheduler.start()
        except BaseException as exc:  # re-raised in the calling thread below
            failure.append(exc)

    previous = {signum: signal.signal(signum, handle) for signum in signals}
    loop: threading.Thread | None = None
    try:
        if isinstance(scheduler, BlockingScheduler):
            loop = threading.Thread(target=blocking_loop, name="scheduler", daemon=True)
            loop.start()
        else:
            scheduler.start()
        logger.info("Scheduler running; SIGTERM or Ctrl-C stops it after the current job")
        # A timed wait: the loop also notices a scheduler thread that ended on its own.
        while not stop.wait(poll):
            if loop is not None and not loop.is_alive():
                break
    finally:
        if scheduler.state != STATE_STOPPED:
            scheduler.shutdown(wait=True)
        if loop is not None:
            loop.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if failure:
        raise failure[0]
    logger.info("Scheduler stopped")
