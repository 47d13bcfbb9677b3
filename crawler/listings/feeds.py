"""Parse RSS/Atom feeds with feedparser, including Google News RSS links."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from time import struct_time
from urllib.parse import urlsplit

from crawler.listings import Lead, ListingError

_GOOGLE_HOSTS = {"news.google.com"}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_URL_IN_BYTES_RE = re.compile(rb"https?://[\x21-\x7e]+")


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None) -> list[Lead]:
    """Return the feed's items as leads, or raise ListingError when it is not a feed."""
    # Imported here: feeds are parsed in the worker processes; the crawl process, which only
    # imports this module for its URL helpers, does not need feedparser's memory.
    import feedparser

    if not body.strip():
        raise ListingError("feed is empty")
    # feedparser looks headers up in lowercase ("content-type").
    lowered = {key.lower(): value for key, value in (headers or {}).items()}
    # Leads are text (matched against keywords, never rendered): feedparser's HTML sanitizer
    # and relative-URI rewriting cost a third of its time and change nothing we keep, since
    # titles and summaries are reduced to text below.
    parsed = feedparser.parse(
        body, response_headers=lowered, sanitize_html=False, resolve_relative_uris=False
    )
    if parsed.bozo and not parsed.entries and not parsed.get("version"):
        problem = parsed.get("bozo_exception") or "unknown problem"
        raise ListingError(f"not a valid RSS/Atom feed: {problem}")
    if not parsed.get("version") and not parsed.entries:
        raise ListingError("not an RSS/Atom feed (no channel or feed element)")
    leads = []
    for entry in parsed.entries:
        link = (entry.get("link") or "").strip()
        if not link:
            continue
        title = entry.get("title", "")
        if (entry.get("title_detail") or {}).get("type") in _HTML_TYPES:
            title = _html_to_text(title)
        summary = _html_to_text(entry.get("summary", ""))
        source_title = (entry.get("source") or {}).get("title")
        if source_title and title.endswith(f" - {source_title}"):
            # Google News appends " - Publisher" to every headline.
            title = title[: -len(source_title) - 3]
        leads.append(
            Lead(
                url=decode_google_news_link(link) or link,
                title=title.strip(),
                summary=summary,
                published_at=_entry_datetime(entry),
                alt_urls=(link,) if decode_google_news_link(link) else (),
            )
        )
    return leads


def _html_to_text(value: str) -> str:
    if "<" not in value:
        return value.strip()
    from bs4 import BeautifulSoup  # with feedparser, see parse_feed

    return BeautifulSoup(value, "lxml").get_text(" ", strip=True)


def _entry_datetime(entry: Mapping[str, object]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed"):
        value = entry.get(key)
        if isinstance(value, struct_time):
            return datetime(*value[:6], tzinfo=UTC)
    return None


def is_google_news_link(url: str) -> bool:
    """Return True for news.google.com article redirect links."""
    return (urlsplit(url).hostname or "").lower() in _GOOGLE_HOSTS and "/articles/" in url


def decode_google_news_link(url: str) -> str | None:
    """Return the publisher URL embedded in an old-style Google News ``CBMi…`` id, if any.

    Older ids are base64 protobufs that contain the URL in clear; newer ones are opaque and
    must be followed over HTTP instead (None here).
    """
    if not is_google_news_link(url):
        return None
    token = urlsplit(url).path.rsplit("/", 1)[-1]
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    match = _URL_IN_BYTES_RE.search(raw)
    if not match:
        return None
    candidate = match.group(0).decode("ascii", "ignore")
    # The protobuf may carry a trailing length/field byte that is printable; cut at "\xd2" etc.
    return candidate if urlsplit(candidate).hostname else None
