"""The `tracker` command line: a thin Click layer over tracker functions, rendered with Rich."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table

from tracker import __version__
from tracker.alerts import SmtpSender, pending_alerts, send_test
from tracker.changes import change_to_dict, current_state, query_changes
from tracker.config import FRONTIER_KEY_RE, Config, check_redis_url, load_config
from tracker.crawlwatch import (
    RESULT_ENV,
    CrawlResult,
    CrawlSpec,
    Handover,
    HandoverError,
    decode_result,
    exec_watcher,
    log_tail,
)
from tracker.cycle import track
from tracker.db import Database, current_revision, head_revision, upgrade
from tracker.delivery import deliver
from tracker.doctor import run_checks
from tracker.errors import TrackerError
from tracker.export import (
    EXPORT_FORMATS,
    KST,
    article_to_dict,
    export_articles,
    export_records,
    query_articles,
)
from tracker.facts import EXTRACTOR_VERSION, FACT_TYPES
from tracker.facts.entities import load_entities
from tracker.factstore import fact_to_dict, query_facts, reextract_all
from tracker.health import notify_operator, source_health, update_incidents
from tracker.lock import Busy, RunLock, adopted_lock, run_lock
from tracker.models import Change
from tracker.output import console, err_console, is_interactive, setup_logging
from tracker.progress import CrawlProgress
from tracker.report import build_report
from tracker.runner import Frontier, check_frontier, prepare_crawl, watch_crawl
from tracker.store import last_runs, runs_in_group

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger(__name__)

EXIT_OK, EXIT_PARTIAL, EXIT_USAGE = 0, 1, 2


class State:
    """Per-invocation state: the config path, loaded lazily so --help never needs a config."""

    def __init__(
        self, config_path: str | None, quiet: bool = False, may_exec: bool = False
    ) -> None:
        self.config_path = config_path
        self.quiet = quiet
        # In quiet `run`s the parts of the summary are joined into one line (for cron mail).
        self.summary: list[str] | None = None
        self._config: Config | None = None
        self._db: Database | None = None
        # A process of its own (the console script), not a caller's: it may exec into the
        # crawl watcher for the length of a crawl (see tracker.crawlwatch).
        self.may_exec = may_exec
        # Set when this process continues a command after the watcher ran its crawl: the
        # crawl's outcome, and what the command carried across (run lock, start time).
        self.crawled: CrawlResult | None = None
        self.carried: dict[str, Any] = {}

    def say(self, text: str) -> None:
        """Print a summary line, or keep it for the one-line summary of a quiet run."""
        if self.summary is not None:
            self.summary.append(text)
        else:
            console.print(text, highlight=False, markup=False)

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = Database(self.config.database_url, echo=self.config.database.echo)
        return self._db


def handle_errors(func: F) -> F:
    """Turn TrackerError into one line on stderr and its exit code, with no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TrackerError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def parse_date(value: str) -> datetime:
    """Return an aware datetime from YYYY-MM-DD (KST midnight) or an ISO 8601 timestamp."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=KST)
    return parsed


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    metavar="PATH",
    envvar="TRACKER_CONFIG",
    help="Config file (default: $TRACKER_CONFIG or config/tracker.yaml).",
)
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors and the summary.")
@click.option("--log-json", is_flag=True, help="Log as JSON lines on stderr.")
@click.version_option(__version__, prog_name="tracker")
@click.pass_context
def cli(
    ctx: click.Context, config_path: str | None, verbose: int, quiet: bool, log_json: bool
) -> None:
    """Follow the 독자 AI 파운데이션 모델 competition: crawl, dedupe, archive."""
    setup_logging(verbose, quiet, log_json)
    may_exec = isinstance(ctx.obj, dict) and bool(ctx.obj.get("may_exec"))
    state = State(config_path, quiet=quiet, may_exec=may_exec)
    # Popped: nothing this command starts may mistake itself for the continuation.
    crawled = os.environ.pop(RESULT_ENV, None)
    if crawled is not None:
        try:
            state.crawled, state.carried = decode_result(crawled)
        except HandoverError as exc:
            raise click.UsageError(str(exc)) from None
    ctx.obj = state


# ---------------------------------------------------------------------------- db


@cli.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_obj
@handle_errors
def db_upgrade(state: State, revision: str) -> None:
    """Apply database migrations (also done automatically on first use)."""
    database = Database(state.config.database_url, migrate=False)
    upgrade(database.engine, revision)
    console.print(f"database at revision {current_revision(database.engine)}")


@db.command("current")
@click.pass_obj
@handle_errors
def db_current(state: State) -> None:
    """Show the database's schema revision and the newest one."""
    database = Database(state.config.database_url, migrate=False)
    console.print(f"current: {current_revision(database.engine)}  head: {head_revision()}")


# ---------------------------------------------------------------------------- crawl


@cli.command()
@click.option(
    "--source", "sources", multiple=True, metavar="NAME", help="Only this source (repeatable)."
)
@click.option(
    "--timeout", type=float, default=None, metavar="SECONDS", help="Stop the crawl after this long."
)
@click.option(
    "--run-key",
    default=None,
    metavar="KEY",
    help="Join crawl KEY: every process started with the same key (on any machine) shares "
    "one frontier in Redis (scale-out).",
)
@click.option(
    "--frontier",
    "frontier_url",
    default=None,
    metavar="URL",
    help="Redis URL of the shared frontier (default: crawl.frontier.redis_url); needs --run-key.",
)
@click.pass_obj
@handle_errors
def crawl(
    state: State,
    sources: tuple[str, ...],
    timeout: float | None,
    run_key: str | None,
    frontier_url: str | None,
) -> None:
    """Crawl the configured sources and store new articles.

    With --run-key, this process is one of several sharing one crawl (see README, Scale-out).
    Exit code 0 when every source succeeded, 1 when some source failed, 2 on a usage or
    config error.
    """
    config = state.config
    for name in sources:
        config.source(name)
    frontier = _frontier(config, run_key, frontier_url)
    if frontier is not None and state.crawled is None:
        check_frontier(frontier)
    state.db  # noqa: B018 - migrate before the child process starts, so errors show here
    code = _crawl_and_summarize(state, sources, timeout, frontier=frontier)
    if code:
        sys.exit(code)


def _frontier(config: Config, run_key: str | None, url: str | None) -> Frontier | None:
    """Return the shared crawl to join, or None for a single-process crawl."""
    if run_key is None:
        if url is not None:
            raise click.UsageError("--frontier needs --run-key (the crawl to join)")
        return None
    if not re.match(FRONTIER_KEY_RE, run_key):
        raise click.BadParameter(
            "use 1-100 letters, digits, '_', '.', ':' or '-'", param_hint="--run-key"
        )
    if not config.database_url.startswith("postgresql"):
        raise click.UsageError(
            "--run-key needs PostgreSQL as the store (the processes of a crawl write to one "
            f"database): set database.url in {config.path} or TRACKER_DATABASE_URL"
        )
    if url is None:
        if config.crawl.frontier is None:
            raise click.UsageError(
                "--run-key needs a frontier: --frontier redis://HOST:PORT/DB or "
                f"crawl.frontier.redis_url in {config.path}"
            )
        url = config.crawl.frontier.redis_url
    try:
        check_redis_url(url)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--frontier") from None
    return Frontier(url=url, run_key=run_key)


def _crawl_and_summarize(
    state: State,
    sources: tuple[str, ...],
    timeout: float | None,
    since: str | None = None,
    frontier: Frontier | None = None,
    lock: RunLock | None = None,
    started: datetime | None = None,
) -> int:
    """Run the crawl subprocess, print its per-source summary, return the exit code.

    In the console script this process execs into the crawl watcher here and comes back (a
    new program, same command line) with the crawl's outcome in ``state.crawled``.
    """
    result = state.crawled
    state.crawled = None
    if result is None:
        result = _crawl(state, sources, timeout, since, frontier, lock, started)
    with state.db.begin() as session:
        runs = runs_in_group(session, result.run_group)
        rows = [
            (
                r.source.name,
                r.status,
                r.listed,
                r.fetched,
                r.new,
                r.duplicate,
                r.filtered,
                r.errors,
                list(r.messages or []),
            )
            for r in runs
        ]
    if not rows:
        tail = log_tail(result.log_path)
        raise TrackerError(
            f"the crawl process exited with code {result.returncode} before recording any "
            f"source; log: {result.log_path}\n{tail}"
        )
    _print_crawl_summary(state, rows)
    failed = [name for name, status, *_ in rows if status in {"failed", "partial", "interrupted"}]
    if result.timed_out:
        err_console.print(f"crawl stopped after {timeout} s (timeout)")
    return EXIT_PARTIAL if failed or result.returncode != 0 else EXIT_OK


def _crawl(
    state: State,
    sources: tuple[str, ...],
    timeout: float | None,
    since: str | None,
    frontier: Frontier | None,
    lock: RunLock | None,
    started: datetime | None,
) -> CrawlResult:
    """Run the crawl: from the watcher this process execs into, or from this process."""
    progress = not state.quiet and is_interactive()
    selected = list(sources) or [s.name for s in state.config.sources if s.enabled]
    spec = prepare_crawl(
        state.config,
        sources,
        progress=progress,
        timeout=timeout,
        schema_ready=True,
        since=since,
        frontier=frontier,
    )
    if state.may_exec:
        carry = {
            "lock_fd": lock.hand_over() if lock is not None else None,
            "lock": str(lock) if lock is not None else None,
            "started": started.isoformat() if started is not None else None,
        }
        # The same command line, run again by the watcher once the crawl has ended.
        then = [sys.executable, *sys.orig_argv[1:]]
        try:
            exec_watcher(Handover(spec, then, selected if progress else None, carry))
        except OSError as exc:  # the crawl still runs, watched from here
            logger.warning("cannot exec the crawl watcher (%s); watching from this process", exc)
    return _watch_here(spec, selected if progress else None)


def _watch_here(spec: CrawlSpec, progress: list[str] | None) -> CrawlResult:
    if progress is None:
        return watch_crawl(spec)
    with CrawlProgress(progress, console=err_console) as bars:
        return watch_crawl(spec, bars.on_event)


def _print_crawl_summary(state: State, rows: list[tuple[Any, ...]]) -> None:
    if state.quiet:
        totals = [sum(r[i] for r in rows) for i in range(2, 8)]
        bad = sum(1 for r in rows if r[1] in {"failed", "partial", "interrupted"})
        state.say(
            f"crawl: {len(rows)} sources ({bad} with problems), listed {totals[0]}, "
            f"fetched {totals[1]}, new {totals[2]}, duplicate {totals[3]}, "
            f"filtered {totals[4]}, errors {totals[5]}"
        )
    else:
        table = Table(title="crawl summary")
        for column in (
            "source",
            "status",
            "listed",
            "fetched",
            "new",
            "duplicate",
            "filtered",
            "errors",
        ):
            table.add_column(
                column,
                justify="right" if column not in {"source", "status"} else "left",
                no_wrap=column == "source",  # names are identifiers: never cut them
            )
        for name, status, *counts, _messages in rows:
            table.add_row(name, status, *(str(c) for c in counts))
        console.print(table)
    # Sources skipped for one reason share a line (in a scaled-out crawl, most sources'
    # listings are read by another process).
    skipped: dict[str, list[str]] = {}
    for name, status, *_counts, messages in rows:
        if status == "skipped" and messages:
            skipped.setdefault(messages[0], []).append(name)
        elif status == "failed" and messages:
            click.echo(f"{name}: {status}: {messages[0]}", err=True)
        elif status in {"partial", "interrupted"} and messages:
            more = f" (+{len(messages) - 1} more)" if len(messages) > 1 else ""
            click.echo(f"{name}: {status}: {messages[0]}{more}", err=True)
    for message, names in skipped.items():
        click.echo(f"{', '.join(names)}: skipped: {message}", err=True)


# ---------------------------------------------------------------------------- articles


@cli.command()
@click.option(
    "--since",
    type=str,
    default=None,
    metavar="DATE",
    help="Published on or after (YYYY-MM-DD, KST).",
)
@click.option("--source", default=None, metavar="NAME", help="Only articles listed by this source.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
@handle_errors
def articles(
    state: State, since: str | None, source: str | None, limit: int, as_json: bool
) -> None:
    """List stored articles, newest first."""
    since_dt = parse_date(since) if since else None
    if source:
        state.config.source(source)
    with state.db.begin() as session:
        found = query_articles(session, since_dt, source, limit)
        data = [article_to_dict(a) for a in found]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(show_lines=False)
    for column in ("id", "published", "publisher", "title", "sources"):
        table.add_column(column)
    for item in data:
        published = (item["published_at"] or "")[:16].replace("T", " ")
        table.add_row(
            str(item["id"]),
            published,
            item["publisher"] or "",
            item["title"],
            ", ".join(item["sources"]),
        )
    console.print(table)
    console.print(f"{len(data)} article(s)")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="md", show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    metavar="DIR",
)
@click.pass_obj
@handle_errors
def export(state: State, fmt: str, out_dir: Path) -> None:
    """Export every article (md: one file each with YAML frontmatter; jsonl: one file), and
    the facts and the change log as JSON and CSV (facts.json/csv, changes.json/csv)."""
    with state.db.begin() as session:
        count = export_articles(session, out_dir, fmt)
        records = export_records(session, out_dir)
    console.print(
        f"exported {count} article(s), {records['facts']} fact(s) and {records['changes']} "
        f"change(s) to {out_dir}",
        highlight=False,
    )


@cli.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo-report"),
    show_default=True,
    metavar="DIR",
    help="Where to write the demo's report.",
)
@click.option("--days", type=click.IntRange(1, 6), default=6, show_default=True)
def demo(out_dir: Path, days: int) -> None:
    """Run the whole pipeline offline on a bundled news world, then write its report.

    Starts a local server with a small invented news world (Naver API look-alike, feeds, the
    ministry's board, Naver and publisher pages), replays it day by day through crawl → facts →
    state → changes into a temporary database, and writes the static report. No network, no
    keys, nothing of yours is touched.
    """
    from tracker.demo import run_demo

    index = run_demo(out_dir, days, lambda line: console.print(line, highlight=False))
    console.print(f"demo report: {index.resolve()}", highlight=False)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@handle_errors
def sources(state: State, as_json: bool) -> None:
    """List configured sources with their last run and health."""
    config = state.config
    with state.db.begin() as session:
        latest = last_runs(session)
        healths = source_health(session)
        data = []
        for source in config.sources:
            run = latest.get(source.name)
            health = healths.get(source.name)
            data.append(
                {
                    "name": source.name,
                    "type": source.type,
                    "enabled": source.enabled,
                    "official": source.official,
                    "url": getattr(source, "url", None) or getattr(source, "endpoint", None),
                    "last_run": None
                    if run is None
                    else {
                        "started_at": run.started_at.astimezone(KST).isoformat(),
                        "status": run.status,
                        "listed": run.listed,
                        "new": run.new,
                        "errors": run.errors,
                        "message": (run.messages or [None])[0],
                    },
                    "health": None
                    if health is None
                    else {
                        "healthy": not health.unhealthy(config.health.threshold),
                        "problem_streak": health.problem_streak,
                        "consecutive_failures": health.consecutive_failures,
                        "zero_result_runs": health.zero_result_runs,
                        "extraction_failures": health.extraction_failures,
                        "last_success": health.last_success.astimezone(KST).isoformat()
                        if health.last_success
                        else None,
                        "reason": health.reason or None,
                    },
                }
            )
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table()
    for column in ("name", "type", "enabled", "last run", "status", "new", "health", "note"):
        table.add_column(column)
    for item in data:
        run = item["last_run"] or {}
        health = item["health"] or {}
        if not health:
            verdict = ""
        elif health["healthy"]:
            verdict = (
                "ok" if not health["problem_streak"] else f"ok ({health['problem_streak']} bad)"
            )
        else:
            verdict = f"UNHEALTHY ({health['problem_streak']} bad runs)"
        table.add_row(
            item["name"],
            item["type"],
            "yes" if item["enabled"] else "no",
            (run.get("started_at") or "never")[:16].replace("T", " "),
            run.get("status", ""),
            str(run.get("new", "")),
            verdict,
            (health.get("reason") or run.get("message") or "")[:60],
        )
    console.print(table)


# ---------------------------------------------------------------------------- facts


@cli.command()
@click.option(
    "--article", "article_id", type=int, default=None, metavar="ID", help="Only this article."
)
@click.option(
    "--type", "fact_type", type=click.Choice(FACT_TYPES), default=None, help="Only this fact type."
)
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
@handle_errors
def facts(
    state: State, article_id: int | None, fact_type: str | None, limit: int, as_json: bool
) -> None:
    """Show extracted facts with their evidence sentence and modality."""
    with state.db.begin() as session:
        rows = query_facts(session, article_id, fact_type, limit)
        data = [fact_to_dict(row) for row in rows]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(show_lines=True)
    for column in ("article", "type", "subject", "values", "modality", "evidence"):
        table.add_column(column)
    for item in data:
        values = ", ".join(f"{k}={v}" for k, v in item["values"].items() if v is not None)
        table.add_row(
            str(item["article_id"]),
            item["type"],
            item["subject"],
            values,
            item["modality"],
            item["sentence"],
        )
    console.print(table)
    console.print(f"{len(data)} fact(s)")


@cli.command()
@click.pass_obj
@handle_errors
def reextract(state: State) -> None:
    """Re-run fact extraction over every stored article (after a config or code change).

    Articles are untouched; each article's facts are replaced and carry the extractor version.
    """
    entities = load_entities(state.config.entities_path)
    with state.db.begin() as session:
        summary = reextract_all(session, entities)
    console.print(
        f"re-extracted {summary.articles} article(s): {summary.facts_before} fact(s) before, "
        f"{summary.facts_after} now (extractor {EXTRACTOR_VERSION})"
    )


# ---------------------------------------------------------------------------- tracking


def _now() -> datetime:
    return datetime.now(UTC)


@cli.command()
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Only this source.")
@click.option("--timeout", type=float, default=None, metavar="SECONDS")
@click.option("--baseline", is_flag=True, help="Record what is found as history, without alerts.")
@click.option("--dry-run", is_flag=True, help="Print the mails that are due instead of sending.")
@click.option(
    "--wait",
    type=float,
    default=0.0,
    metavar="SECONDS",
    help="Wait this long for a run already in progress (default: exit at once).",
)
@click.pass_obj
@handle_errors
def run(
    state: State,
    sources: tuple[str, ...],
    timeout: float | None,
    baseline: bool,
    dry_run: bool,
    wait: float,
) -> None:
    """One cycle: crawl → facts → state → changes → alerts.

    Only one run works at a time (a lock beside the SQLite database, an advisory lock on
    PostgreSQL): a second run exits 0 with one line, or waits with --wait. The first run on a
    database records the current state without alerting. With -q the cycle prints one summary
    line. Exit code 1 when some source failed (the rest of the cycle still runs on what was
    stored), 2 on a usage or config error.
    """
    config = state.config
    for name in sources:
        config.source(name)
    if state.crawled is not None:
        # The second half of this run, after the crawl watcher: the lock is still held.
        carried = state.carried
        with adopted_lock(carried.get("lock_fd"), str(carried.get("lock"))) as lock:
            _cycle(state, sources, timeout, baseline, dry_run, lock)
        return
    try:
        with run_lock(state.db.engine, wait=wait) as lock:
            _cycle(state, sources, timeout, baseline, dry_run, lock)
    except Busy as exc:
        click.echo(f"tracker run: skipped, {exc}")


def _cycle(
    state: State,
    sources: tuple[str, ...],
    timeout: float | None,
    baseline: bool,
    dry_run: bool,
    lock: RunLock,
) -> None:
    config = state.config
    carried_start = state.carried.get("started")
    started = datetime.fromisoformat(carried_start) if carried_start else _now()
    if state.quiet:
        state.summary = []
    crawl_code = _crawl_and_summarize(state, sources, timeout, lock=lock, started=started)
    entities = load_entities(config.entities_path)
    with state.db.begin() as session:
        result, silent = track(session, config, entities, _now(), baseline=baseline)
        changes = {c.id: c for c in query_changes(session)}
        lines = [
            f"{label} #{cid} {changes[cid].kind} {changes[cid].subject} "
            f"{changes[cid].stage or ''} → {changes[cid].after} ({changes[cid].confidence})"
            for label, ids in (
                ("new", result.new),
                ("confirmed", result.confirmed),
                ("retracted", result.retracted),
            )
            for cid in ids
        ]
    note = " (baseline: recorded without alerts)" if silent else ""
    state.say(
        f"changes: {len(result.new)} new, {len(result.confirmed)} confirmed, "
        f"{len(result.retracted)} retracted{note}"
    )
    if not state.quiet:
        for line in lines:
            console.print("  " + line, highlight=False, markup=False)
    _deliver_and_report(state, dry_run, started)
    if not dry_run:
        _check_health(state)
    if state.summary is not None:
        click.echo("; ".join(state.summary))
        state.summary = None
    if crawl_code:
        sys.exit(crawl_code)


def _check_health(state: State) -> None:
    """Open/close source incidents and tell the operator once per incident."""
    config = state.config
    now = _now()
    with state.db.begin() as session:
        owed = update_incidents(session, config, now)
        notified = notify_operator(session, config, SmtpSender(config.alerts.smtp), owed, now)
        unhealthy = sorted(
            name
            for name, health in source_health(session).items()
            if health.unhealthy(config.health.threshold)
        )
    if unhealthy:
        state.say(f"health: unhealthy sources: {', '.join(unhealthy)}")
    if notified:
        state.say(f"health: {notified} operator notice(s) sent")


def _deliver_and_report(state: State, dry_run: bool, cycle_started: datetime | None = None) -> None:
    report = deliver(state.db, state.config, _now(), dry_run=dry_run, cycle_started=cycle_started)
    if dry_run:
        for message in report.messages:
            click.echo(message.as_string())
        state.say(f"alerts: {len(report.messages)} mail(s) due (dry run, nothing sent)")
        return
    state.say(
        f"alerts: {report.sent} sent, {report.failed} failed (will retry), {report.pending} pending"
    )


@cli.command()
@click.pass_obj
@handle_errors
def baseline(state: State) -> None:
    """Crawl and record the current state as history, without alerting."""
    ctx = click.get_current_context()
    ctx.invoke(run, sources=(), timeout=None, baseline=True, dry_run=False, wait=0.0)


@cli.command()
@click.option("--since", required=True, metavar="DATE", help="How far back (YYYY-MM-DD, KST).")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Only this source.")
@click.pass_obj
@handle_errors
def backfill(state: State, since: str, sources: tuple[str, ...]) -> None:
    """Build history back to DATE (Naver API paging through known pages, and feeds), silently.

    Changes found are recorded in the log without alerting.
    """
    config = state.config
    since_dt = parse_date(since)
    for name in sources:
        config.source(name)
    state.db  # noqa: B018 - migrate before the crawl starts
    crawl_code = _crawl_and_summarize(state, sources, None, since_dt.isoformat())
    entities = load_entities(config.entities_path)
    with state.db.begin() as session:
        result, _ = track(session, config, entities, _now(), baseline=True)
    console.print(f"backfill: {len(result.new)} change(s) recorded as history (no alerts)")
    if crawl_code:
        sys.exit(crawl_code)


@cli.command()
@click.pass_obj
@handle_errors
def rebuild(state: State) -> None:
    """Recompute the state from stored facts and record any change not yet in the log."""
    entities = load_entities(state.config.entities_path)
    with state.db.begin() as session:
        result, silent = track(session, state.config, entities, _now())
    console.print(
        f"state rebuilt: {len(result.new)} new, {len(result.confirmed)} confirmed, "
        f"{len(result.retracted)} retracted change(s)" + (" (silent)" if silent else "")
    )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@handle_errors
def status(state: State, as_json: bool) -> None:
    """Show the competition's current state: teams, stages, models, scores, next decision."""
    entities = load_entities(state.config.entities_path)
    with state.db.begin() as session:
        data = current_state(session, state.config, entities, _now().date()).to_dict()
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table(title="teams")
    for column in ("team", "status", "stage", "models", "scores"):
        table.add_column(column)
    for team in data["teams"]:
        models = ", ".join(
            f"{name} {_params(m['params_total'])}".strip() for name, m in team["models"].items()
        )
        scores = "; ".join(
            f"{stage}: " + ", ".join(f"{part} {s['value']:g}" for part, s in parts.items())
            for stage, parts in team["scores"].items()
        )
        table.add_row(team["name"], team["status"], team["stage"] or "", models, scores)
    console.print(table)
    programme = data["programme"]
    nxt = programme["next_decision"]
    next_text = f"{nxt['event']} {nxt['stage']} {nxt['date']} ({nxt['precision']})" if nxt else "-"
    console.print(
        f"current stage: {programme['current_stage'] or '-'}; teams remaining: "
        f"{programme['teams_remaining']}; additional call: {programme['additional_call'] or '-'}; "
        f"next decision: {next_text}",
        highlight=False,
    )


def _params(value: int | None) -> str:
    if not value:
        return ""
    return f"{value / 1e9:.0f}B" if value >= 1e10 else f"{value / 1e9:.1f}B"


@cli.command()
@click.option("--since", default=None, metavar="DATE", help="First seen or confirmed on/after.")
@click.option("--kind", default=None, help="Only this kind (team_eliminated, …).")
@click.option("--team", default=None, metavar="NAME", help="Only changes about this team.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.pass_obj
@handle_errors
def changes(
    state: State, since: str | None, kind: str | None, team: str | None, as_json: bool
) -> None:
    """Show the change log, oldest first."""
    with state.db.begin() as session:
        data = [
            change_to_dict(c)
            for c in query_changes(session, parse_date(since) if since else None, kind, team)
        ]
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table()
    for column in (
        "id",
        "first seen",
        "kind",
        "subject",
        "stage",
        "before → after",
        "confidence",
        "sources",
    ):
        table.add_column(column)
    for c in data:
        table.add_row(
            str(c["id"]),
            c["first_seen_at"][:16].replace("T", " "),
            c["kind"],
            c["subject"],
            c["stage"] or "",
            f"{c['before'] or '-'} → {c['after'] or '-'}",
            c["confidence"],
            str(len(c["evidence"])),
        )
    console.print(table)


@cli.command()
@click.argument("change_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@handle_errors
def show(state: State, change_id: int, as_json: bool) -> None:
    """Show one change with all its evidence."""
    with state.db.begin() as session:
        change = session.get(Change, change_id)
        if change is None:
            raise TrackerError(f"no change with id {change_id}")
        data = change_to_dict(change)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console.print(
        f"#{data['id']} {data['kind']} {data['subject']} {data['stage'] or ''}: "
        f"{data['before'] or '-'} → {data['after'] or '-'} [{data['confidence']}]",
        highlight=False,
        markup=False,
    )
    console.print(
        f"first seen {data['first_seen_at']}, confirmed {data['confirmed_at'] or '-'}",
        highlight=False,
    )
    for item in data["evidence"]:
        flag = " (official)" if item["official"] else ""
        console.print(
            f"- {item['publisher'] or '?'}{flag}: {item['title']}", highlight=False, markup=False
        )
        console.print(f"  {item['url']}", highlight=False, markup=False)
        console.print(f"  “{item['sentence']}”", highlight=False, markup=False)


@cli.command()
@click.option("--timeout", type=float, default=10.0, show_default=True, metavar="SECONDS")
@click.pass_obj
@handle_errors
def doctor(state: State, timeout: float) -> None:
    """Check the config, the database, SMTP and every source, and say what is wrong.

    Exit code 0 when everything answers, 1 otherwise, 2 when the config itself is invalid.
    """
    checks = run_checks(state.config, timeout)
    for check in checks:
        mark = "ok  " if check.ok else "FAIL"
        click.echo(f"{mark} {check.name}: {check.detail}")
    failed = [c for c in checks if not c.ok]
    click.echo(f"{len(checks) - len(failed)} ok, {len(failed)} failed")
    if failed:
        sys.exit(EXIT_PARTIAL)


@cli.command()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Folder to write the site into.",
)
@click.option(
    "--base-url", default=None, metavar="URL", help="Where the site is served (Atom links)."
)
@click.pass_obj
@handle_errors
def report(state: State, out_dir: Path, base_url: str | None) -> None:
    """Write the static HTML report (status board, change log, teams, articles) and changes.xml."""
    entities = load_entities(state.config.entities_path)
    with state.db.begin() as session:
        summary = build_report(session, state.config, entities, out_dir, _now(), base_url=base_url)
    console.print(
        f"report: {summary.pages} pages, {summary.changes} changes, {summary.articles} articles"
        f" → {summary.index}",
        highlight=False,
    )


@cli.command()
@click.option("--list", "list_only", is_flag=True, help="Show jobs and next runs, then exit.")
@click.pass_obj
@handle_errors
def schedule(state: State, list_only: bool) -> None:
    """Run the scheduler daemon: `tracker run` per source group on cron triggers, fast polling
    on decision days. SIGTERM or Ctrl-C stops it after the current job."""
    from tracker.scheduler import build_scheduler, describe_jobs, run_forever

    if logging.getLogger().level > logging.INFO:
        logging.getLogger().setLevel(logging.INFO)  # the cycle lines are the daemon's log
    state.db  # noqa: B018 - migrate before the job store creates its table
    scheduler = build_scheduler(state.config)
    for line in describe_jobs(scheduler):
        click.echo(line)  # one line per job, never wrapped
    if not list_only:
        run_forever(scheduler)


# ---------------------------------------------------------------------------- alerts


@cli.group()
def alerts() -> None:
    """E-mail alerts: test the SMTP settings, list and send the outbox."""


@alerts.command("test")
@click.pass_obj
@handle_errors
def alerts_test(state: State) -> None:
    """Send a test mail to every recipient (checks the SMTP settings)."""
    config = state.config.alerts
    messages = send_test(SmtpSender(config.smtp), config, _now())
    console.print(f"sent a test mail to {len(messages)} recipient(s)")


@alerts.command("pending")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@handle_errors
def alerts_pending(state: State, as_json: bool) -> None:
    """List mails still to send (and those given up on)."""
    with state.db.begin() as session:
        rows = [
            {
                "id": r.id,
                "change_id": r.change_id,
                "recipient": r.recipient,
                "kind": r.kind,
                "status": r.status,
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at.isoformat(),
                "last_error": r.last_error,
                "subject": r.subject,
            }
            for r in pending_alerts(session)
        ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table()
    for column in (
        "id",
        "change",
        "recipient",
        "kind",
        "status",
        "attempts",
        "next attempt",
        "error",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["change_id"] or ""),
            r["recipient"],
            r["kind"],
            r["status"],
            str(r["attempts"]),
            r["next_attempt_at"][:16],
            r["last_error"][:60],
        )
    console.print(table)
    console.print(f"{len(rows)} mail(s) waiting")


@alerts.command("send")
@click.option("--dry-run", is_flag=True, help="Print the due mails instead of sending them.")
@click.pass_obj
@handle_errors
def alerts_send(state: State, dry_run: bool) -> None:
    """Enqueue the alerts the change log calls for and send the due ones."""
    _deliver_and_report(state, dry_run)


def _terminate(signum: int, frame: object) -> None:
    # SIGTERM (cron's or systemd's stop, the scheduler's job timeout) unwinds like Ctrl-C: the
    # crawl subprocess gets SIGTERM and closes cleanly (buffered articles are stored), open
    # transactions roll back, locks are released.
    raise KeyboardInterrupt


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    cli(prog_name="tracker", obj={"may_exec": True})


if __name__ == "__main__":
    main()
