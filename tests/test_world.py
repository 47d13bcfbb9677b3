"""Tests for the local news world (tracker.world): routes, formats, days, counting, failures."""

from __future__ import annotations

import http.client
import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import feedparser
import lxml.html
import pytest

from tracker.world import NewsWorld
from tracker.world.content import (
    Publisher,
    WorldArticle,
    WorldDataError,
    load_articles,
    load_publishers,
    parse_article,
)
from tracker.world.dates import KST, iso_kst, naver_attr
from tracker.world.feeds import gnews_token, gnews_url
from tracker.world.generator import (
    NAVER_HEADS,
    Generated,
    duplicate_source,
    gen_layout,
    make_doc,
)
from tracker.world.search import parse_query

GENERATED = 30
AUTH = {"X-Naver-Client-Id": "test-id", "X-Naver-Client-Secret": "test-secret"}
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> dict:
        return json.loads(self.body)


def fetch(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> Reply:
    """GET (or HEAD) without following redirects."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request(method, target, headers={"User-Agent": "world-test/1.0", **(headers or {})})
        response = conn.getresponse()
        return Reply(response.status, response.msg, response.read())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def shared_world() -> Iterator[NewsWorld]:
    world = NewsWorld(generated=GENERATED).start()
    yield world
    world.stop()


@pytest.fixture
def world(shared_world: NewsWorld) -> NewsWorld:
    shared_world.set_day(None)
    shared_world.api_mode = "ok"
    shared_world.reset_counts()
    return shared_world


def page_text(reply: Reply) -> str:
    return str(lxml.html.fromstring(reply.body).text_content())


def api(world: NewsWorld, query: str, headers: dict[str, str] = AUTH, **params: object) -> Reply:
    qs = "&".join([f"query={quote(query)}", *(f"{k}={v}" for k, v in params.items())])
    return fetch(world.url(f"/v1/search/news.json?{qs}"), headers)


def by_id(article_id: str) -> WorldArticle:
    return next(a for a in load_articles() if a.id == article_id)


# -- content ---------------------------------------------------------------------------------


def test_storyline_covers_the_brief() -> None:
    articles = load_articles()
    assert 20 <= len(articles) <= 40
    assert sorted({a.day for a in articles}) == [1, 2, 3, 4, 5, 6]
    kinds = {a.kind for a in articles}
    assert {"speculation", "rumour", "official", "syndicated", "adjacent", "context"} <= kinds
    assert sum(a.lang == "en" for a in articles) >= 2
    assert all(a.official == (a.publisher.key == "msit") for a in articles)
    syndicated = [a for a in articles if a.kind == "syndicated"]
    assert len(syndicated) == 3
    assert {a.duplicate_of for a in syndicated} == {"d4-techwire-stage1-results"}
    assert any("<script>alert(1)</script>" in a.title for a in articles)
    assert any("&quot;" in a.title_html and "&hellip;" in a.title_html for a in articles)
    bodies = " ".join(a.body for a in articles)
    for phrase in ("40점 만점 중 33.6점", "5000억 파라미터", "519B-A33B"):
        assert phrase in bodies
    rumour = [a for a in articles if a.kind == "rumour"]
    assert len(rumour) == 1 and rumour[0].day == 3
    assert by_id("d4-techwire-stage1-results").on_naver


def test_stated_outcomes_never_contradict_each_other() -> None:
    seen: dict[tuple[str, str], tuple[str, str]] = {}
    for article in load_articles():
        for line in article.outcomes:
            team, _, rest = line.partition(": ")
            outcome, _, stage = rest.partition(" (")
            stage_name = stage.split(",")[0].rstrip(")")
            previous = seen.setdefault((team, stage_name), (outcome, article.id))
            assert previous[0] == outcome, f"{article.id} contradicts {previous[1]}"
    assert seen[("네이버클라우드", "1차 단계평가")][0] == "탈락"
    assert seen[("NC AI", "1차 단계평가")][0] == "탈락"
    assert seen[("모티프테크놀로지스", "추가 공모")][0] == "추가 선정"
    # Only confirmed reports carry outcomes: never speculation, rumour or adjacent stories.
    for article in load_articles():
        if article.kind in ("speculation", "rumour", "adjacent", "denial", "noise"):
            assert not article.outcomes, article.id


def test_days_do_not_overlap_in_time() -> None:
    articles = load_articles()
    for day in range(1, 6):
        latest = max(a.updated_at for a in articles if a.day == day)
        earliest_next = min(a.published_at for a in articles if a.day == day + 1)
        assert latest < earliest_next


def test_parse_article_rejects_inconsistent_frontmatter() -> None:
    publishers = load_publishers()
    good = (ROOT / "tracker/world/data/articles/d3-hanbit-nc-denial.md").read_text("utf-8")
    assert parse_article(good, publishers, "x").id == "d3-hanbit-nc-denial"
    with pytest.raises(WorldDataError, match="layout"):
        parse_article(good.replace("layout: naver", "layout: publisher"), publishers, "x")
    with pytest.raises(WorldDataError, match="unknown publisher_host"):
        parse_article(
            good.replace("publisher_host: hanbit", "publisher_host: nope"), publishers, "x"
        )
    with pytest.raises(WorldDataError, match=r"\+09:00"):
        parse_article(good.replace("15:10:00+09:00", "15:10:00+00:00"), publishers, "x")
    euckr = publishers["kyungje"]
    assert isinstance(euckr, Publisher) and euckr.is_euckr
    bad = (ROOT / "tracker/world/data/articles/d4-kyungje-stage1-wire.md").read_text("utf-8")
    with pytest.raises(UnicodeEncodeError):
        parse_article(bad.replace("생존", "생존 🚀"), publishers, "x")


# -- Naver pages -----------------------------------------------------------------------------


def test_naver_page_has_the_real_markup(world: NewsWorld) -> None:
    article = by_id("d4-techwire-stage1-results")
    reply = fetch(world.url(f"/mnews/article/{article.oid}/{article.aid}?sid=105"))
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/html; charset=UTF-8"
    assert 30_000 <= len(reply.body) <= 60_000
    doc = lxml.html.fromstring(reply.body)
    og_url = doc.xpath("//meta[@property='og:url']/@content")[0]
    assert og_url.startswith(f"https://n.news.naver.com/mnews/article/{article.oid}/{article.aid}")
    assert doc.xpath("//a[@class='media_end_head_top_logo']/img/@alt")[0] == "테크와이어"
    assert doc.xpath("string(//h2[@id='title_area']/span)") == article.title
    date = doc.xpath("//span[contains(@class,'_ARTICLE_DATE_TIME')]/@data-date-time")[0]
    assert date == naver_attr(article.published_at)
    modified = doc.xpath("//span[contains(@class,'_ARTICLE_MODIFY_DATE_TIME')]")
    assert modified[0].get("data-modify-date-time") == naver_attr(article.modified_at)
    assert doc.xpath("string(//em[@class='media_end_head_journalist_name'])") == "박지훈 기자"
    summary = doc.xpath("string(//article[@id='dic_area']/strong[@class='media_end_summary'])")
    assert summary == article.summary
    assert doc.xpath("string(//em[@class='img_desc'])") == article.photo_caption
    body = doc.xpath("//article[@id='dic_area']")[0]
    assert len(body.findall("br")) >= 2 * (len(article.paragraphs) - 1)
    body_text = body.text_content()
    assert all(p in body_text for p in article.paragraphs)
    # Chrome noise around the article: other headlines must not be inside #dic_area.
    linked = doc.xpath("//li[@class='media_end_linked_item']/a/text()")
    assert linked and not any(title in body_text for title in linked)
    origin = doc.xpath("//a[contains(@class,'media_end_head_origin_link')]/@href")[0]
    assert origin.startswith(article.publisher_url(world.base_url))
    assert "utm_source=naver" in origin
    original = fetch(origin)
    assert original.status == 200
    assert (
        lxml.html.fromstring(original.body).xpath("string(//h1[@class='headline'])")
        == article.title
    )


NAVER_SELECTORS = (
    "meta[property='og:url']",
    "meta[property='og:article:author']",
    "a.media_end_head_top_logo img.media_end_head_top_logo_img[alt]",
    "h2#title_area span",
    "span._ARTICLE_DATE_TIME[data-date-time]",
    "span._ARTICLE_MODIFY_DATE_TIME[data-modify-date-time]",
    "a.media_end_head_origin_link[href]",
    "article#dic_area._article_content",
    "article#dic_area strong.media_end_summary",
    "article#dic_area span.end_photo_org em.img_desc",
    "div.copyright p.c_text",
    "em.media_end_categorize_item",
    "ul.media_end_linked_list a",
)
JOURNALIST_SELECTORS = ("em.media_end_head_journalist_name", "div.byline span.byline_s")


def test_naver_markup_matches_the_real_sample_structure(world: NewsWorld) -> None:
    samples = ROOT / ".." / "shared" / "real-samples" / "naver_article"
    news1 = samples / "nnews_mnews_421-0008770777_news1_2026-02-12.html"
    jtbc = samples / "nnews_article_437-0000483987_jtbc_2026-03-21.html"
    if not news1.exists() or not jtbc.exists():
        pytest.skip("real samples not available")
    article = by_id("d4-techwire-stage1-results")
    ours = lxml.html.fromstring(fetch(article.naver_url(world.base_url) or "").body)
    real = lxml.html.fromstring(news1.read_bytes())
    real_with_author = lxml.html.fromstring(jtbc.read_bytes())
    for selector in NAVER_SELECTORS:
        assert real.cssselect(selector), f"sample lacks {selector}"
        assert ours.cssselect(selector), f"world page lacks {selector}"
    for selector in JOURNALIST_SELECTORS:
        assert real_with_author.cssselect(selector) and ours.cssselect(selector), selector
    stamp = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
    for doc in (real, ours):
        value = doc.cssselect("span._ARTICLE_DATE_TIME")[0].get("data-date-time")
        assert re.fullmatch(stamp, value)


def test_naver_page_url_forms_and_missing_author(world: NewsWorld) -> None:
    column = by_id("d2-kyungje-column")
    long_form = fetch(world.url(f"/mnews/article/{column.oid}/{column.aid}"))
    short_form = fetch(world.url(f"/article/{column.oid}/{column.aid}?sid=110"))
    assert long_form.status == short_form.status == 200
    assert long_form.body == short_form.body
    doc = lxml.html.fromstring(long_form.body)
    assert doc.xpath("//em[@class='media_end_head_journalist_name']") == []
    assert doc.xpath("//*[@class='byline_s']") == []
    assert fetch(world.url("/mnews/article/901/9999999999")).status == 404


def test_hostile_title_is_escaped_text(world: NewsWorld) -> None:
    hostile = by_id("d6-digitalpost-schedule-hostile")
    reply = fetch(hostile.naver_url(world.base_url) or "")
    assert b"<script>alert(1)</script>" not in reply.body
    doc = lxml.html.fromstring(reply.body)
    assert doc.xpath("string(//h2[@id='title_area']/span)") == hostile.title
    page = fetch(hostile.publisher_url(world.base_url))
    assert b"<script>alert(1)" not in page.body
    ld = lxml.html.fromstring(page.body).xpath("//script[@type='application/ld+json']/text()")
    assert json.loads(ld[0])["headline"] == hostile.title


# -- publisher pages -------------------------------------------------------------------------


def test_publisher_page_metadata(world: NewsWorld) -> None:
    article = by_id("d1-hanbit-lg-kexaone")
    url = article.publisher_url(world.base_url)
    reply = fetch(url)
    assert reply.status == 200
    doc = lxml.html.fromstring(reply.body)
    ld = json.loads(doc.xpath("//script[@type='application/ld+json']/text()")[0])
    assert ld["@type"] == "NewsArticle"
    assert ld["headline"] == article.title
    assert ld["datePublished"] == iso_kst(article.published_at)
    assert ld["author"][0]["name"] == article.author
    meta = {m.get("property"): m.get("content") for m in doc.xpath("//meta[@property]")}
    assert meta["og:url"] == url
    assert meta["article:published_time"] == iso_kst(article.published_at)
    assert doc.xpath("//link[@rel='canonical']/@href") == [url]
    assert article.author in doc.xpath("string(//div[@class='byline'])")
    text = doc.xpath("string(//article)")
    assert all(p in text for p in article.paragraphs)
    assert doc.xpath("//section[@class='related-articles']//a")  # boilerplate to strip


def test_tracking_params_and_aliases_reach_the_same_article(world: NewsWorld) -> None:
    article = by_id("d4-techwire-stage1-results")
    clean = fetch(article.publisher_url(world.base_url))
    tracked = fetch(article.publisher_url(world.base_url) + "?utm_source=naver&utm_medium=referral")
    alias = fetch(world.url(f"/pub/techwire{article.aliases[0]}"))
    assert clean.status == tracked.status == alias.status == 200
    assert clean.body == tracked.body == alias.body
    hanbit = by_id("d1-hanbit-lg-kexaone")
    with_query = hanbit.publisher_url(world.base_url) + "&utm_campaign=x&fbclid=abc"
    assert fetch(with_query).body == fetch(hanbit.publisher_url(world.base_url)).body
    assert fetch(world.url("/pub/hanbit/news/articleView.html?idxno=1")).status == 404


def test_euckr_pages_are_real_cp949_bytes(world: NewsWorld) -> None:
    article = by_id("d4-kyungje-stage1-wire")
    reply = fetch(article.publisher_url(world.base_url))
    assert reply.header("Content-Type") == "text/html; charset=EUC-KR"
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    page = reply.body.decode("cp949")
    assert '<meta charset="euc-kr">' in page
    assert article.title in page and article.paragraphs[2] in page
    home = fetch(world.url("/pub/kyungje/"))
    assert article.title in home.body.decode("cp949")


def test_official_press_release_page(world: NewsWorld) -> None:
    release = by_id("d4-msit-stage1-results")
    reply = fetch(release.publisher_url(world.base_url))
    doc = lxml.html.fromstring(reply.body)
    assert doc.xpath("string(//div[@class='view_head']/h2)") == release.title
    assert "40점 만점 중 33.6점" in doc.xpath("string(//div[@class='view_cont'])")


# -- Naver search API ------------------------------------------------------------------------


def test_api_requires_naver_credentials(world: NewsWorld) -> None:
    missing = api(world, "독파모", headers={})
    assert missing.status == 401
    assert missing.json()["errorCode"] == "024"
    assert "Not Exist Client ID" in missing.json()["errorMessage"]
    wrong = api(world, "독파모", headers={**AUTH, "X-Naver-Client-Secret": "nope"})
    assert wrong.status == 401
    assert set(wrong.json()) == {"errorMessage", "errorCode"}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"display": 101}, "SE02"),
        ({"display": 0}, "SE02"),
        ({"start": 1001}, "SE03"),
        ({"start": "x"}, "SE03"),
        ({"sort": "popular"}, "SE04"),
    ],
)
def test_api_rejects_bad_parameters(world: NewsWorld, params: dict, code: str) -> None:
    reply = api(world, "독파모", **params)
    assert reply.status == 400
    assert reply.json()["errorCode"] == code


def test_api_rejects_empty_query_and_unknown_endpoint(world: NewsWorld) -> None:
    assert fetch(world.url("/v1/search/news.json?query="), AUTH).json()["errorCode"] == "SE01"
    unknown = fetch(world.url("/v1/search/cafe.json?query=x"), AUTH)
    assert unknown.status == 404 and unknown.json()["errorCode"] == "SE05"


def test_api_envelope_paging_and_links(world: NewsWorld) -> None:
    first = api(world, "독파모", display=3, start=1, sort="date")
    assert first.status == 200
    assert first.header("Content-Type") == "application/json; charset=UTF-8"
    assert b"\\/" in first.body  # the real API escapes slashes
    data = first.json()
    assert list(data) == ["lastBuildDate", "total", "start", "display", "items"]
    assert data["lastBuildDate"].endswith("+0900")
    parsedate_to_datetime(data["lastBuildDate"])
    total = data["total"]
    expected = [a for a in load_articles() if "독파모" in a.title + a.body]
    assert total == len(expected)
    second = api(world, "독파모", display=3, start=4, sort="date").json()
    assert second["total"] == total and second["start"] == 4
    everything = api(world, "독파모", display=100, sort="date").json()["items"]
    assert len(everything) == total
    links = [i["link"] for i in everything]
    assert [i["link"] for i in data["items"] + second["items"]] == links[:6]
    dates = [parsedate_to_datetime(i["pubDate"]) for i in everything]
    assert dates == sorted(dates, reverse=True)
    for item in everything:
        assert set(item) == {"title", "originallink", "link", "description", "pubDate"}
        assert "<b>독파모</b>" in item["title"] + item["description"]
        article = next(
            a for a in expected if a.publisher_url(world.base_url) == item["originallink"]
        )
        assert item["link"] == (article.naver_url(world.base_url) or item["originallink"])
    hostile = next(i for i in everything if "alert(1)" in i["title"])
    assert "&lt;script&gt;" in hostile["title"] and "&quot;" in hostile["title"]
    past_end = api(world, "독파모", start=total + 1).json()
    assert past_end["items"] == [] and past_end["display"] == 0


def test_api_matching_ignores_spaces_and_needs_all_tokens(world: NewsWorld) -> None:
    spaced = api(world, "독자 AI 파운데이션", display=100).json()
    squashed = api(world, "독자AI 파운데이션", display=100).json()
    assert spaced["total"] == squashed["total"] > 0
    both = api(world, "네이버클라우드 탈락", display=100).json()["total"]
    one = api(world, "네이버클라우드", display=100).json()["total"]
    assert 0 < both < one
    assert api(world, "존재하지않는검색어").json()["total"] == 0
    assert parse_query('"국대 AI" OR 독파모 when:7d') == [["국대 AI"], ["독파모"]]


def test_api_follows_the_day(world: NewsWorld) -> None:
    world.set_day(3)
    data = api(world, "독파모", display=100).json()
    day3_end = max(a.updated_at for a in load_articles() if a.day == 3)
    assert data["total"] == sum(
        1 for a in load_articles() if a.day <= 3 and "독파모" in a.title + a.body
    )
    assert all(parsedate_to_datetime(i["pubDate"]) <= day3_end for i in data["items"])
    world.set_day(4)
    assert api(world, "독파모", display=100).json()["total"] > data["total"]


@pytest.mark.parametrize(("mode", "status", "code"), [("500", 500, "SE99"), ("429", 429, "012")])
def test_api_failure_modes(world: NewsWorld, mode: str, status: int, code: str) -> None:
    world.api_mode = mode
    reply = api(world, "독파모")
    assert reply.status == status
    assert reply.json()["errorCode"] == code


def test_api_badjson_mode(world: NewsWorld) -> None:
    world.api_mode = "badjson"
    reply = api(world, "독파모")
    assert reply.status == 200
    with pytest.raises(json.JSONDecodeError):
        reply.json()
    with pytest.raises(ValueError):
        world.api_mode = "flaky"


# -- feeds -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(load_publishers()))
def test_publisher_feeds_are_well_formed(world: NewsWorld, key: str) -> None:
    expected = [a for a in load_articles() if a.publisher.key == key]
    for path in (f"/rss/{key}.xml", f"/atom/{key}.xml"):
        reply = fetch(world.url(path))
        assert reply.status == 200
        parsed = feedparser.parse(reply.body)
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert len(parsed.entries) == len(expected)
        links = {e.link for e in parsed.entries}
        assert links == {a.publisher_url(world.base_url) for a in expected}
    if load_publishers()[key].is_euckr:
        raw = fetch(world.url(f"/rss/{key}.xml"))
        assert raw.header("Content-Type") == "application/rss+xml; charset=EUC-KR"
        assert raw.body.startswith(b'<?xml version="1.0" encoding="euc-kr"?>')
        assert expected[0].title in raw.body.decode("cp949")


def test_rss_items_use_cdata_and_both_dates(world: NewsWorld) -> None:
    text = fetch(world.url("/rss/digitalpost.xml")).text
    assert "<title><![CDATA[독파모 2차 단계평가 6월 말 실시<script>alert(1)</script>" in text
    assert re.search(r"<dc:date>2026-02-24T18:30:00\+09:00</dc:date>", text)
    assert "<pubDate>Tue, 24 Feb 2026 18:30:00 +0900</pubDate>" in text
    msit = feedparser.parse(fetch(world.url("/rss/msit.xml")).body)
    assert msit.feed.title.endswith("보도자료")
    assert all(e.author == "과학기술정보통신부" for e in msit.entries)


def test_feeds_follow_the_day(world: NewsWorld) -> None:
    world.set_day(1)
    entries = feedparser.parse(fetch(world.url("/rss/techwire.xml")).body).entries
    assert [e.link for e in entries] == [
        by_id("d1-techwire-presentation").publisher_url(world.base_url)
    ]


def test_conditional_get(world: NewsWorld) -> None:
    world.set_day(4)
    url = world.url("/rss/hanbit.xml")
    first = fetch(url)
    etag, last_modified = first.header("ETag"), first.header("Last-Modified")
    assert etag and etag.startswith('"') and last_modified
    assert fetch(url).header("ETag") == etag
    not_modified = fetch(url, {"If-None-Match": etag})
    assert not_modified.status == 304 and not_modified.body == b""
    assert fetch(url, {"If-Modified-Since": last_modified}).status == 304
    assert (
        fetch(url, {"If-None-Match": '"other"', "If-Modified-Since": last_modified}).status == 200
    )
    for day in (5, 6, None):
        world.set_day(day)
        later = fetch(url, {"If-None-Match": etag})
        assert later.status == 200 and later.header("ETag") != etag
        etag = later.header("ETag")
    atom = fetch(world.url("/atom/msit.xml"))
    assert fetch(world.url("/atom/msit.xml"), {"If-None-Match": atom.header("ETag")}).status == 304


def test_google_news_search_feed_and_redirect(world: NewsWorld) -> None:
    reply = fetch(world.url(f"/rss/search?q={quote('독파모')}&hl=ko&gl=KR&ceid=KR:ko"))
    assert reply.status == 200
    assert b"\n" not in reply.body.strip()  # the real feed is a single line
    assert b"<generator>NFE/5.0</generator>" in reply.body
    parsed = feedparser.parse(reply.body)
    assert not parsed.bozo
    expected = [a for a in load_articles() if "독파모" in a.title + a.body]
    assert len(parsed.entries) == len(expected)
    entry = parsed.entries[0]
    assert re.fullmatch(rf"{re.escape(world.base_url)}/rss/articles/CBMi[\w-]+\?oc=5", entry.link)
    assert entry.title.endswith(" - " + entry.source.title)
    assert entry.source.href.startswith(world.url("/pub/"))
    redirect = fetch(entry.link)
    assert redirect.status == 302
    target = redirect.header("Location")
    assert target and fetch(target).status == 200
    assert gnews_url(gnews_token(target)) == target
    assert fetch(world.url("/rss/articles/CBMibm9wZQ?oc=5")).status == 404


# -- days, counting, furniture ---------------------------------------------------------------


def test_future_articles_do_not_exist_yet(world: NewsWorld) -> None:
    release = by_id("d4-msit-stage1-results")
    wire = by_id("d4-techwire-stage1-results")
    world.set_day(3)
    assert fetch(release.publisher_url(world.base_url)).status == 404
    assert fetch(wire.naver_url(world.base_url) or "").status == 404
    index = page_text(fetch(world.url("/")))
    assert wire.title not in index and by_id("d3-aitimeline-rumour").title in index
    world.set_day(4)
    assert fetch(release.publisher_url(world.base_url)).status == 200
    with pytest.raises(ValueError):
        world.set_day(7)


def test_requests_are_counted_and_logged(world: NewsWorld) -> None:
    article = by_id("d1-techwire-presentation")
    url = article.naver_url(world.base_url) or ""
    fetch(url)
    fetch(url, {"If-None-Match": '"x"'})
    path = urlsplit(url).path
    assert world.requests[path] == 2
    method, target, headers = world.request_log[-1]
    assert (method, target) == ("GET", f"{path}?sid=105")
    assert headers["user-agent"] == "world-test/1.0"
    assert headers["if-none-match"] == '"x"'
    api(world, "독파모")
    assert "x-naver-client-secret" not in world.request_log[-1][2]
    world.reset_counts()
    assert not world.requests and not world.request_log


def test_head_and_furniture(world: NewsWorld) -> None:
    url = world.url("/rss/techwire.xml")
    head = fetch(url, method="HEAD")
    assert head.status == 200 and head.body == b""
    assert head.header("Content-Length") == str(len(fetch(url).body))
    assert fetch(world.url("/robots.txt")).text.startswith("User-agent: *")
    assert fetch(world.url("/static/img/x.jpg")).header("Content-Type") == "image/gif"
    assert fetch(world.url("/no/such/page")).status == 404
    assert fetch(world.url("/pub/hanbit/")).status == 200


# -- failure routes --------------------------------------------------------------------------


def test_failure_routes(world: NewsWorld) -> None:
    assert fetch(world.url("/fail/404")).status == 404
    assert fetch(world.url("/fail/500")).status == 500
    limited = fetch(world.url("/fail/429"))
    assert limited.status == 429 and limited.header("Retry-After") == "1"
    empty = fetch(world.url("/fail/empty"))
    assert empty.status == 200 and empty.body == b""
    garbage = fetch(world.url("/fail/notxml.xml"))
    assert (garbage.header("Content-Type") or "").startswith("application/rss+xml")
    assert feedparser.parse(garbage.body).bozo
    with pytest.raises(json.JSONDecodeError):
        fetch(world.url("/fail/badjson")).json()
    wrong = fetch(world.url("/fail/wrongcharset"))
    assert wrong.header("Content-Type") == "text/html; charset=UTF-8"
    with pytest.raises(UnicodeDecodeError):
        wrong.body.decode("utf-8")
    assert by_id("d4-kyungje-stage1-wire").title in wrong.body.decode("cp949")
    broken = fetch(world.url("/fail/broken.html"))
    assert broken.status == 200 and b"</html>" not in broken.body
    assert b"<article" in broken.body


def test_hang_route_does_not_block_stop() -> None:
    world = NewsWorld().start()
    outcome: list[BaseException | Reply] = []

    def call() -> None:
        try:
            outcome.append(fetch(world.url("/fail/hang")))
        except BaseException as exc:  # the connection is dropped without an answer
            outcome.append(exc)

    caller = threading.Thread(target=call, daemon=True)
    caller.start()
    for _ in range(200):
        if world.requests["/fail/hang"]:
            break
        time.sleep(0.01)
    assert world.requests["/fail/hang"] == 1
    stopper = threading.Thread(target=world.stop, daemon=True)
    stopper.start()
    stopper.join(timeout=10)
    assert not stopper.is_alive(), "stop() is blocked by the hanging request"
    caller.join(timeout=10)
    assert outcome and not isinstance(outcome[0], Reply)


def test_world_restarts_and_works_as_context_manager() -> None:
    with NewsWorld(day=1, generated=3) as world:
        first = world.base_url
        assert fetch(world.url("/gen/naver/2")).status == 200
    with pytest.raises(RuntimeError):
        _ = world.base_url
    world.start()
    try:
        assert fetch(world.url("/")).status == 200
        origin = lxml.html.fromstring(fetch(world.url("/gen/naver/2")).body).xpath(
            "//a[contains(@class,'media_end_head_origin_link')]/@href"
        )[0]
        assert origin.startswith(world.base_url)
        assert fetch(world.url("/")).header("Server") == "nginx"
    finally:
        world.stop()
        world.stop()  # idempotent
    assert first.startswith("http://127.0.0.1:")


# -- generated corpus ------------------------------------------------------------------------


def test_generated_pages(world: NewsWorld) -> None:
    ids = set()
    for index in range(GENERATED):
        doc = make_doc(index)
        ids.add((doc.oid, doc.aid))
    assert len(ids) == GENERATED
    page = fetch(world.url("/gen/naver/3"))
    assert page.status == 200 and 30_000 <= len(page.body) <= 60_000
    assert fetch(world.url("/gen/naver/3")).body == page.body
    assert fetch(world.url(f"/gen/naver/{GENERATED}")).status == 404
    doc = lxml.html.fromstring(page.body)
    origin = doc.xpath("//a[contains(@class,'media_end_head_origin_link')]/@href")[0]
    assert origin == world.url("/gen/publisher/3")
    assert fetch(origin).status == 200


def _dic_text(world: NewsWorld, index: int) -> str:
    """Return the body text of a generated Naver page: #dic_area without the sub-headline,
    photo and video blocks (each page draws its own; an exact copy repeats only the text)."""
    page = fetch(world.url(f"/gen/naver/{index}")).body
    area = lxml.html.fromstring(page).xpath("//article[@id='dic_area']")[0]
    for block in area.xpath(
        ".//*[contains(@class,'media_end_summary') or contains(@class,'end_photo_org')"
        " or contains(@class,'vod_player_wrap')]"
    ):
        block.drop_tree()
    for br in area.iter("br"):
        br.tail = "\n" + (br.tail or "")
    return " ".join(area.text_content().split())


def test_generated_duplicates_are_where_documented(world: NewsWorld) -> None:
    assert duplicate_source(17) == (16, "exact")
    assert duplicate_source(18) == (16, "rewrite")
    assert duplicate_source(16) is None
    assert _dic_text(world, 17) == _dic_text(world, 16)
    original, rewrite = _dic_text(world, 16), _dic_text(world, 18)
    assert rewrite != original
    words_a, words_b = set(original.split()), set(rewrite.split())
    assert len(words_a & words_b) / len(words_a | words_b) > 0.6
    assert _dic_text(world, 15) != _dic_text(world, 16)


def test_generated_naver_heads_follow_the_real_counts(world: NewsWorld) -> None:
    # The Naver copies open #dic_area as the saved real pages do, in about their proportions.
    heads = Counter(make_doc(index).naver_head for index in range(2000))
    total = sum(weight for _, weight in NAVER_HEADS)
    for head, weight in NAVER_HEADS:
        assert abs(heads[head] / 2000 - weight / total) < 0.04, (head, heads)
    seen = set()
    for index in range(GENERATED):
        doc = make_doc(index)
        if doc.naver_head in seen:
            continue
        seen.add(doc.naver_head)
        page = lxml.html.fromstring(fetch(world.url(f"/gen/naver/{index}")).body)
        area = page.xpath("//article[@id='dic_area']")[0]
        first = area[0] if len(area) else None
        if doc.naver_head == "text":
            assert (area.text or "").strip() and {child.tag for child in area} == {"br"}
        elif doc.naver_head == "video":
            assert first is not None and "vod_player_wrap" in first.get("class", "")
        else:
            assert first is not None and first.get("class") == "media_end_summary"
            assert first.text_content() == doc.summary
            assert area.xpath(".//em[@class='img_desc']")[0].text == doc.photo_caption
        assert _dic_text(world, index) == " ".join(doc.body.split())
    assert seen == {head for head, _ in NAVER_HEADS}


def test_generated_feed_and_api(world: NewsWorld) -> None:
    page1 = feedparser.parse(fetch(world.url("/gen/feed.xml?offset=0&limit=10")).body)
    page2 = feedparser.parse(fetch(world.url("/gen/feed.xml?offset=10&limit=10")).body)
    links = [e.link for e in page1.entries + page2.entries]
    assert links == [
        world.url(f"/gen/publisher/{i}") for i in range(GENERATED - 1, GENERATED - 21, -1)
    ]
    data = fetch(
        world.url(
            "/gen/v1/search/news.json?display=100&sort=date"
            f"&query={quote('독자 AI 파운데이션 모델')}"
        ),
        AUTH,
    ).json()
    assert data["total"] == GENERATED
    assert data["items"][0]["link"] == world.url(f"/gen/naver/{GENERATED - 1}")
    assert fetch(world.url("/gen/v1/search/news.json?query=x")).status == 401


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def _jaccard(a: set[tuple[str, ...]], b: set[tuple[str, ...]]) -> float:
    return len(a & b) / len(a | b)


def test_generated_text_is_varied_like_news_and_rewrites_stay_close() -> None:
    # The dedupe benchmarks rely on this: unrelated articles share few word 3-shingles (as
    # real articles about different events do), a rewrite most of its source's.
    docs = {i: make_doc(i) for i in range(60)}
    shingles = {i: _shingles(d.body) for i, d in docs.items()}
    originals = [i for i in docs if duplicate_source(i) is None]
    unrelated = [
        _jaccard(shingles[a], shingles[b])
        for x, a in enumerate(originals)
        for b in originals[x + 1 :]
    ]
    assert max(unrelated) < 0.2
    assert sum(unrelated) / len(unrelated) < 0.08
    for index in docs:
        source = duplicate_source(index)
        if source is None:
            continue
        similarity = _jaccard(shingles[index], shingles[source[0]])
        assert similarity == 1.0 if source[1] == "exact" else 0.6 < similarity < 1.0
    assert make_doc(41) == make_doc(41)  # a function of the index alone


def test_generated_text_states_no_outcome_and_always_names_the_programme() -> None:
    for index in range(0, 400, 3):
        doc = make_doc(index)
        assert "독자 AI 파운데이션 모델" in doc.paragraphs[0]
        for word in ("탈락", "진출", "선정", "통과", "합류", "고배"):
            assert word not in doc.body, (index, word)
        assert all(p.strip() for p in doc.paragraphs)


def test_generated_docs_are_kept_in_a_bounded_cache() -> None:
    generated = Generated(100_000, doc_cache_size=50)
    for index in range(0, 100_000, 997):
        assert generated.doc(index).index == index
    assert len(generated._docs) <= 50
    assert generated.doc(99_999).aid == f"{1_000_000 + 99_999:010d}"
    with pytest.raises(IndexError):
        generated.doc(100_000)


def test_generated_feed_mixes_layouts_and_pages_past_its_limit() -> None:
    assert [gen_layout(i) for i in range(4)] == ["naver", "publisher", "naver", "publisher"]
    assert gen_layout(3, "naver") == "naver" and gen_layout(2, "publisher") == "publisher"
    with NewsWorld(generated=12_000) as big:
        # Past the 5000-item limit of one feed URL, further offsets list older articles.
        feed = feedparser.parse(fetch(big.url("/gen/feed.xml?offset=7000&limit=4&layout=mix")).body)
        assert [e.link for e in feed.entries] == [
            big.url(f"/gen/{gen_layout(i)}/{i}") for i in range(4999, 4995, -1)
        ]
        assert fetch(big.url("/gen/feed.xml?offset=11998&limit=10")).status == 200
        assert fetch(big.url("/gen/feed.xml?layout=amp")).status == 400
        assert fetch(big.url("/gen/naver/11999")).status == 200


def test_generated_api_over_a_large_corpus() -> None:
    with NewsWorld(generated=2000) as big:
        query = quote("독자 AI 파운데이션 모델")

        def search(**params: object) -> dict:
            qs = "&".join(f"{k}={v}" for k, v in params.items())
            return fetch(big.url(f"/gen/v1/search/news.json?query={query}&{qs}"), AUTH).json()

        page = search(display=100, start=1001, sort="date")
        assert page["errorCode"] == "SE03"  # start > 500: rejected before any scan
        page = search(display=100, start=901, sort="date")
        assert page["total"] == 2000 and page["start"] == 901 and page["display"] == 100
        assert page["items"][0]["link"] == big.url("/gen/naver/1099")
        assert page["items"][-1]["link"] == big.url("/gen/naver/1000")
        team = quote("K-EXAONE")
        by_date = fetch(
            big.url(f"/gen/v1/search/news.json?query={team}&display=100&sort=date"), AUTH
        ).json()
        matching = {
            big.url(f"/gen/naver/{i}")
            for i, d in enumerate(map(make_doc, range(2000)))
            if "K-EXAONE" in f"{d.title} {d.body}"
        }
        assert by_date["total"] == len(matching) > 50
        assert {i["link"] for i in by_date["items"]} <= matching
        by_sim = fetch(
            big.url(f"/gen/v1/search/news.json?query={team}&display=100&sort=sim"), AUTH
        ).json()
        assert by_sim["total"] == len(matching)
        assert {i["link"] for i in by_sim["items"]} <= matching


# -- command line ----------------------------------------------------------------------------


def test_module_runs_in_the_foreground() -> None:
    command = [sys.executable, "-m", "tracker.world", "--port", "0", "--day", "2"]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            match = re.search(r"http://127\.0\.0\.1:\d+", line)
            assert match, line
            index = fetch(match.group(0) + "/")
            assert index.status == 200
            assert by_id("d2-digitalpost-speculation").title in page_text(index)
            assert by_id("d3-aitimeline-rumour").title not in page_text(index)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def test_dates_are_kst() -> None:
    assert all(a.published_at.utcoffset() == KST.utcoffset(None) for a in load_articles())
