"""PreparePipeline: normalize the article, hash its body, compute its canonical identity."""

from __future__ import annotations

from scrapy.crawler import Crawler

from crawler.context import TrackerContext, get_context
from crawler.items import ArticleItem
from tracker.articles import prepare_article


class PreparePipeline:
    def __init__(self, context: TrackerContext) -> None:
        self.context = context

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PreparePipeline:
        return cls(get_context(crawler))

    def process_item(self, item: ArticleItem) -> ArticleItem:
        item.prepared = prepare_article(
            item.article, self.context.config.crawl.naver_hosts, item.seen_urls
        )
        return item
