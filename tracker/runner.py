"""Run a crawl as a subprocess, `python -m crawler news` (a Twisted reactor cannot restart)."""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracker.config import Config, redact_url
from tracker.crawlwatch import CrawlResult, CrawlSpec, ProgressCallback, watch
from tracker.errors import CrawlError, TrackerError

logger = logging.getLogger(__name__)

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


def crawl_command(
    config: Config, sources: Sequence[str], run_group: str, since: str | None = None
) -> list[str]:
    """Return the argv of the crawl subprocess (what `scrapy crawl` runs; see crawler.__main__)."""
    argv = [sys.executable, "-m", "crawler", SPIDER]
    if sources:
        argv += ["-a", "sources=" + ",".join(sources)]
    if since:
        argv += ["-a", f"since={since}"]
    argv += ["-s", f"TRACKER_CONFIG={config.path}", "-s", f"TRACKER_RUN_GROUP={run_group}"]
    return argv


def prepare_crawl(
    config: Config,
    sources: Sequence[str] = (),
    progress: bool = False,
    timeout: float | None = None,
    log_dir: Path | None = None,
    log_level: str = "INFO",
    schema_ready: bool = False,
    since: str | None = None,
    frontier: Frontier | None = None,
) -> CrawlSpec:
    """Return how to run one crawl subprocess (see tracker.crawlwatch.watch).

    ``progress``: ask the child for JSON progress events (a write per counter: only when
    someone draws them).
    """
    run_group = str(uuid.uuid4())
    log_dir = log_dir or Path(tempfile.gettempdir())
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"crawl-{run_group}.log"
    env = {
        "TRACKER_PROGRESS": "1" if progress else "0",
        "SCRAPY_SETTINGS_MODULE": os.environ.get("SCRAPY_SETTINGS_MODULE", "crawler.settings"),
        "TRACKER_CONFIG": str(config.path),
        # Resolved here: the child runs in the project root, where a relative SQLite path differs.
        "TRACKER_DATABASE_URL": config.database_url,
    }
    argv = crawl_command(config, sources, run_group, since)
    argv += ["-s", f"LOG_FILE={log_path}", "-s", f"LOG_LEVEL={log_level}"]
    if schema_ready:
        argv += ["-s", "TRACKER_SCHEMA_READY=1"]
    unset = [FRONTIER_URL_ENV]
    if frontier is not None:
        argv += ["-s", f"TRACKER_RUN_KEY={frontier.run_key}"]
        env[FRONTIER_URL_ENV] = frontier.url
        unset = []
    return CrawlSpec(
        argv=argv,
        cwd=str(_project_root()),
        log_path=str(log_path),
        run_group=run_group,
        env=env,
        unset_env=unset,
        timeout=timeout,
    )


def run_crawl(
    config: Config,
    sources: Sequence[str] = (),
    on_event: ProgressCallback | None = None,
    **options: Any,
) -> CrawlResult:
    """Run one crawl subprocess to completion from this process and return how it ended.

    ``options`` are prepare_crawl's (timeout, log_dir, log_level, schema_ready, since, frontier).
    """
    return watch_crawl(
        prepare_crawl(config, sources, progress=on_event is not None, **options), on_event
    )


def watch_crawl(spec: CrawlSpec, on_event: ProgressCallback | None = None) -> CrawlResult:
    """Run the crawl of ``spec`` from this process (raises CrawlError when it cannot start)."""
    logger.debug("Starting crawl: %s", " ".join(spec.argv))
    try:
        return watch(spec, on_event)
    except OSError as exc:
        raise CrawlError(str(exc)) from None


def _project_root() -> Path:
    """Return the directory holding scrapy.cfg (the source checkout), else the cwd."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "scrapy.cfg").is_file() else Path.cwd()
