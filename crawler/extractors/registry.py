"""The registry: which page object parses a URL (by host, or for mirrors by sniffing its HTML)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from tracker.article import ParsedArticle

from .base import ArticlePage, RetryPage
from .encoding import DecodedHtml, decode_html
from .generic import GenericArticlePage
from .msit import MSIT_HOSTS, MsitViewPage, looks_like_msit_view
from .naver import NAVER_HOSTS, NaverArticlePage, looks_like_naver_article

# Host -> page class. A host also matches its subdomains ("www.x" and "m.x" use "x").
PAGE_CLASSES: dict[str, type[ArticlePage]] = {
    **dict.fromkeys(NAVER_HOSTS, NaverArticlePage),
    **dict.fromkeys(MSIT_HOSTS, MsitViewPage),
}


def _class_for_host(host: str) -> type[ArticlePage] | None:
    labels = host.lower().rstrip(".").split(".")
    for i in range(len(labels) - 1):
        cls = PAGE_CLASSES.get(".".join(labels[i:]))
        if cls is not None:
            return cls
    return None


def get_page_class(url: str, html: str | bytes | None = None) -> type[ArticlePage]:
    """Return the page class for ``url``: by host, else by sniffing ``html``, else generic.

    Sniffing recognises Naver article markup (``#dic_area``, ``media_end_head``, legacy
    ``#articleBodyContents`` …) so a Naver page served from a mirror such as 127.0.0.1 still
    gets the Naver page object.
    """
    cls = _class_for_host(urlsplit(url).hostname or "")
    if cls is not None:
        return cls
    if html:
        text = html if isinstance(html, str) else html.decode("utf-8", errors="replace")
        if looks_like_naver_article(text):
            return NaverArticlePage
        if looks_like_msit_view(text):
            return MsitViewPage
    return GenericArticlePage


def parse_article(url: str, body: bytes, headers: Mapping[str, str] | None = None) -> ParsedArticle:
    """Return the article in an HTTP response body, or raise NotAnArticle / RetryPage."""
    if not body.strip():
        raise RetryPage(url, "empty response body: the server sent no HTML")
    decoded: DecodedHtml = decode_html(body, headers)
    page_class = get_page_class(url, decoded.text)
    return page_class(url, body, headers, decoded=decoded).to_article()
