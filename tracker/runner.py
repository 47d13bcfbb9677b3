"""Run a crawl as a `scrapy crawl` subprocess (a Twisted reactor cannot restart in-process)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.config import Config, redact_url
from tracker.errors import CrawlError, TrackerError

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[dict[str, Any]], None]
SPIDER = "news"


# The crawl subprocess reads the frontier's URL here, not from argv: it may hold a password.
FRONTIER_URL_ENV = "TRACKER_FRONTIER_URL"


class FrontierUnavailable(TrackerError):
    """The shared frontier (Redis) of a scaled-out crawl cannot be reached."""

    exit_code = 1


@dataclass(frozen=True, slots=True)
class Frontier:
    """Join crawl ``run_key`` through the Redis at ``url`` (scale-out; see crawler.frontier)."""

    url: str
    run_key: str


def check_frontier(frontier: Frontier, timeout: float = 5.0) -> None:
    """Raise FrontierUnavailable (one line) unless the frontier's Redis answers a PING."""
    import redis

    client = None
    try:
        client = redis.Redis.from_url(
            frontier.url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        client.ping()
    except (redis.RedisError, OSError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise FrontierUnavailable(
            f"frontier {redact_url(frontier.url)} is unreachable: {reason}"
        ) from None
    finally:
        if client is not None:
            client.close()


@dataclass(frozen=True, slots=True)
class CrawlResult:
    """How the crawl subprocess ended; per-source counts are in the CrawlRun rows of run_group."""

    run_group: str
    returncode: int
    log_path: Path
    timed_out: bool = False


def crawl_command(
    config: Config, sources: Sequence[str], run_group: str, since: str | None = None
) -> list[str]:
    """Return the argv of the crawl subprocess."""
    argv = [sys.executable, "-m", "scrapy", "crawl", SPIDER]
    if sources:
        argv += ["-a", "sources=" + ",".join(sources)]
    if since:
        argv += ["-a", f"since={since}"]
    argv += ["-s", f"TRACKER_CONFIG={config.path}", "-s", f"TRACKER_RUN_GROUP={run_group}"]
    return argv


def run_crawl(
    config: Config,
    sources: Sequence[str] = (),
    on_event: ProgressCallback | None = None,
    timeout: float | None = None,
    log_dir: Path | None = None,
    log_level: str = "INFO",
    schema_ready: bool = False,
    since: str | None = None,
    frontier: Frontier | None = None,
) -> CrawlResult:
    """Run one crawl subprocess to completion and return how it ended.

    The child's Scrapy log goes to a file (its tail is shown when it crashes); its stdout
    carries JSON progress events, passed to ``on_event`` as they arrive. On timeout the child
    gets SIGTERM (Scrapy then closes the spider cleanly), then SIGKILL after a grace period.
    """
    run_group = str(uuid.uuid4())
    log_dir = log_dir or Path(tempfile.gettempdir())
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"crawl-{run_group}.log"
    env = dict(os.environ)
    # Progress events cost a write per counter; only ask for them when someone listens.
    env["TRACKER_PROGRESS"] = "1" if on_event is not None else "0"
    env.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    env["TRACKER_CONFIG"] = str(config.path)
    # Resolved here: the child runs in the project root, where a relative SQLite path differs.
    env["TRACKER_DATABASE_URL"] = config.database_url
    argv = crawl_command(config, sources, run_group, since)
    argv += ["-s", f"LOG_FILE={log_path}", "-s", f"LOG_LEVEL={log_level}"]
    if schema_ready:
        argv += ["-s", "TRACKER_SCHEMA_READY=1"]
    env.pop(FRONTIER_URL_ENV, None)
    if frontier is not None:
        argv += ["-s", f"TRACKER_RUN_KEY={frontier.run_key}"]
        env[FRONTIER_URL_ENV] = frontier.url
    logger.debug("Starting crawl: %s", " ".join(argv))
    try:
        # stderr (tracebacks, warnings printed before logging starts) joins the log file.
        with open(log_path, "ab") as stderr:
            process = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
                encoding="utf-8",
                cwd=_project_root(),
            )
    except OSError as exc:
        raise CrawlError(f"cannot start the crawler: {exc}") from None
    timed_out = False
    try:
        _pump_events(process, on_event, timeout)
        returncode = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        returncode = stop_process(process)
    except KeyboardInterrupt:
        stop_process(process)
        raise
    return CrawlResult(run_group, returncode, log_path, timed_out)


def _pump_events(
    process: subprocess.Popen[str], on_event: ProgressCallback | None, timeout: float | None
) -> None:
    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if on_event is not None:
                on_event(event)

    reader = threading.Thread(target=pump, name="crawl-progress", daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise subprocess.TimeoutExpired(process.args, timeout or 0)


def stop_process(process: subprocess.Popen[str], grace: float = 30.0) -> int:
    """Ask the crawl to stop (SIGTERM: Scrapy finishes cleanly), kill it after ``grace`` s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def log_tail(path: Path, lines: int = 20) -> str:
    """Return the last ``lines`` lines of a crawl log (empty when missing)."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _project_root() -> Path:
    """Return the directory holding scrapy.cfg (the source checkout), else the cwd."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "scrapy.cfg").is_file() else Path.cwd()
