"""A Naver Search Open API (v1/search/news.json) look-alike over the world's articles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tracker.world import responses
from tracker.world.dates import rfc822_kst
from tracker.world.responses import Response
from tracker.world.search import highlight, matches, parse_query, score, snippet, squash

API_MODES = ("ok", "badjson", "500", "429")
MAX_DISPLAY = 100
MAX_START = 1000

# Error bodies as the real gateway sends them (errorMessage text, errorCode string).
AUTH_MISSING = "Not Exist Client ID : Authentication failed. (인증에 실패했습니다.)"
AUTH_INVALID = "NID AUTH Result Invalid (1000) : Authentication failed. (인증에 실패했습니다.)"
SE01 = "Incorrect query request (잘못된 쿼리요청입니다.)"
SE02 = "Invalid display value (부적절한 display 값입니다.)"
SE03 = "Invalid start value (부적절한 start 값입니다.)"
SE04 = "Invalid sort value (부적절한 sort 값입니다.)"
SE05 = "Invalid search api (존재하지 않는 검색 api 입니다.)"
SE99 = "System Error (시스템 에러)"
RATE_LIMIT = "Rate limit exceeded. (속도 제한을 초과했습니다.)"


@dataclass(frozen=True, slots=True)
class ApiEntry:
    """One searchable news item: text to match plus the two links the API returns."""

    title: str
    body: str
    published_at: datetime
    originallink: str
    link: str
    flat: str = field(default="", compare=False)

    @classmethod
    def make(
        cls, title: str, body: str, published_at: datetime, originallink: str, link: str
    ) -> ApiEntry:
        """Return an entry with its squashed match text precomputed."""
        return cls(title, body, published_at, originallink, link, squash(f"{title} {body}"))


def error(status: int, code: str, message: str) -> Response:
    """Return the API's error JSON ``{"errorMessage": …, "errorCode": …}``."""
    return responses.json_body({"errorMessage": message, "errorCode": code}, status=status)


def _int_param(params: Mapping[str, Sequence[str]], name: str, default: int) -> int | None:
    values = params.get(name)
    if not values:
        return default
    try:
        return int(values[0])
    except ValueError:
        return None


def search_news(
    entries: Sequence[ApiEntry],
    params: Mapping[str, Sequence[str]],
    headers: Mapping[str, str],
    *,
    client_id: str,
    client_secret: str,
    now: datetime,
    mode: str = "ok",
) -> Response:
    """Return the API response for ``params`` (already URL-decoded) and request ``headers``."""
    sent_id = headers.get("x-naver-client-id")
    sent_secret = headers.get("x-naver-client-secret")
    if not sent_id:
        return error(401, "024", AUTH_MISSING)
    if sent_id != client_id or sent_secret != client_secret:
        return error(401, "024", AUTH_INVALID)
    if mode == "500":
        return error(500, "SE99", SE99)
    if mode == "429":
        return error(429, "012", RATE_LIMIT)

    query = (params.get("query") or [""])[0].strip()
    if not query:
        return error(400, "SE01", SE01)
    display = _int_param(params, "display", 10)
    if display is None or not 1 <= display <= MAX_DISPLAY:
        return error(400, "SE02", SE02)
    start = _int_param(params, "start", 1)
    if start is None or not 1 <= start <= MAX_START:
        return error(400, "SE03", SE03)
    sort = (params.get("sort") or ["sim"])[0]
    if sort not in ("sim", "date"):
        return error(400, "SE04", SE04)

    alternatives = parse_query(query)
    tokens = [t for alt in alternatives for t in alt]
    hits = [e for e in entries if matches(e.flat or squash(f"{e.title} {e.body}"), alternatives)]
    hits.sort(key=lambda e: e.published_at, reverse=True)
    if sort == "sim":
        hits.sort(
            key=lambda e: score(e.flat or squash(f"{e.title} {e.body}"), tokens), reverse=True
        )
    page = hits[start - 1 : start - 1 + display]
    payload = {
        "lastBuildDate": rfc822_kst(now),
        "total": len(hits),
        "start": start,
        "display": len(page),
        "items": [
            {
                "title": highlight(e.title, tokens),
                "originallink": e.originallink,
                "link": e.link,
                "description": highlight(snippet(e.body, tokens), tokens),
                "pubDate": rfc822_kst(e.published_at),
            }
            for e in page
        ],
    }
    response = responses.json_body(payload)
    if mode == "badjson":
        response.body = response.body[: max(1, len(response.body) * 3 // 5)]
    return response
