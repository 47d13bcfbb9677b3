"""Page objects against the real saved pages in ../shared/real-samples, field by field.

Expected values were read by eye from the saved files (headline, press, ids, the 입력 time,
the opening words). The pages are not copied into the repo; the tests skip without them.
"""

from __future__ import annotations

import codecs
from datetime import datetime
from pathlib import Path

import pytest

from crawler.extractors import (
    GenericArticlePage,
    NaverArticlePage,
    NotAnArticle,
    RetryPage,
    get_page_class,
    parse_article,
)
from crawler.extractors.dates import KST
from crawler.extractors.encoding import decode_html
from tracker.article import ParsedArticle

SAMPLES = Path(__file__).resolve().parents[1] / ".." / "shared" / "real-samples"

pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"real samples not present at {SAMPLES}"
)


def _body(relative: str) -> bytes:
    path = SAMPLES / relative
    if not path.is_file():
        pytest.skip(f"{relative} missing from {SAMPLES}")
    return path.read_bytes()


def _kst(year: int, month: int, day: int, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=KST)


# -- naver_article -----------------------------------------------------------------------

NEWS1_MNEWS = "naver_article/nnews_mnews_421-0008770777_news1_2026-02-12.html"
NEWS1_URL = "https://n.news.naver.com/mnews/article/421/0008770777?sid=110"
JTBC = "naver_article/nnews_article_437-0000483987_jtbc_2026-03-21.html"
JTBC_URL = "https://n.news.naver.com/article/437/0000483987"
LEGACY = (
    "naver_article/legacy_news_read.nhn_421-0005081591_news1_utf8-bytes-meta-euckr_2020-12-31.html"
)
LEGACY_URL = "https://news.naver.com/main/read.nhn?mode=LSD&mid=sec&oid=421&aid=0005081591&sid1=001"
EDGE = "naver_article/edge_nnews_mnews_018-0005236061_edaily_UTF16LE-BOM_mojibake_2022-06-08.html"
EDGE_URL = "https://n.news.naver.com/mnews/article/018/0005236061"


@pytest.fixture(scope="module")
def news1() -> ParsedArticle:
    headers = {"Content-Type": "text/html; charset=UTF-8"}
    return parse_article(NEWS1_URL, _body(NEWS1_MNEWS), headers)


@pytest.fixture(scope="module")
def jtbc() -> ParsedArticle:
    return parse_article(JTBC_URL, _body(JTBC))


@pytest.fixture(scope="module")
def legacy() -> ParsedArticle:
    return parse_article(LEGACY_URL, _body(LEGACY))


def test_news1_mnews_fields(news1: ParsedArticle) -> None:
    assert news1.extractor == "naver"
    assert news1.title == "3분의 물이 지키는 것…예비주수, 산불 대응의 새로운 전략 [기고]"
    assert news1.publisher == "뉴스1"
    assert news1.authors == ()  # a contributed column: no journalist element, no byline
    assert (news1.naver_oid, news1.naver_aid) == ("421", "0008770777")
    assert news1.published_at == _kst(2026, 2, 12, 10, 30, 0)
    assert news1.modified_at == _kst(2026, 2, 12, 10, 30, 13)
    assert news1.original_url == "https://www.news1.kr/society/general-society/6071094"
    assert news1.section == "110"
    assert news1.extra == {"section_names": "오피니언, 사회"}
    assert news1.language == "ko"
    assert news1.description == "김승룡 소방청장 직무대행"  # media_end_summary, kept apart


def test_news1_mnews_body(news1: ParsedArticle) -> None:
    assert news1.body.startswith("지난해 3월, 경북 영남 지역을 덮친 대형 산불은")
    assert news1.body.endswith("국민 곁을 든든히 지키겠다고 약속드린다.")
    assert "현장에서 예비주수를 하고 있다" not in news1.body  # second photo caption
    assert "김승룡 소방청장 직무대행" not in news1.body  # summary and first caption
    assert "Copyright" not in news1.body
    assert "\n\n" not in news1.body
    assert len(news1.body.split("\n")) == 10  # ten <br><br>-separated paragraphs


def test_jtbc_article_variant_fields(jtbc: ParsedArticle) -> None:
    assert jtbc.title == "전 세계 아미 모였다…'보랏빛 물결' 펼쳐진 광화문 광장"
    # No .media_end_head_top_logo_img on this page: the thumb <img alt> has the press name.
    assert jtbc.publisher == "JTBC"
    assert jtbc.authors == ("김영민",)
    assert (jtbc.naver_oid, jtbc.naver_aid) == ("437", "0000483987")
    assert jtbc.published_at == _kst(2026, 3, 21, 19, 42, 57)
    assert jtbc.modified_at == _kst(2026, 3, 21, 19, 43, 11)
    assert jtbc.original_url == "https://news.jtbc.co.kr/article/NB12290746?influxDiv=NAVER"
    assert jtbc.section == "102"  # no sid in the URL or og:url: napp-site-analysis meta
    assert jtbc.extra == {"section_names": "사회"}
    assert jtbc.description is None
    assert jtbc.body.startswith("[앵커]\n광화문에는 이미 많은 팬들이 몰렸다고 하는데요.")
    assert "pzp" not in jtbc.body and "{{" not in jtbc.body  # video player and its templates


def test_legacy_read_nhn_fields(legacy: ParsedArticle) -> None:
    assert legacy.title == "SK하이닉스, 이천캠퍼스에 코로나19 상시 선별진료소 설치"
    assert legacy.publisher == "뉴스1"
    assert legacy.authors == ("정상훈",)  # only in the body's "(서울=뉴스1) 정상훈 기자 ="
    assert (legacy.naver_oid, legacy.naver_aid) == ("421", "0005081591")
    assert legacy.published_at == _kst(2020, 12, 31, 16, 30)
    assert legacy.modified_at is None
    assert legacy.original_url == "https://www.news1.kr/articles/?4167538"
    assert legacy.section == "001"
    assert legacy.extra == {"section_names": "경제"}
    assert legacy.description == "고려대의료원과 MOU 체결"
    assert legacy.body.startswith("(서울=뉴스1) 정상훈 기자 = SK하이닉스는 31일 고려대학교의료원과")
    assert "_flash_removeCallback" not in legacy.body  # the legacy inline script
    assert "이천사업장 정문" not in legacy.body  # photo caption
    assert "▶" not in legacy.body and "무단 전재" not in legacy.body  # promo and copyright tail


def test_legacy_utf8_bytes_under_euc_kr_meta_decode_as_utf8() -> None:
    decoded = decode_html(_body(LEGACY))
    assert (decoded.encoding, decoded.declared, decoded.source) == ("utf-8", "cp949", "sniffed")


@pytest.mark.parametrize(
    ("relative", "url"),
    [(NEWS1_MNEWS, NEWS1_URL), (JTBC, JTBC_URL), (LEGACY, LEGACY_URL)],
)
def test_naver_pages_from_a_mirror_host_still_use_the_naver_page(relative: str, url: str) -> None:
    body = _body(relative)
    mirror = "http://127.0.0.1:8765/saved/page.html"
    assert get_page_class(mirror, decode_html(body).text) is NaverArticlePage
    from_mirror = parse_article(mirror, body)
    from_naver = parse_article(url, body)
    # oid/aid come from og:url; the sid of the 421 page is in its og:url too.
    assert (from_mirror.naver_oid, from_mirror.naver_aid) == (
        from_naver.naver_oid,
        from_naver.naver_aid,
    )
    assert from_mirror.body == from_naver.body
    assert from_mirror.published_at == from_naver.published_at


@pytest.mark.parametrize(
    ("relative", "url"),
    [(NEWS1_MNEWS, NEWS1_URL), (JTBC, JTBC_URL), (LEGACY, LEGACY_URL)],
)
def test_naver_partial_parse_is_lossless_on_real_pages(relative: str, url: str) -> None:
    body = _body(relative)
    full = NaverArticlePage(url, body, truncate=False).to_article()
    assert NaverArticlePage(url, body).to_article() == full


def test_utf16_mojibake_edge_case_what_is_recoverable() -> None:
    """The UTF-16LE copy of a page whose UTF-8 was misread as CP949 before saving.

    Recoverable: the encoding (the BOM beats the stale <meta charset="utf-8">) and every
    field that lives in markup, attributes or ASCII: oid/aid, the 입력 time, the 기사원문 link.
    Not recoverable: the Hangul. Reversing the misreading (encode as CP949, decode as UTF-8)
    restores a few words, but the saver replaced undecodable byte pairs with "?", so most
    syllables are gone for good. The page object therefore refuses to produce an article
    (RetryPage: a fresh fetch gets clean text) instead of storing garbage.
    """
    body = _body(EDGE)
    assert body.startswith(codecs.BOM_UTF16_LE)
    page = NaverArticlePage(EDGE_URL, body)
    assert (page.decoded.encoding, page.decoded.source) == ("utf-16-le", "bom")
    assert page.layout is not None and page.layout.name == "current"
    assert (page.naver_oid, page.naver_aid) == ("018", "0005236061")
    assert page.published_at == _kst(2022, 6, 8, 9, 0, 1)
    assert page.modified_at is None
    assert page.original_url is not None
    assert page.original_url.startswith("http://www.edaily.co.kr/news/newspath.asp?newsid=")
    assert "345.65(-0.05p)" in page.title  # digits survive; the Hangul around them does not

    # The section name happens to survive the round trip; the headline does not.
    assert page.section_names[0].encode("cp949").decode("utf-8") == "경제"
    repaired = page.title.encode("cp949", errors="replace").decode("utf-8", errors="replace")
    assert repaired.startswith("[출발]")
    assert "\ufffd" in repaired

    with pytest.raises(RetryPage, match="mojibake"):
        page.to_article()
    with pytest.raises(RetryPage):
        parse_article(EDGE_URL, body)


# -- naver_other -------------------------------------------------------------------------


def test_naver_section_home_is_not_an_article() -> None:
    body = _body("naver_other/news_section_home_politics_utf8-bytes-but-meta-euckr_2022-12-29.html")
    url = "https://news.naver.com/main/main.naver?mode=LSD&mid=shm&sid1=100"
    assert decode_html(body).encoding == "utf-8"  # meta says euc-kr, bytes are UTF-8
    with pytest.raises(NotAnArticle, match="no Naver article body"):
        parse_article(url, body)


# -- publisher_article (2016, via the generic page) ---------------------------------------

PUBLISHER = {
    "chosun_editorial": (
        "publisher_article/chosun_2016091302449_euckr_2016-09.htm",
        "http://news.chosun.com/site/data/html_dir/2016/09/13/2016091302449.html",
    ),
    "chosun_cardnews": (
        "publisher_article/chosun_2016091301145_euckr_2016-09.htm",
        "http://news.chosun.com/site/data/html_dir/2016/09/13/2016091301145.html",
    ),
    "chosun_list": (
        "publisher_article/chosun_list_euckr_2016-09.html",
        "http://news.chosun.com/svc/list_in/list.html",
    ),
    "khan_biz": (
        "publisher_article/khan_201609260957011_euckr_2016-09.html",
        "http://biz.khan.co.kr/khan_art_view.html?artid=201609260957011",
    ),
    "khan_news": (
        "publisher_article/khan_201609262218015_euckr_2016-09.html",
        "http://news.khan.co.kr/kh_news/khan_art_view.html?artid=201609262218015",
    ),
    "khan_list": (
        "publisher_article/khan_list_euckr_2016-09.html",
        "http://news.khan.co.kr/kh_recent/",
    ),
    "donga": (
        "publisher_article/donga_20160918_80317105_utf8_2016-09.htm",
        "http://news.donga.com/List/3/all/20160918/80317105/1",
    ),
    "hani": (
        "publisher_article/hani_761484_utf8_2016-09.htm",
        "http://www.hani.co.kr/arti/society/labor/761484.html",
    ),
    "yonhap": (
        "publisher_article/yonhapnews_AKR20160917021800007_browser-saved_2016-09.htm",
        "http://www.yonhapnews.co.kr/bulletin/2016/09/17/0200000000AKR20160917021800007.HTML",
    ),
}


def _publisher(name: str) -> ParsedArticle:
    relative, url = PUBLISHER[name]
    assert get_page_class(url) is GenericArticlePage
    return parse_article(url, _body(relative))


def test_chosun_editorial_euc_kr() -> None:
    relative, _ = PUBLISHER["chosun_editorial"]
    decoded = decode_html(_body(relative))
    assert (decoded.encoding, decoded.source) == ("cp949", "meta")
    article = _publisher("chosun_editorial")
    assert article.title == "[사설] 상상 못할 비극 겪기 전에 地震 대비 태세 점검하라"
    assert article.published_at == _kst(2016, 9, 14, 3, 10)  # "입력 : 2016.09.14 03:10"
    assert article.body.startswith("2010년 1월 발생한 규모 7.0 아이티 지진 때 사망자가")
    assert "입력 :" not in article.body  # the date line above the text is not body
    assert article.language == "ko"
    assert article.extractor == "generic"


def test_chosun_card_news_is_not_an_article() -> None:
    relative, url = PUBLISHER["chosun_cardnews"]
    with pytest.raises(NotAnArticle, match="minimum 100"):
        parse_article(url, _body(relative))


@pytest.mark.parametrize("name", ["chosun_list", "khan_list"])
def test_publisher_list_pages_are_not_articles(name: str) -> None:
    relative, url = PUBLISHER[name]
    with pytest.raises(NotAnArticle, match="no article markup"):
        parse_article(url, _body(relative))


def test_khan_biz() -> None:
    article = _publisher("khan_biz")
    assert article.title == "[국감]소비자 80% “단통법, 가계통신비 인하 효과 못 느껴”"
    assert article.published_at == _kst(2016, 9, 26, 9, 57, 1)
    assert article.modified_at is None
    assert article.authors == ("이윤주",)  # the leading "이윤주 기자 …@kyunghyang.com" line
    assert article.body.startswith("국내 소비자의 약 80% 가량을 단말기유통구조개선법(단통법)")
    assert "kyunghyang.com" not in article.body.split("\n")[0]


def test_khan_news_with_modified_time() -> None:
    article = _publisher("khan_news")
    assert article.title == "[2016 미국의 선택]트럼프가 ‘민주당원’이라던 사회자, 알고 보니 공화당원"
    assert article.published_at == _kst(2016, 9, 26, 22, 18, 1)
    assert article.modified_at == _kst(2016, 9, 26, 22, 20, 8)
    assert "미국의 이번 대선 1차 TV토론에선" in article.body[:200]
    assert "무단 전재" not in article.body


def test_donga() -> None:
    article = _publisher("donga")
    assert article.title == "예산 증액… 협회 통합… “룰 바꿔 기술씨름 되살려야”"
    assert article.publisher == "동아닷컴"
    assert article.published_at == _kst(2016, 9, 18, 3, 0)
    assert article.modified_at == _kst(2016, 9, 18, 10, 44, 23)
    assert article.authors == ("홍정수",)
    assert "영화 제작자인 이앤엠필름 김동현 대표는" in article.body[:120]


def test_hani() -> None:
    article = _publisher("hani")
    assert article.title == "“고용 최고, 실업 최저” 제주의 비결은?"
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2016-09-17T14:26:51+09:00"
    assert article.section == "사회"
    assert article.authors == ("이창곤",)
    assert article.body.startswith("광역시도 가운데 일자리 상황이 가장 좋은 곳은 올해도 제주로")


def test_yonhap_browser_saved() -> None:
    article = _publisher("yonhap")
    assert article.title == "포체티노, '뎀벨레 대신 손흥민 선발' 비판에 \"실수 아니다\""
    assert article.publisher == "연합뉴스"
    assert article.authors == ("차병섭",)
    assert article.section == "해외축구"
    assert article.published_at is not None
    assert article.published_at.isoformat() == "2016-09-17T11:35:00+09:00"
    # The news ticker's "최종업데이트" time sits far from the headline and is not used.
    assert article.modified_at is None
    assert article.body.startswith("(서울=연합뉴스) 차병섭 기자 = 잉글랜드 프로축구 프리미어리그")
    assert "[실시간뉴스]" not in article.body
    assert "저작권자" not in article.body


# -- other_portal ------------------------------------------------------------------------


def test_daum_via_the_generic_page() -> None:
    url = "https://v.daum.net/v/20260321214325415"
    body = _body("other_portal/daum_v.daum.net_20260321214325415_ytn_2026-03-21.html")
    assert get_page_class(url, decode_html(body).text) is GenericArticlePage
    article = parse_article(url, body)
    assert article.title == "BTS 컴백 공연 종료...4만 인파 해산·교통 통제"
    assert article.publisher == "YTN"  # og:site_name is "Daum | YTN"
    assert article.authors == ()  # og:article:author is the press, not a person
    assert article.published_at == _kst(2026, 3, 21, 21, 43, 25)  # og:regDate
    assert article.body.startswith("[앵커]\n그룹 BTS의 완전체 컴백 공연이 조금 전 광화문 광장에서")
    assert "Copyright" not in article.body and "저작권자" not in article.body
    assert article.naver_oid is None and article.original_url is None
