"""KeywordFilterPipeline: drop articles whose title and body mention no configured keyword."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.context import TrackerContext, get_context
from crawler.items import ArticleItem
from tracker.store import record_fetch_failure
from tracker.text import keyword_fingerprint, matches_keywords


class KeywordFilterPipeline:
    def __init__(self, context: TrackerContext) -> None:
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> KeywordFilterPipeline:
        return cls(get_context(crawler))

    def process_item(self, item: ArticleItem) -> ArticleItem:
        prepared = item.prepared
        assert prepared is not None, "the spider prepares every item"
        keywords = self.context.config.keywords
        if matches_keywords(f"{prepared.title}\n{prepared.body}", keywords.any, keywords.none):
            return item
        for source in item.sources:
            self.context.count(source, "filtered")
        # Remember the URL as permanently uninteresting so later runs do not fetch it again.
        with self.context.db.begin() as session:
            for url in {item.article.url, *item.seen_urls}:
                fingerprint = keyword_fingerprint(keywords.any, keywords.none)
                record_fetch_failure(session, url, fingerprint, permanent=True, kind="filtered")
        raise DropItem(f"no configured keyword in {item.article.url}")
