"""Parsers of listing responses (API pages, feeds) into leads; pure, no Scrapy engine."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Lead:
    """A pointer to a possible article found in a listing."""

    url: str
    title: str = ""
    summary: str = ""
    published_at: datetime | None = None
    # Other URLs of the same article the listing gave (Naver link vs publisher originallink).
    alt_urls: tuple[str, ...] = ()


class ListingError(Exception):
    """A listing response could not be understood (bad JSON, not a feed, API error)."""
