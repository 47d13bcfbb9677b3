"""Deliberately broken responses under /fail/ for testing error handling in crawlers."""

from __future__ import annotations

from collections.abc import Callable

from tracker.world import responses
from tracker.world.responses import Response

FAIL_ROUTES = (
    "/fail/404",
    "/fail/500",
    "/fail/429",
    "/fail/hang",
    "/fail/empty",
    "/fail/notxml.xml",
    "/fail/badjson",
    "/fail/wrongcharset",
    "/fail/broken.html",
)
HANG_SECONDS = 30.0

_GARBAGE_HTML = (
    "<!DOCTYPE html><html><head><title>점검 중입니다</title></head><body>"
    "<h1>서비스 점검 안내</h1><p>보다 나은 서비스를 위해 시스템 점검을 진행하고 있습니다."
    "<br>이용에 불편을 드려 죄송합니다.</p><div class='footer'>&copy; 2026 &nbsp; <b>feed"
)


def failure(
    name: str, euckr_article: Callable[[], bytes], utf8_article: Callable[[], bytes]
) -> Response | None:
    """Return the broken response for /fail/{name}, or None for an unknown name.

    ``euckr_article`` and ``utf8_article`` render a real world article page on demand (the
    wrong-charset and truncated-HTML cases are built from them).
    """
    if name == "404":
        return responses.not_found("Not Found")
    if name == "500":
        return responses.html("<html><body><h1>500 Internal Server Error</h1></body></html>", 500)
    if name == "429":
        response = responses.html("<html><body><h1>429 Too Many Requests</h1></body></html>", 429)
        response.headers.append(("Retry-After", "1"))
        return response
    if name == "hang":
        return Response(200, hang=True)
    if name == "empty":
        return responses.html(b"")
    if name == "notxml.xml":
        return responses.text(200, _GARBAGE_HTML, "application/rss+xml")
    if name == "badjson":
        truncated = (
            '{"lastBuildDate":"Thu, 15 Jan 2026 14:30:00 +0900","total":12,'
            '"start":1,"display":10,"items":[{"title":"독파모 1차'
        )
        return responses.text(200, truncated, "application/json")
    if name == "wrongcharset":
        # A classic Korean misconfiguration: the server says UTF-8, the bytes (and the
        # page's own <meta>) are EUC-KR.
        return responses.html(euckr_article(), charset="UTF-8")
    if name == "broken.html":
        # Cut inside the article body, a few bytes into the third paragraph (possibly in
        # the middle of a multi-byte character), as a dropped connection would.
        page = utf8_article()
        pos = page.find(b"<article")
        for _ in range(2):
            pos = page.find(b"</p>", pos + 1)
        cut = pos + 17 if pos > 0 else len(page) // 2
        return responses.html(page[:cut])
    return None
