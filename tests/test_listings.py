"""Listing parsers: Naver Search API pages and RSS/Atom feeds, on own fixtures and real samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from crawler.listings import ListingError
from crawler.listings.feeds import decode_google_news_link, parse_feed
from crawler.listings.naver_api import api_error_message, api_url, clean_api_text, parse_api_page

from .conftest import REAL_SAMPLES, requires_real_samples

API_PAGE = {
    "lastBuildDate": "Thu, 15 Jan 2026 18:00:00 +0900",
    "total": 2,
    "start": 1,
    "display": 2,
    "items": [
        {
            "title": "<b>독파모</b> 1차 평가&quot;결과&quot; 발표",
            "originallink": "https://pub.example/news/1",
            "link": "https://n.news.naver.com/mnews/article/001/0000000001?sid=105",
            "description": "정부가 <b>독자</b>AI 정예팀&amp;평가\u00a0결과를",
            "pubDate": "Thu, 15 Jan 2026 17:30:00 +0900",
        },
        {
            "title": "publisher only",
            "originallink": "https://pub.example/news/2",
            "link": "https://pub.example/news/2",
            "description": "",
            "pubDate": "not a date",
        },
    ],
}


def test_api_page_items_become_leads_with_both_links() -> None:
    page = parse_api_page(json.dumps(API_PAGE).encode())
    assert (page.total, page.start, page.display) == (2, 1, 2)
    first, second = page.leads
    assert first.url == "https://n.news.naver.com/mnews/article/001/0000000001?sid=105"
    assert first.alt_urls == ("https://pub.example/news/1",)
    assert first.title == '독파모 1차 평가"결과" 발표'
    assert first.summary == "정부가 독자AI 정예팀&평가 결과를"
    assert first.published_at == datetime(2026, 1, 15, 8, 30, tzinfo=UTC)
    assert second.alt_urls == () and second.published_at is None


def test_clean_api_text_adds_no_spaces_where_highlights_were() -> None:
    assert clean_api_text("국가<b>대표</b> AI") == "국가대표 AI"


@pytest.mark.parametrize(
    "body", [b'{"items": [', b"", b"[1,2]", b'{"total": 3}', '{"items": []}'.encode("utf-16")]
)
def test_malformed_api_json_is_a_listing_error(body: bytes) -> None:
    with pytest.raises(ListingError):
        parse_api_page(body)


def test_api_error_message_uses_naver_error_shape() -> None:
    body = json.dumps({"errorMessage": "Authentication failed", "errorCode": "024"}).encode()
    assert (
        api_error_message(401, body) == "Naver API HTTP 401: Authentication failed (errorCode 024)"
    )
    assert api_error_message(500, b"<html>oops</html>").startswith("Naver API HTTP 500: <html>")


def test_api_url_keeps_sort_and_paging() -> None:
    url = api_url("http://127.0.0.1:1/v1/search/news.json", "독파모", 101, 100)
    assert url.endswith("query=%EB%8F%85%ED%8C%8C%EB%AA%A8&display=100&start=101&sort=date")


@requires_real_samples()
def test_real_api_samples_parse() -> None:
    folder = REAL_SAMPLES / "naver_api"
    wrapped = folder / "news_json_envelope_json-string-wrapped_q-bigdata_2018-07-03.json"
    page = parse_api_page(json.loads(wrapped.read_text(encoding="utf-8")).encode("utf-8"))
    assert page.total == 808610 and len(page.leads) == 5
    assert all("<b>" not in lead.title for lead in page.leads)
    assert all(lead.published_at is not None for lead in page.leads)
    items = json.loads((folder / "news_items_array_q-economy_2025-03-21.json").read_text("utf-8"))
    page = parse_api_page(json.dumps({"items": items}).encode())
    assert len(page.leads) == len(items) and page.leads[0].published_at is not None


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>가상일보</title>
<item><title><![CDATA[독파모 2차 평가 일정]]></title><link>https://pub.example/a/1</link>
<description><![CDATA[<p>요약 <b>문장</b></p>]]></description><dc:date>2026-06-01T09:00:00+09:00</dc:date></item>
<item><title>링크 없는 항목</title></item>
</channel></rss>"""


def test_feed_items_become_leads() -> None:
    leads = parse_feed(FEED.encode("utf-8"))
    assert len(leads) == 1
    assert leads[0].title == "독파모 2차 평가 일정"
    assert leads[0].summary == "요약 문장"
    assert leads[0].published_at == datetime(2026, 6, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "body", [b"", b"<html><body><h1>Service unavailable</h1>", b"\x00\x01garbage", b'{"json": 1}']
)
def test_not_a_feed_is_a_listing_error(body: bytes) -> None:
    with pytest.raises(ListingError):
        parse_feed(body)


def test_euc_kr_feed_decodes() -> None:
    feed = FEED.replace('encoding="utf-8"', 'encoding="euc-kr"').encode("cp949")
    assert parse_feed(feed)[0].title == "독파모 2차 평가 일정"


@requires_real_samples()
@pytest.mark.parametrize(
    ("name", "count", "first_title_start"),
    [
        ("publisher_rss/chosun_rss_2016-09.xml", 50, None),
        ("publisher_rss/euckr_blog_rss_ittrend.egloos.com_2005.xml", 10, None),
        ("publisher_rss/euckr_blog_rss_blog.empas.com_2005.xml", None, None),
        (
            "google_news_rss/gnews_search_en-US_q-bears-ears-monument_92items_2026-07-14.xml",
            92,
            None,
        ),
        ("google_news_rss/gnews_search_en-GB_q-brent-crude_6items_2026-08-05.xml", 6, None),
        ("google_news_rss/gnews_top_ja-JP_prettified-by-bs4_2024-02-06.xml", None, None),
    ],
)
def test_real_feeds_parse(name: str, count: int | None, first_title_start: str | None) -> None:
    leads = parse_feed((REAL_SAMPLES / name).read_bytes())
    assert leads
    if count is not None:
        assert len(leads) == count
    for lead in leads:
        assert lead.url.startswith("http")
        assert lead.title == lead.title.strip()
    if "euckr" in name:
        assert any("\uac00" <= ch <= "\ud7a3" for lead in leads for ch in lead.title + lead.summary)


@requires_real_samples()
def test_google_news_titles_lose_the_publisher_suffix() -> None:
    path = REAL_SAMPLES / "google_news_rss/gnews_search_en-GB_q-brent-crude_6items_2026-08-05.xml"
    for lead in parse_feed(path.read_bytes()):
        assert lead.published_at is not None
        assert not lead.title.endswith(" - ")


def test_decode_old_style_google_news_link() -> None:
    link = (
        "https://news.google.com/rss/articles/"
        "CBMiN2h0dHBzOi8vd3d3LmFzYWhpLmNvbS9hcnRpY2xlcy9BU1MyNTZIR1ZTMjRVVElMMDBYLmh0bWzSAQA?oc=5"
    )
    assert (
        decode_google_news_link(link) == "https://www.asahi.com/articles/ASS256HGVS24UTIL00X.html"
    )
    assert (
        decode_google_news_link("https://news.google.com/rss/articles/CBMiAU_yqLOpaque?oc=5")
        is None
    )
    assert decode_google_news_link("https://example.com/rss/articles/x") is None


def test_empty_feed_is_not_an_error_with_or_without_headers() -> None:
    empty = b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    assert parse_feed(empty) == []
    assert parse_feed(empty, {"Content-Type": "application/rss+xml; charset=utf-8"}) == []


def test_feed_titles_and_summaries_become_plain_text() -> None:
    """Markup in HTML titles/summaries is reduced to text; a plain-text title keeps its '<'."""
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title><item>'
        b"<title>AT&amp;T &lt;Korea&gt; joins</title><link>http://x.test/1</link>"
        b"<description>&lt;p&gt;Team &lt;b&gt;news&lt;/b&gt;&lt;/p&gt;</description>"
        b"</item></channel></rss>"
    )
    (lead,) = parse_feed(rss)
    assert (lead.title, lead.summary) == ("AT&T <Korea> joins", "Team news")
    atom = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        b'<entry><title type="html">A &lt;b&gt;bold&lt;/b&gt; move</title>'
        b'<link href="http://x.test/2"/><id>2</id><updated>2026-01-01T00:00:00Z</updated>'
        b"</entry></feed>"
    )
    (lead,) = parse_feed(atom)
    assert lead.title == "A bold move"
    assert lead.published_at == datetime(2026, 1, 1, tzinfo=UTC)
