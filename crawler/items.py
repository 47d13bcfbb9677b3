"""The item the spider yields and the pipelines enrich."""

from __future__ import annotations

from dataclasses import dataclass, field

from tracker.article import ParsedArticle
from tracker.articles import PreparedArticle


@dataclass
class ArticleItem:
    """A fetched, parsed article and every source and URL that led to it in this run."""

    article: ParsedArticle
    source: str
    sources: list[str] = field(default_factory=list)
    seen_urls: list[str] = field(default_factory=list)
    prepared: PreparedArticle | None = None

    def __repr__(self) -> str:
        # Scrapy logs dropped items with repr(); a whole article body per line drowns the log.
        return f"<ArticleItem {self.article.url} from {','.join(self.sources) or self.source}>"
