"""RunRecorder: one CrawlRun row per source, opened at start and closed with counts and status."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from scrapy import Spider, signals
from scrapy.crawler import Crawler

from crawler.context import SourceRun, TrackerContext, get_context
from tracker.store import finish_run, save_listing_state, start_run

if TYPE_CHECKING:
    from crawler.frontier import Frontier

logger = logging.getLogger(__name__)


def run_status(run: SourceRun, counts: dict[str, int], close_reason: str) -> str:
    """Return a source's final status from its listing results, counters and the close reason."""
    if run.skipped_reason:
        return "skipped"
    if close_reason != "finished":
        return "interrupted"
    if run.listing_ok == 0 and run.listing_failed > 0:
        return "failed"
    if counts.get("errors", 0) or run.listing_failed:
        return "partial"
    return "ok"


def shared_listing(run: SourceRun, counts: dict[str, int], frontier: Frontier) -> None:
    """Mark a source this process took part in without reading its listing as skipped.

    In a scaled-out crawl another process read the listing (its run has the listing's
    outcome); here the run holds only this process's share of the articles. Health looks at
    the run that read the listing, as it ignores skipped runs. Errors still make it partial.
    """
    if run.skipped_reason or run.listing_ok or run.listing_failed or counts.get("errors", 0):
        return
    if frontier.joined:
        run.skipped_reason = f"listing read by another process of crawl {frontier.run_key}"
    else:
        run.skipped_reason = f"crawl {frontier.run_key} was already over"


class RunRecorder:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    @property
    def context(self) -> TrackerContext:
        return get_context(self.crawler)

    def spider_opened(self, spider: Spider) -> None:
        context = self.context
        sources = spider.selected_sources() if hasattr(spider, "selected_sources") else []
        # Register every source first: source_run() opens its own transaction, and a second
        # writer inside an open SQLite write transaction would wait on itself.
        runs = [context.source_run(source.name) for source in sources]
        with context.db.begin() as session:
            for run in runs:
                run.run_id = start_run(session, context.run_group, run.source_id).id
        context.emit({"event": "start", "sources": [s.name for s in sources]})

    def spider_closed(self, spider: Spider, reason: str) -> None:
        context = self.context
        statuses: dict[str, str] = {}
        with context.db.begin() as session:
            for run in context.runs.values():
                if run.run_id is None:
                    continue
                counts = context.counts(run.name)
                if context.frontier is not None and reason == "finished":
                    shared_listing(run, counts, context.frontier)
                status = statuses[run.name] = run_status(run, counts, reason)
                messages = [run.skipped_reason] if run.skipped_reason else run.messages
                finish_run(
                    session,
                    run.run_id,
                    counts,
                    status,
                    messages,
                    not_modified=run.listing_ok > 0 and run.listing_not_modified == run.listing_ok,
                )
                if status == "ok" and context.frontier is None:
                    for key, (etag, modified) in run.listing_states.items():
                        save_listing_state(session, run.source_id, key, etag, modified)
                context.emit({"event": "finished", "source": run.name, "status": status, **counts})
        if context.frontier is not None:
            from crawler.frontier import leave_crawl

            leave_crawl(context, context.frontier, statuses, reason)
        context.db.dispose()

    def __repr__(self) -> str:
        return "<RunRecorder>"
