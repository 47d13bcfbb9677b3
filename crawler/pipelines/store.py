"""StorePipeline: one transaction per item; the database decides new vs duplicate."""

from __future__ import annotations

import logging

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.exc import SQLAlchemyError

from crawler.context import TrackerContext, get_context
from crawler.items import ArticleItem
from tracker.store import attach_source, clear_fetch_failure, store_article

logger = logging.getLogger(__name__)


class StorePipeline:
    def __init__(self, context: TrackerContext) -> None:
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(get_context(crawler))

    def process_item(self, item: ArticleItem) -> ArticleItem:
        prepared = item.prepared
        assert prepared is not None, "PreparePipeline must run first"
        source_ids = [self.context.source_run(name).source_id for name in item.sources]
        try:
            with self.context.db.begin() as session:
                outcome = store_article(session, prepared, source_ids[0], self.context.near)
                for source_id in source_ids[1:]:
                    attach_source(session, outcome.article_id, source_id)
                clear_fetch_failure(session, [item.article.url, *item.seen_urls])
        except SQLAlchemyError as exc:
            self.context.error(item.source, f"{item.article.url}: database error: {exc}")
            raise DropItem(f"could not store {item.article.url}") from exc
        self.context.count(item.source, outcome.status)
        logger.info(
            "[%s] %s article %s (%s): %s",
            item.source,
            outcome.status,
            outcome.article_id,
            outcome.reason,
            prepared.canonical_url,
        )
        return item
