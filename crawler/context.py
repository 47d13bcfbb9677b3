"""Per-crawl shared state: the tracker config, the database and per-source counters."""

from __future__ import annotations

import json
import logging
import os
import sys
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from tracker.archive import NearDuplicateSettings
from tracker.config import Config, load_config
from tracker.db import Database
from tracker.store import get_or_create_source

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawler.frontier import Frontier

logger = logging.getLogger(__name__)

COUNTERS = (
    "listed",
    "fetched",
    "new",
    "duplicate",
    "filtered",
    "errors",
    "skipped",
    "extraction_errors",
)
PROGRESS_ENV = "TRACKER_PROGRESS"
_ATTRIBUTE = "_tracker_context"


@dataclass
class SourceRun:
    """Counters and messages of one source during this crawl."""

    name: str
    source_id: int
    run_id: int | None = None
    listing_ok: int = 0
    listing_failed: int = 0
    listing_not_modified: int = 0
    skipped_reason: str | None = None
    messages: list[str] = field(default_factory=list)
    # Listing state to keep only if the source finishes cleanly: a feed's validators saved
    # before its articles are stored would make the next run's 304 hide the unfetched ones.
    # Values: listing key -> (ETag, Last-Modified or the newest item's ISO time).
    listing_states: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


class TrackerContext:
    """What every component of one crawl shares; created once per crawler."""

    def __init__(
        self,
        config: Config,
        database: Database,
        run_group: str,
        crawler: Crawler,
        frontier: Frontier | None = None,
    ):
        self.config = config
        self.db = database
        self.run_group = run_group
        self.crawler = crawler
        # The shared frontier when this process is one of several in one crawl (scale-out).
        self.frontier = frontier
        self.runs: dict[str, SourceRun] = {}
        self.near = NearDuplicateSettings(
            threshold=config.dedupe.near_duplicate_threshold,
            permutations=config.dedupe.minhash_permutations,
            band_rows=config.dedupe.minhash_band_rows,
        )
        self._progress = os.environ.get(PROGRESS_ENV) == "1"

    def source_run(self, name: str) -> SourceRun:
        """Return the SourceRun of source ``name``, registering the source on first use."""
        run = self.runs.get(name)
        if run is None:
            source = self.config.source(name)
            try:
                source_id = self._source_id(source.name, source.type, source.official)
            except IntegrityError:
                # Another crawler process registered it between our look-up and insert.
                source_id = self._source_id(source.name, source.type, source.official)
            run = self.runs[name] = SourceRun(name=name, source_id=source_id)
        return run

    def _source_id(self, name: str, type_: str, official: bool) -> int:
        with self.db.begin() as session:
            return get_or_create_source(session, name, type_, official).id

    def count(self, source: str, counter: str, amount: int = 1) -> None:
        """Increment a per-source counter (a namespaced Scrapy stat) and report progress."""
        stats = self.crawler.stats
        assert stats is not None
        stats.inc_value(f"source/{source}/{counter}", amount)
        self.emit({"event": "count", "source": source, "counter": counter, "amount": amount})

    def counts(self, source: str) -> dict[str, int]:
        """Return the counters of ``source`` so far."""
        stats = self.crawler.stats
        assert stats is not None
        return {c: int(stats.get_value(f"source/{source}/{c}", 0)) for c in COUNTERS}

    def error(self, source: str, message: str) -> None:
        """Count an error of ``source`` and keep its message for the crawl run record."""
        run = self.source_run(source)
        run.messages.append(message)
        logger.warning("[%s] %s", source, message)
        self.count(source, "errors")

    def emit(self, event: dict[str, Any]) -> None:
        """Write one progress event as a JSON line on stdout when the tracker CLI asked for it."""
        if self._progress:
            sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
            sys.stdout.flush()


def get_context(crawler: Crawler) -> TrackerContext:
    """Return the crawler's TrackerContext, creating it (config, database) on first call."""
    context: TrackerContext | None = getattr(crawler, _ATTRIBUTE, None)
    if context is None:
        settings = crawler.settings
        config = load_config(settings.get("TRACKER_CONFIG"))
        # The tracker CLI migrates before it starts a crawl and says so; `scrapy crawl` alone
        # checks (and applies) migrations here.
        database = Database(
            config.database_url, migrate=not settings.getbool("TRACKER_SCHEMA_READY")
        )
        run_group = settings.get("TRACKER_RUN_GROUP") or str(uuid.uuid4())
        frontier = None
        if settings.get("TRACKER_RUN_KEY"):
            from crawler.frontier import Frontier

            frontier = Frontier.from_settings(settings, config)
        context = TrackerContext(config, database, run_group, crawler, frontier)
        setattr(crawler, _ATTRIBUTE, context)
    return context
