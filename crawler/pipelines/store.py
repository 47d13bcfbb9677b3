"""StorePipeline: buffers articles and hands them, in batches, to the archive writer."""

from __future__ import annotations

import asyncio
import logging

from scrapy.crawler import Crawler
from twisted.internet import task

from crawler.context import TrackerContext, get_context
from crawler.items import ArticleItem
from crawler.pool import WorkerPool
from crawler.writer import WriteFailed, close_writer, open_writer, write_batch
from tracker.archive import Pending

logger = logging.getLogger(__name__)

WRITER_KINDS = ("thread", "process", "inline")


class StorePipeline:
    """Store articles in batches of ``batch_size`` (or every ``interval`` seconds).

    One transaction per batch, written by ``writer``: "thread" (the default: one thread of
    this process, which waits on the database outside the GIL and costs no second Python
    interpreter), "process" (a spawned writer process) or "inline" (on the reactor thread).
    At most ``max_pending`` batches wait for the writer; beyond that process_item waits, so a
    slow database slows the crawl instead of filling memory. Everything buffered is stored
    before the spider closes, SIGTERM included.
    """

    def __init__(
        self,
        context: TrackerContext,
        batch_size: int = 100,
        interval: float = 2.0,
        writer: str = "thread",
        max_pending: int = 4,
    ) -> None:
        if writer not in WRITER_KINDS:
            raise ValueError(f"TRACKER_STORE_WRITER must be one of {', '.join(WRITER_KINDS)}")
        self.context = context
        self.batch_size = batch_size
        self.interval = interval
        self.max_pending = max_pending
        self.writer = WorkerPool(
            0 if writer == "inline" else 1,
            open_writer,
            (context.config.database_url, str(context.config.entities_path)),
            threads=writer == "thread",
        )
        self.buffer: list[ArticleItem] = []
        self.pending: set[asyncio.Task[None]] = set()
        self._timer: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(
            get_context(crawler),
            batch_size=crawler.settings.getint("TRACKER_STORE_BATCH", 100),
            interval=crawler.settings.getfloat("TRACKER_STORE_INTERVAL", 2.0),
            writer=crawler.settings.get("TRACKER_STORE_WRITER", "thread"),
        )

    def open_spider(self) -> None:
        self._timer = task.LoopingCall(self._flush_soon)
        self._timer.start(self.interval, now=False)

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        assert item.prepared is not None, "the spider prepares every item"
        self.buffer.append(item)
        if len(self.buffer) >= self.batch_size:
            self._flush_soon()
            while len(self.pending) > self.max_pending:
                await asyncio.wait(self.pending, return_when=asyncio.FIRST_COMPLETED)
        return item

    async def close_spider(self) -> None:
        # The engine closes pipelines before it sends spider_closed, so RunRecorder's final
        # counts include this last batch.
        if self._timer is not None and self._timer.running:
            self._timer.stop()
        self._flush_soon()
        while self.pending:
            await asyncio.wait(self.pending)
        self.writer.close()
        close_writer()

    def _flush_soon(self) -> None:
        """Hand the buffered items to the writer as one batch."""
        if not self.buffer:
            return
        items, self.buffer = self.buffer, []
        job = asyncio.ensure_future(self._store(items))
        self.pending.add(job)
        job.add_done_callback(self.pending.discard)

    async def _store(self, items: list[ArticleItem]) -> None:
        batch = [
            Pending(item.prepared, [self.context.source_run(n).source_id for n in item.sources])
            for item in items
            if item.prepared is not None
        ]
        fetched = [u for item in items for u in (item.article.url, *item.seen_urls)]
        try:
            outcomes = await self.writer.run(write_batch, batch, self.context.near, fetched)
        except Exception as exc:
            # WriteFailed is the expected kind; anything else (a broken writer process) must
            # not vanish with this task either: every article of the batch is an error.
            if not isinstance(exc, WriteFailed):
                logger.error("Storing a batch of %d articles failed", len(items), exc_info=True)
            for item in items:
                self.context.error(item.source, f"{item.article.url}: {exc}")
            return
        for item, outcome in zip(items, outcomes, strict=True):
            self.context.count(item.source, outcome.status)
            logger.debug(
                "[%s] %s article %s (%s): %s",
                item.source,
                outcome.status,
                outcome.article_id,
                outcome.reason,
                item.article.url,
            )
