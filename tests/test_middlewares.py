"""HeadMetaRefreshMiddleware redirects exactly as Scrapy's MetaRefreshMiddleware does, without
decoding (and keeping) the whole page's text."""

from __future__ import annotations

import pytest
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.utils.test import get_crawler

from crawler.middlewares import HeadMetaRefreshMiddleware

FILLER = "<p>" + "가" * 5000 + "</p>"


def _html(head: str, body: str = "<p>본문</p>", encoding: str = "utf-8") -> bytes:
    page = f'<html><head><meta charset="{encoding}">{head}</head><body>{body}</body></html>'
    return page.encode(encoding)


CASES = {
    "refresh now": _html('<meta http-equiv="refresh" content="0; url=/moved">'),
    "relative to base": _html(
        '<base href="https://other.example/dir/"><meta http-equiv="refresh" content="0;URL=next">'
    ),
    "too slow": _html('<meta http-equiv="refresh" content="600; url=/later">'),
    "in noscript": _html('<noscript><meta http-equiv="refresh" content="0; url=/js"></noscript>'),
    "beyond the head": _html("", FILLER + '<meta http-equiv="refresh" content="0; url=/late">'),
    "no refresh": _html(""),
    "euc-kr": _html('<meta http-equiv="refresh" content="0; url=/한글">', encoding="euc-kr"),
    "not http": _html('<meta http-equiv="refresh" content="0; url=ftp://files.example/x">'),
}


def _outcome(result: Request | Response) -> tuple[str, str]:
    return (type(result).__name__, result.url)


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_redirects_as_scrapy(name: str) -> None:
    crawler = get_crawler(settings_dict={"METAREFRESH_MAXDELAY": 100})
    ours = HeadMetaRefreshMiddleware.from_crawler(crawler)
    scrapys = MetaRefreshMiddleware.from_crawler(crawler)
    url = "https://news.example/a/1"
    mine = HtmlResponse(url, body=CASES[name])
    theirs = HtmlResponse(url, body=CASES[name])
    request = Request(url)
    assert _outcome(ours.process_response(request, mine)) == _outcome(
        scrapys.process_response(request, theirs)
    )
    # Scrapy's decoded the whole body and kept it on the response; ours did not.
    assert getattr(theirs, "_cached_ubody", None) is not None
    assert getattr(mine, "_cached_ubody", None) is None


def test_redirects_only_html_and_respects_dont_redirect() -> None:
    middleware = HeadMetaRefreshMiddleware.from_crawler(get_crawler())
    body = CASES["refresh now"]
    url = "https://news.example/a/1"
    redirected = middleware.process_response(Request(url), HtmlResponse(url, body=body))
    assert isinstance(redirected, Request) and redirected.url == "https://news.example/moved"
    text = TextResponse(url, body=body, encoding="utf-8")
    assert middleware.process_response(Request(url), text) is text
    kept = HtmlResponse(url, body=body)
    assert middleware.process_response(Request(url, meta={"dont_redirect": True}), kept) is kept
