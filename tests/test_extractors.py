"""Page objects against saved fixture pages, field by field, plus their building blocks."""

from __future__ import annotations

import codecs
import json
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse

from crawler.extractors import (
    MIN_BODY_CHARS,
    ArticlePage,
    ExtractionError,
    GenericArticlePage,
    NaverArticlePage,
    NotAnArticle,
    RetryPage,
    get_page_class,
    parse_article,
)
from crawler.extractors.bylines import (
    dateline_reporters,
    leading_byline,
    names_from_byline,
    trailing_byline,
)
from crawler.extractors.dates import (
    KST,
    DateKind,
    find_labeled_datetimes,
    parse_datetime,
    parse_korean_datetime,
    pick_published_modified,
)
from crawler.extractors.dom import parse_document, readable_text
from crawler.extractors.encoding import (
    charset_from_content_type,
    charset_from_meta,
    decode_html,
    is_cp949_mojibake,
    normalize_charset,
)
from crawler.extractors.naver import naver_ids_from_url
from tracker.article import ParsedArticle

FIXTURES = Path(__file__).parent / "fixtures" / "pages"
ERRORS: dict[str, type[ExtractionError]] = {"NotAnArticle": NotAnArticle, "RetryPage": RetryPage}
PAGE_CLASSES: dict[str, type[ArticlePage]] = {
    "NaverArticlePage": NaverArticlePage,
    "GenericArticlePage": GenericArticlePage,
}
ALL_FIELDS = [f.name for f in fields(ParsedArticle)]


def _cases() -> list[Path]:
    return sorted(p for p in FIXTURES.glob("*/*") if (p / "expected.json").exists())


CASES = _cases()


def _case_id(case: Path) -> str:
    return f"{case.parent.name}/{case.name}"


@cache
def _load(case: Path) -> tuple[str, bytes, dict[str, str], dict[str, Any]]:
    meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    return meta["url"], (case / "input.html").read_bytes(), meta.get("headers", {}), expected


@cache
def _parsed(case: Path) -> ParsedArticle:
    url, body, headers, _ = _load(case)
    return parse_article(url, body, headers)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _is_empty(value: Any) -> bool:
    return value is None or value == "" or value == () or value == {}


ARTICLE_CASES = [c for c in CASES if "raises" not in _load(c)[3]]
ERROR_CASES = [c for c in CASES if "raises" in _load(c)[3]]
FIELD_CASES = [(c, name) for c in ARTICLE_CASES for name in _load(c)[3]]


def test_fixture_set_covers_the_required_cases() -> None:
    names = {_case_id(c) for c in CASES}
    required = {
        "NaverArticlePage/mnews_current",
        "NaverArticlePage/article_broadcast_variant",
        "NaverArticlePage/mnews_mobile",
        "NaverArticlePage/legacy_read_nhn_euckr",
        "NaverArticlePage/entertain_legacy",
        "NaverArticlePage/entertain_mobile",
        "NaverArticlePage/sports_legacy",
        "NaverArticlePage/sports_mobile",
        "NaverArticlePage/truncated_download",
        "NaverArticlePage/empty_body",
        "GenericArticlePage/jsonld_newsarticle",
        "GenericArticlePage/opengraph_only",
        "GenericArticlePage/euckr_header_correct",
        "GenericArticlePage/wrong_charset_header",
        "GenericArticlePage/broken_unclosed_tags",
        "GenericArticlePage/listing_page",
    }
    assert required <= names


@pytest.mark.parametrize(
    ("case", "field"), FIELD_CASES, ids=[f"{_case_id(c)}-{f}" for c, f in FIELD_CASES]
)
def test_fixture_field(case: Path, field: str) -> None:
    expected = _load(case)[3][field]
    assert field in ALL_FIELDS, f"expected.json names an unknown field {field!r}"
    assert _jsonable(getattr(_parsed(case), field)) == expected


@pytest.mark.parametrize("case", ARTICLE_CASES, ids=_case_id)
def test_fixture_has_no_extra_fields(case: Path) -> None:
    url, _, _, expected = _load(case)
    article = _parsed(case)
    assert article.url == url
    extra = {
        name: getattr(article, name)
        for name in ALL_FIELDS
        if name != "url" and name not in expected and not _is_empty(getattr(article, name))
    }
    assert extra == {}


@pytest.mark.parametrize("case", ERROR_CASES, ids=_case_id)
def test_fixture_raises(case: Path) -> None:
    url, body, headers, expected = _load(case)
    with pytest.raises(ERRORS[expected["raises"]]) as info:
        parse_article(url, body, headers)
    assert type(info.value) is ERRORS[expected["raises"]]
    assert info.value.url == url
    assert url in str(info.value)
    assert expected["reason_contains"] in info.value.reason


@pytest.mark.parametrize("case", [c for c in CASES if _load(c)[1]], ids=_case_id)
def test_fixture_page_class_is_selected(case: Path) -> None:
    url, body, headers, _ = _load(case)
    assert get_page_class(url, decode_html(body, headers).text) is PAGE_CLASSES[case.parent.name]


@pytest.mark.parametrize("case", ARTICLE_CASES, ids=_case_id)
def test_from_response_matches_parse_article(case: Path) -> None:
    url, body, headers, _ = _load(case)
    response = HtmlResponse(url=url, body=body, headers=headers)
    page = PAGE_CLASSES[case.parent.name].from_response(response)
    assert page.to_article() == _parsed(case)


NAVER_ARTICLE_CASES = [c for c in ARTICLE_CASES if c.parent.name == "NaverArticlePage"]


@pytest.mark.parametrize("case", NAVER_ARTICLE_CASES, ids=_case_id)
def test_naver_partial_parse_is_lossless(case: Path) -> None:
    """Stopping the parse at the tail marker gives the same article as parsing everything."""
    url, body, headers, _ = _load(case)
    full = NaverArticlePage(url, body, headers, truncate=False).to_article()
    assert NaverArticlePage(url, body, headers).to_article() == full


# -- what the fixtures are about, said directly ------------------------------------------


def test_naver_body_has_no_captions_scripts_or_summary() -> None:
    article = _parsed(FIXTURES / "NaverArticlePage" / "mnews_current")
    assert "정부과천청사 전경" not in article.body  # .img_desc caption
    assert "articleAdSlot" not in article.body  # inline <script>
    assert "과기정통부, 이번 주 중 결과 공개" not in article.body  # media_end_summary
    assert "ⓒ 전자신문" not in article.body  # trailing copyright line
    assert "댓글 본문" not in article.body  # comment module outside the article
    assert "\n\n" not in article.body


def test_legacy_fixture_really_is_euc_kr_bytes() -> None:
    _, body, headers, _ = _load(FIXTURES / "NaverArticlePage" / "legacy_read_nhn_euckr")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    decoded = decode_html(body, headers)
    assert (decoded.encoding, decoded.source) == ("cp949", "header")


def test_wrong_header_fixture_needs_cp949_not_euc_kr() -> None:
    _, body, headers, _ = _load(FIXTURES / "GenericArticlePage" / "wrong_charset_header")
    with pytest.raises(UnicodeDecodeError):
        body.decode("euc_kr")  # 똠 is outside EUC-KR's 2,350 syllables
    decoded = decode_html(body, headers)
    assert (decoded.encoding, decoded.declared, decoded.source) == ("cp949", "utf-8", "sniffed")
    assert "똠얌꿍" in decoded.text


# -- encoding ----------------------------------------------------------------------------

KOREAN = "<p>독파모 정예팀이 2차 단계평가를 통과했다.</p>"


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("euc-kr", "cp949"),
        ("EUC-KR", "cp949"),
        ("ks_c_5601-1987", "cp949"),
        ("x-windows-949", "cp949"),
        ("UTF8", "utf-8"),
        ("utf-8", "utf-8"),
        ("iso-8859-1", "cp1252"),
        ("no-such-charset", None),
        ("", None),
    ],
)
def test_normalize_charset(label: str, codec: str | None) -> None:
    assert normalize_charset(label) == codec


def test_charset_from_content_type_is_case_insensitive() -> None:
    assert charset_from_content_type({"content-TYPE": 'text/html; Charset="EUC-KR"'}) == "cp949"
    assert charset_from_content_type({"Content-Type": "text/html"}) is None
    assert charset_from_content_type(None) is None


@pytest.mark.parametrize(
    ("head", "codec"),
    [
        (b'<meta charset="euc-kr">', "cp949"),
        (b"<meta charset=utf-8>", "utf-8"),
        (b'<meta http-equiv="Content-Type" content="text/html; charset=EUC-KR" />', "cp949"),
        (b'<?xml version="1.0" encoding="euc-kr"?><html>', "cp949"),
        (b"<html><head><title>x</title>", None),
    ],
)
def test_charset_from_meta(head: bytes, codec: str | None) -> None:
    assert charset_from_meta(head) == codec


@pytest.mark.parametrize(
    ("bom", "codec"),
    [
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ],
)
def test_bom_wins_over_declarations(bom: bytes, codec: str) -> None:
    body = bom + f'<meta charset="euc-kr">{KOREAN}'.encode(codec)
    decoded = decode_html(body, {"Content-Type": "text/html; charset=euc-kr"})
    assert decoded.source == "bom"
    assert decoded.encoding == codec
    assert decoded.text.endswith(KOREAN)
    assert not decoded.text.startswith("\ufeff")


def test_correct_declaration_is_used() -> None:
    body = f'<meta charset="euc-kr">{KOREAN}'.encode("cp949")
    decoded = decode_html(body)
    assert (decoded.encoding, decoded.declared, decoded.source) == ("cp949", "cp949", "meta")
    assert decoded.text.endswith(KOREAN)


def test_header_beats_meta_when_both_decode() -> None:
    body = f'<meta charset="utf-8">{KOREAN}'.encode("cp949")
    decoded = decode_html(body, {"Content-Type": "text/html; charset=euc-kr"})
    assert (decoded.encoding, decoded.source) == ("cp949", "header")


def test_utf8_bytes_under_euc_kr_meta_are_read_as_utf8() -> None:
    body = f'<meta charset="euc-kr">{KOREAN}'.encode()
    decoded = decode_html(body)
    assert (decoded.encoding, decoded.declared, decoded.source) == ("utf-8", "cp949", "sniffed")
    assert decoded.text.endswith(KOREAN)


def test_valid_utf8_wins_even_when_it_also_decodes_as_the_declared_cp949() -> None:
    # Short UTF-8 Hangul can also be a strictly valid CP949 byte sequence: "모델 발표" reads
    # as hanja and rare syllables in CP949. A strict check of the declaration alone accepts it.
    body = "<p>모델 발표</p>".encode()
    assert body.decode("cp949") != "<p>모델 발표</p>"
    decoded = decode_html(body, {"Content-Type": "text/html; charset=euc-kr"})
    assert (decoded.text, decoded.source) == ("<p>모델 발표</p>", "sniffed")


def test_cp949_bytes_under_utf8_header_are_read_as_cp949() -> None:
    body = KOREAN.encode("cp949")
    decoded = decode_html(body, {"Content-Type": "text/html; charset=utf-8"})
    assert (decoded.encoding, decoded.declared, decoded.source) == ("cp949", "utf-8", "sniffed")
    assert decoded.text == KOREAN


def test_latin1_server_default_yields_to_euc_kr_meta() -> None:
    body = f'<meta charset="euc-kr">{KOREAN}'.encode("cp949")
    decoded = decode_html(body, {"Content-Type": "text/html; charset=ISO-8859-1"})
    assert (decoded.encoding, decoded.source) == ("cp949", "meta")


def test_undecodable_bytes_fall_back_to_declared_with_replacement() -> None:
    body = b'<meta charset="utf-8"><p>\xff\xfe\xff</p>'  # neither UTF-8 nor CP949
    decoded = decode_html(body)
    assert (decoded.encoding, decoded.source, decoded.lossy) == ("utf-8", "replacement", True)
    assert "\ufffd" in decoded.text


def test_undeclared_ascii_is_utf8() -> None:
    decoded = decode_html(b"<p>plain</p>")
    assert (decoded.encoding, decoded.declared, decoded.source) == ("utf-8", None, "sniffed")


def test_mojibake_detector() -> None:
    clean = "독파모 2차 단계평가에서 정예팀 한 곳이 탈락했다. 과기정통부는 결과를 공개했다."
    garbled = clean.encode("utf-8").decode("cp949", errors="replace")
    assert not is_cp949_mojibake(clean)
    assert is_cp949_mojibake(garbled)
    assert not is_cp949_mojibake("ASCII only, no Hangul at all")
    assert not is_cp949_mojibake("똠얌꿍")  # rare syllables, but too few to judge


def test_mojibake_page_raises_retry_but_keeps_markup_fields() -> None:
    """The real-samples edge case rebuilt from a fixture: UTF-8 misread as CP949, saved UTF-16.

    Tags, attributes and digits survive that round trip, so ids, dates and links are still
    read; the Hangul is not repairable, so no article is produced.
    """
    url, body, headers, _ = _load(FIXTURES / "NaverArticlePage" / "mnews_current")
    garbled = body.decode("utf-8").encode("utf-8").decode("cp949", errors="replace")
    saved = codecs.BOM_UTF16_LE + garbled.encode("utf-16-le")
    page = NaverArticlePage(url, saved, headers)
    assert (page.decoded.encoding, page.decoded.source) == ("utf-16-le", "bom")
    assert (page.naver_oid, page.naver_aid) == ("030", "0003412345")
    assert page.published_at == datetime(2026, 1, 14, 9, 5, tzinfo=KST)
    assert page.original_url == "https://www.etnews.com/20260114000123"
    with pytest.raises(RetryPage, match="mojibake"):
        page.to_article()


# -- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026.02.12. 오전 10:30", datetime(2026, 2, 12, 10, 30, tzinfo=KST)),
        ("2020.12.31. 오후 4:30", datetime(2020, 12, 31, 16, 30, tzinfo=KST)),
        ("2026.01.01. 오전 12:05", datetime(2026, 1, 1, 0, 5, tzinfo=KST)),
        ("2026.01.01. 오후 12:05", datetime(2026, 1, 1, 12, 5, tzinfo=KST)),
        ("입력 : 2016.09.14 03:10", datetime(2016, 9, 14, 3, 10, tzinfo=KST)),
        ("2016-09-18 03:00:00", datetime(2016, 9, 18, 3, 0, tzinfo=KST)),
        ("송고시간 | 2016/09/17 11:35", datetime(2016, 9, 17, 11, 35, tzinfo=KST)),
        ("2026. 3. 21. 21:43", datetime(2026, 3, 21, 21, 43, tzinfo=KST)),
        ("2025년 6월 4일 오후 3시 10분", datetime(2025, 6, 4, 15, 10, tzinfo=KST)),
        ("2016.09.14", None),
        ("2026.13.40 10:00", None),
    ],
)
def test_parse_korean_datetime(text: str, expected: datetime | None) -> None:
    assert parse_korean_datetime(text) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2016-09-17T11:35+09:00", "2016-09-17T11:35:00+09:00"),
        ("2026-01-15T00:30:00Z", "2026-01-15T00:30:00+00:00"),
        ("2026-01-19T14:05:00", "2026-01-19T14:05:00+09:00"),
        ("2026-02-12 10:30:00", "2026-02-12T10:30:00+09:00"),
        ("20260321214325", "2026-03-21T21:43:25+09:00"),
        ("2026.02.12. 오후 3:05", "2026-02-12T15:05:00+09:00"),
    ],
)
def test_parse_datetime_keeps_offsets_and_defaults_to_kst(value: str, expected: str) -> None:
    parsed = parse_datetime(value)
    assert parsed is not None
    assert parsed.isoformat() == expected


def test_parse_datetime_rejects_bare_dates_and_uses_given_zone() -> None:
    assert parse_datetime("2026-01-15") is None
    assert parse_datetime("") is None
    assert parse_datetime("2026-01-15T03:00:00", UTC) == datetime(2026, 1, 15, 3, tzinfo=UTC)


def test_labeled_datetimes() -> None:
    text = "기사입력 2025.06.04. 오후 2:15 | 최종수정 2025.06.04. 오후 3:02 · 2025.06.05 09:00"
    found = find_labeled_datetimes(text)
    assert [k for k, _ in found] == [DateKind.PUBLISHED, DateKind.MODIFIED, DateKind.UNLABELED]
    published, modified = pick_published_modified(found)
    assert published == datetime(2025, 6, 4, 14, 15, tzinfo=KST)
    assert modified is not None
    assert modified - published == timedelta(minutes=47)


def test_unlabeled_dates_fill_in_by_position() -> None:
    found = find_labeled_datetimes("2026.01.27. 오후 4:20 2026.01.27. 오후 5:03")
    published, modified = pick_published_modified(found)
    assert (published, modified) == (
        datetime(2026, 1, 27, 16, 20, tzinfo=KST),
        datetime(2026, 1, 27, 17, 3, tzinfo=KST),
    )


# -- bylines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("홍길동 기자 (hong@x.com)", ("홍길동",)),
        ("김영민 기자", ("김영민",)),
        ("이서윤·정하람 기자 (fnnews@example.com)", ("이서윤", "정하람")),
        ("이창곤 선임기자 goni@example.kr", ("이창곤",)),
        ("워싱턴=한지수 특파원", ("한지수",)),
        ("By Jane Park and John Lee", ("Jane Park", "John Lee")),
        ("YTN", ()),
        ("뉴스1", ()),
        ("입력", ()),
        ("", ()),
    ],
)
def test_names_from_byline(byline: str, names: tuple[str, ...]) -> None:
    assert names_from_byline(byline) == names


def test_dateline_and_byline_lines() -> None:
    assert dateline_reporters("(서울=연합뉴스) 한지수 기자 = 과기정통부가 …") == ("한지수",)
    assert dateline_reporters("[세종=뉴시스]박도윤 오세린 기자 = 정부가 …") == ("박도윤", "오세린")
    assert dateline_reporters("과기정통부가 한지수 기자에게 말했다.") == ()
    assert leading_byline("채다온 기자 daon@example.kr") == ("채다온",)
    assert leading_byline("채다온 기자가 현장에서 전했다.") == ()
    lines = ["본문 첫 줄이다.", "본문 둘째 줄이다.", "홍정수 기자 hong@example.com"]
    assert trailing_byline(lines) == ("홍정수",)
    assert trailing_byline(["본문만 있다."]) == ()


# -- registry ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://n.news.naver.com/mnews/article/001/0000000001",
        "https://n.news.naver.com/article/001/0000000001",
        "https://m.news.naver.com/read.naver?oid=001&aid=0000000001",
        "https://news.naver.com/main/read.nhn?oid=001&aid=0000000001",
        "https://entertain.naver.com/read?oid=001&aid=0000000001",
        "https://m.entertain.naver.com/article/001/0000000001",
        "https://sports.news.naver.com/news?oid=001&aid=0000000001",
        "https://m.sports.naver.com/kbaseball/article/001/0000000001",
        "https://N.NEWS.NAVER.COM./mnews/article/001/0000000001",
    ],
)
def test_naver_hosts_use_the_naver_page(url: str) -> None:
    assert get_page_class(url) is NaverArticlePage


@pytest.mark.parametrize(
    "url",
    [
        "https://www.yna.co.kr/view/AKR20260101000100017",
        "https://v.daum.net/v/20260321214325415",
        "https://search.naver.com/search.naver?where=news&query=x",
        "https://notnaver.com/article/001/0000000001",
    ],
)
def test_other_hosts_fall_back_to_generic(url: str) -> None:
    assert get_page_class(url) is GenericArticlePage
    assert get_page_class(url, "<html><body><p>hello</p></body></html>") is GenericArticlePage


def test_sniffing_ignores_naver_markup_quoted_in_a_blog_post() -> None:
    blog = (
        '<html><body><pre><code>&lt;article id="dic_area" class="go_trans"&gt;'
        '&lt;div class="media_end_head"&gt;</code></pre></body></html>'
    )
    assert get_page_class("http://127.0.0.1:8000/blog/how-to-scrape", blog) is GenericArticlePage
    real = '<html><body><article id="dic_area">본문</article></body></html>'
    assert get_page_class("http://127.0.0.1:8000/a", real) is NaverArticlePage
    assert get_page_class("http://127.0.0.1:8000/a", real.encode()) is NaverArticlePage


@pytest.mark.parametrize(
    ("url", "ids"),
    [
        ("https://n.news.naver.com/mnews/article/421/0008770777?sid=110", ("421", "0008770777")),
        ("https://n.news.naver.com/article/comment/437/0000483987", ("437", "0000483987")),
        ("https://m.sports.naver.com/wfootball/article/076/0004222656", ("076", "0004222656")),
        ("https://news.naver.com/main/read.nhn?oid=421&aid=0005081591", ("421", "0005081591")),
        ("https://sports.news.naver.com/news?oid=410&aid=0000891234", ("410", "0000891234")),
        ("https://news.naver.com/section/105", (None, None)),
        (None, (None, None)),
    ],
)
def test_naver_ids_from_url(url: str | None, ids: tuple[str | None, str | None]) -> None:
    assert naver_ids_from_url(url) == ids


# -- errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"", b"   \r\n\t "])
def test_empty_body_is_retried(body: bytes) -> None:
    url = "https://www.example.kr/news/1"
    with pytest.raises(RetryPage, match="empty response body") as info:
        parse_article(url, body)
    assert str(info.value).startswith(url)


def test_page_objects_reject_empty_bodies_directly() -> None:
    for cls in (NaverArticlePage, GenericArticlePage):
        with pytest.raises(RetryPage):
            cls("https://n.news.naver.com/mnews/article/001/0000000001", b"")


def test_comment_only_document_is_not_an_article() -> None:
    with pytest.raises(NotAnArticle, match="no HTML elements"):
        parse_article("https://www.example.kr/x", b"<!-- nothing here -->")


def test_generic_minimum_body_length_is_documented() -> None:
    assert MIN_BODY_CHARS == 100
    body = (
        '<html lang="ko"><head><meta property="og:type" content="article">'
        '<meta property="og:title" content="짧은 기사"></head><body><article><h1>짧은 기사</h1>'
        f"<p>{'가' * (MIN_BODY_CHARS - 1)}</p></article></body></html>"
    ).encode()
    with pytest.raises(NotAnArticle, match=f"only {MIN_BODY_CHARS - 1} characters"):
        parse_article("https://www.example.kr/short", body)


def test_naver_partial_parse_falls_back_when_the_cut_misses_the_body() -> None:
    # A template that mentions the body id, then a tail marker, then the real body: the cut
    # made after the template would drop the article, so the full document is parsed.
    html = (
        '<html><head><meta property="og:title" content="제목"></head><body>'
        '<script type="x-tmpl-mustache">\'<article id="dic_area">{{text}}</article>\'</script>'
        '<div id="channelBanner">구독</div>'
        '<article id="dic_area">독파모 본문 첫 문장이다.<br>둘째 문장이다.</article>'
        "</body></html>"
    ).encode()
    url = "https://n.news.naver.com/mnews/article/001/0000000009"
    page = NaverArticlePage(url, html)
    assert page.body == "독파모 본문 첫 문장이다.\n둘째 문장이다."
    assert page.to_article() == NaverArticlePage(url, html, truncate=False).to_article()


def test_readable_text_breaks_lines_only_at_br_and_blocks() -> None:
    """Source newlines and any other whitespace (CR, tabs, NBSP, U+2028) are one space."""
    el = parse_document(
        "<div>첫\r\n  문단\t\t이다\u00a0\u2028끝<br>둘째<p> 셋째 \n 문단 </p><!-- c -->넷째</div>"
    ).body[0]
    assert readable_text(el) == "첫 문단 이다 끝\n둘째\n셋째 문단\n넷째"


def test_naver_dates_do_not_depend_on_the_order_of_their_elements() -> None:
    html = (
        '<html><body><h2 id="title_area">제목</h2><div class="media_end_head_info">'
        '<span class="media_end_head_info_datestamp_time _ARTICLE_MODIFY_DATE_TIME" '
        'data-modify-date-time="2026-02-01 11:00:00">수정</span>'
        '<span class="media_end_head_info_datestamp_time _ARTICLE_DATE_TIME" '
        'data-date-time="2026-02-01 09:30:00">입력</span></div>'
        '<article id="dic_area">독파모 정예팀이 결과를 기다린다.</article></body></html>'
    ).encode()
    page = NaverArticlePage("https://n.news.naver.com/mnews/article/001/0000000010", html)
    assert page.published_at == datetime(2026, 2, 1, 9, 30, tzinfo=KST)
    assert page.modified_at == datetime(2026, 2, 1, 11, 0, tzinfo=KST)
