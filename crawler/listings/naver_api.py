"""Parse Naver Search Open API (news.json) responses."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode

from crawler.listings import Lead, ListingError

_TAG_RE = re.compile(r"</?b>", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class NaverApiPage:
    total: int
    start: int
    display: int
    leads: list[Lead]


def api_url(endpoint: str, query: str, start: int, display: int) -> str:
    """Return the news.json URL for one page of ``query``, newest first."""
    params = urlencode({"query": query, "display": display, "start": start, "sort": "date"})
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{params}"


def clean_api_text(text: str) -> str:
    """Return API title/description text without <b> highlights and with entities decoded.

    The highlight tags are removed without adding spaces: Naver puts them inside words.
    """
    return html.unescape(_TAG_RE.sub("", text)).replace("\u00a0", " ").strip()


def api_error_message(status: int, body: bytes) -> str:
    """Return a one-line description of an API error response."""
    try:
        data = json.loads(body.decode("utf-8"))
        detail = f"{data.get('errorMessage', '')} (errorCode {data.get('errorCode', '?')})"
    except (ValueError, UnicodeDecodeError, AttributeError):
        detail = body[:200].decode("utf-8", "replace").strip() or "empty body"
    return f"Naver API HTTP {status}: {detail}"


def parse_api_page(body: bytes) -> NaverApiPage:
    """Return the page's paging numbers and leads, or raise ListingError."""
    try:
        data = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ListingError(f"Naver API returned malformed JSON: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise ListingError("Naver API response has no 'items' list")
    leads = []
    for item in data["items"]:
        if not isinstance(item, dict):
            continue
        link = str(item.get("link") or "").strip()
        original = str(item.get("originallink") or "").strip()
        if not link and not original:
            continue
        published = None
        if item.get("pubDate"):
            try:
                published = parsedate_to_datetime(str(item["pubDate"]))
            except (TypeError, ValueError):
                published = None
        alt = tuple(u for u in (original,) if u and u != link)
        leads.append(
            Lead(
                url=link or original,
                title=clean_api_text(str(item.get("title", ""))),
                summary=clean_api_text(str(item.get("description", ""))),
                published_at=published,
                alt_urls=alt,
            )
        )
    try:
        total = int(data.get("total", 0))
        start = int(data.get("start", 1))
        display = int(data.get("display", len(leads)))
    except (TypeError, ValueError):
        raise ListingError("Naver API paging fields are not numbers") from None
    return NaverApiPage(total=total, start=start, display=display, leads=leads)
