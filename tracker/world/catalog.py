"""Lookups over the world's articles: visibility by day, URL resolution and the world clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urlsplit

from tracker.world.content import Publisher, WorldArticle, load_articles, load_publishers

# Query parameters a publisher CMS ignores when resolving an article (tracking / referral tags).
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "influxdiv", "ref", "from", "cmpid", "oc"})
# The world's clock stands this long after the newest visible article of the day.
CLOCK_LAG = timedelta(minutes=30)


def is_tracking_param(name: str) -> bool:
    """Return True for referral/tracking parameters such as ``utm_source``."""
    lowered = name.lower()
    return lowered.startswith("utm_") or lowered in TRACKING_PARAMS


def normalize_path(path_and_query: str) -> str:
    """Return ``path?query`` with tracking parameters dropped and the rest sorted."""
    parts = urlsplit(path_and_query)
    pairs = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_param(k)
    )
    return parts.path + (f"?{urlencode(pairs)}" if pairs else "")


class Catalog:
    """All articles plus indexes by id, Naver oid/aid and publisher URL."""

    def __init__(
        self,
        articles: Sequence[WorldArticle] | None = None,
        publishers: dict[str, Publisher] | None = None,
    ) -> None:
        self.articles: tuple[WorldArticle, ...] = tuple(
            articles if articles is not None else load_articles()
        )
        self.publishers = publishers if publishers is not None else load_publishers()
        self.by_id = {a.id: a for a in self.articles}
        self.by_naver = {(a.oid, a.aid): a for a in self.articles if a.on_naver}
        self.by_url: dict[tuple[str, str], WorldArticle] = {}
        for article in self.articles:
            for path in (article.path, *article.aliases):
                self.by_url[(article.publisher.key, normalize_path(path))] = article
        self.days = tuple(sorted({a.day for a in self.articles}))

    def visible(self, day: int | None) -> list[WorldArticle]:
        """Return the articles published on or before ``day`` (all when None), newest first."""
        shown = [a for a in self.articles if day is None or a.day <= day]
        return sorted(shown, key=lambda a: (a.published_at, a.id), reverse=True)

    @staticmethod
    def is_visible(article: WorldArticle, day: int | None) -> bool:
        """Return True when ``article`` exists yet on ``day``."""
        return day is None or article.day <= day

    def now(self, day: int | None) -> datetime:
        """Return the world's clock on ``day``: shortly after its newest article."""
        shown = self.visible(day) or list(self.articles)
        return max(a.updated_at for a in shown) + CLOCK_LAG

    def resolve_publisher_url(self, key: str, path_and_query: str) -> WorldArticle | None:
        """Return the article served at /pub/{key}{path_and_query}, tracking params ignored."""
        return self.by_url.get((key, normalize_path(path_and_query)))

    def by_publisher(self, key: str, day: int | None) -> list[WorldArticle]:
        """Return the visible articles of outlet ``key``, newest first."""
        return [a for a in self.visible(day) if a.publisher.key == key]
