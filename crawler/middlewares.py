"""Downloader middlewares of the crawl process."""

from __future__ import annotations

from collections.abc import Iterable

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request, Response
from scrapy.settings import BaseSettings
from scrapy.utils.httpobj import urlparse_cached
from w3lib.html import get_base_url, get_meta_refresh

# Scrapy looks for <base> and <meta http-equiv="refresh"> in this many characters of a page.
HEAD_CHARS = 4096
# Bytes enough for HEAD_CHARS characters in any encoding (UTF-8 and UTF-32 use up to four).
_HEAD_BYTES = 4 * HEAD_CHARS


def head_meta_refresh(
    response: HtmlResponse, ignore_tags: Iterable[str] = ("script", "noscript")
) -> tuple[None, None] | tuple[float, str]:
    """Return the page's meta refresh (interval, absolute URL), or (None, None).

    What scrapy.utils.response.get_meta_refresh finds, reading the same first 4096 characters,
    without ``response.text``: that decodes the whole body and keeps the string on the
    response for as long as the response lives.
    """
    encoding = response.encoding
    head = response.body[:_HEAD_BYTES].decode(encoding, errors="replace")[:HEAD_CHARS]
    base_url = get_base_url(head, response.url, encoding)
    return get_meta_refresh(head, base_url, encoding, ignore_tags=ignore_tags)


class HeadMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's MetaRefreshMiddleware, reading the refresh tag from the page's head only.

    Scrapy's decodes every HTML page it sees and caches the text on the response. An article
    response then waits for a parse worker with its text beside its body (about 10 MB at the
    peak of a large crawl), though the crawl process never reads the text: the body's bytes go
    to the worker. Redirects are the same: same settings, same tags, same characters scanned.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.ignore_tags = settings.getlist("METAREFRESH_IGNORE_TAGS")
        self.max_delay = settings.getint("METAREFRESH_MAXDELAY")

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if (
            request.meta.get("dont_redirect", False)
            or request.method == "HEAD"
            or not isinstance(response, HtmlResponse)
            or urlparse_cached(request).scheme not in {"http", "https"}
        ):
            return response
        interval, url = head_meta_refresh(response, self.ignore_tags)
        if not url:
            return response
        redirected = self._redirect_request_using_get(request, response, url)
        if urlparse_cached(redirected).scheme not in {"http", "https"}:
            return response
        if interval is not None and interval < self.max_delay:
            return self._redirect(redirected, request, "meta refresh")
        return response
