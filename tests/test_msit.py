"""MSIT press-release board: list parser, view page object, PDF text and the world's board."""

from __future__ import annotations

import http.client
import io
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from pypdf import PdfWriter

from crawler.extractors.base import NotAnArticle, RetryPage
from crawler.extractors.msit import (
    PUBLISHER,
    Attachment,
    MsitViewPage,
    looks_like_msit_view,
    merge_attachment_text,
)
from crawler.listings import ListingError
from crawler.listings.msit import (
    list_page_url,
    parse_board_date,
    parse_msit_list,
    view_url,
)
from crawler.pdftext import PdfTextError, pdf_text, reflow_lines
from tracker.world import NewsWorld
from tracker.world.dates import KST
from tracker.world.msit import PDF_ONLY, build_pdf, release_header, release_pdf

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "msit"
LIST_URL = "https://www.msit.go.kr/bbs/list.do?sCode=user&mPid=208&mId=307"
VIEW = "https://www.msit.go.kr/bbs/view.do?sCode=user&mId=307&mPid=208&bbsSeqNo=94&nttSeqNo="
HTML = {"Content-Type": "text/html; charset=UTF-8"}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# -- list page -----------------------------------------------------------------------------------


def test_list_rows_come_from_live_script_statements() -> None:
    page = parse_msit_list(fixture("list_page.html"), LIST_URL, HTML)
    assert page.bbs_seq_no == "94"
    assert [r.ntt_seq_no for r in page.rows] == ["3190101", "3190099", "3190087"]
    first, second, third = page.rows
    # Not the commented-out cell nor the 2026-03-02 registration date in the // comments.
    assert first.title == "AI 정예팀 2차 평가 일정 안내"
    assert first.department == "인공지능기반정책과"
    assert first.published_on == date(2026, 3, 3)
    assert first.url == f"{VIEW}3190101"
    # JS string escapes, unescape() %u/%XX and HTML entities, in that order.
    assert second.title == "양자 & 6G '통합' 실증 100% 달성"
    assert second.department == "전파정책기획과"
    assert second.published_on == date(2026, 2, 27)
    # href="javascript:fn_detail('N')", concatenated literals, tags dropped, English date.
    assert third.title == "주간 과학기술 동향"
    assert third.department is None
    assert third.published_on == date(2026, 2, 26)


def test_list_leads_carry_url_title_and_the_date_at_noon_kst() -> None:
    leads = parse_msit_list(fixture("list_page.html"), LIST_URL).leads
    assert [lead.url for lead in leads] == [f"{VIEW}3190101", f"{VIEW}3190099", f"{VIEW}3190087"]
    assert leads[0].title == "AI 정예팀 2차 평가 일정 안내"
    assert leads[0].published_at == datetime(2026, 3, 3, 12, 0, tzinfo=KST)
    assert leads[0].published_at.utcoffset() is not None
    assert leads[0].alt_urls == ()


def test_list_with_cells_injected_whole_reads_fn_detail_from_the_script() -> None:
    page = parse_msit_list(fixture("list_injected.html"), LIST_URL)
    assert page.bbs_seq_no is None
    assert [(r.ntt_seq_no, r.title, r.published_on) for r in page.rows] == [
        ("1412", "Ministry opens the second round of model evaluations", date(2026, 3, 4)),
        ("1409", "Quantum & network budget for 2026", date(2026, 2, 28)),
    ]
    assert page.rows[0].url == (
        "https://www.msit.go.kr/bbs/view.do?sCode=user&mId=307&mPid=208&nttSeqNo=1412"
    )


def test_list_past_the_last_page_has_no_rows() -> None:
    page = parse_msit_list(fixture("list_empty.html"), LIST_URL)
    assert page.rows == ()
    assert page.leads == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty"),
        (b"  \n ", "empty"),
        (b"<html><body><h1>Login</h1><form></form></body></html>", "not an MSIT board"),
    ],
)
def test_list_errors(body: bytes, message: str) -> None:
    with pytest.raises(ListingError, match=message):
        parse_msit_list(body, LIST_URL)


def test_list_and_view_urls() -> None:
    assert list_page_url(LIST_URL, 1) == LIST_URL
    assert list_page_url(LIST_URL, 3) == f"{LIST_URL}&pageIndex=3"
    assert list_page_url(f"{LIST_URL}&pageIndex=2", 4) == f"{LIST_URL}&pageIndex=4"
    with pytest.raises(ValueError):
        list_page_url(LIST_URL, 0)
    mirror = "http://127.0.0.1:8080/bbs/list.do?sCode=user&mPid=208&mId=307&pageIndex=2"
    assert view_url(mirror, "77") == (
        "http://127.0.0.1:8080/bbs/view.do?sCode=user&mId=307&mPid=208&nttSeqNo=77"
    )
    other_board = "https://www.msit.go.kr/bbs/list.do?sCode=user&mPid=103&mId=109"
    assert view_url(other_board, "5", "84").endswith("mId=109&mPid=103&bbsSeqNo=84&nttSeqNo=5")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026. 10. 1", date(2026, 10, 1)),
        ("2026-01-15", date(2026, 1, 15)),
        ("2026.01.15.", date(2026, 1, 15)),
        ("Jan 22, 2026", date(2026, 1, 22)),
        ("Sept 3, 2026", date(2026, 9, 3)),
        ("2026. 2. 30", None),
        ("상시", None),
        ("", None),
    ],
)
def test_board_dates(text: str, expected: date | None) -> None:
    assert parse_board_date(text) == expected


# -- view page -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release() -> MsitViewPage:
    return MsitViewPage(f"{VIEW}3190101", fixture("view_release.html"), HTML)


def test_view_fields(release: MsitViewPage) -> None:
    assert release.is_view
    assert release.title == "AI 정예팀 2차 평가 일정 안내"
    assert release.department == "인공지능기반정책과"
    assert release.contact == "김담당"
    assert release.info["조회수"] == "1532"
    assert release.published_at == datetime(2026, 3, 3, 12, 0, tzinfo=KST)
    assert release.ntt_seq_no == "3190101"


def test_view_body_is_the_release_text_only(release: MsitViewPage) -> None:
    assert release.body.split("\n") == [
        "- 정예팀별 발표 평가는 3월 중순에 진행 -",
        "□ 과학기술정보통신부는 AI 정예팀의 2차 평가를",
        "3월 16일부터 나흘간 진행한다고 밝혔다.",
        "구분",
        "일정",
        "서면 평가",
        "3월 9일",
        "□ 평가 결과는 3월 말 발표할 예정이다.",
    ]


def test_view_attachments_pair_names_with_download_buttons(release: MsitViewPage) -> None:
    hwpx = "https://www.msit.go.kr/ssm/file/fileDown.do?atchFileNo=20260311&fileOrd=1&fileBtn=A"
    pdf = "https://www.msit.go.kr/ssm/file/fileDown.do?atchFileNo=20260311&fileOrd=2&fileBtn=A"
    assert release.attachments == (
        Attachment("(보도자료) AI 정예팀 2차 평가 일정 안내.hwpx", "hwpx", hwpx),
        Attachment("(보도자료) AI 정예팀 2차 평가 일정 안내.pdf", "pdf", pdf),
    )
    assert release.pdf_url == pdf
    assert release.hwp_url == hwpx


def test_view_to_article(release: MsitViewPage) -> None:
    article = release.to_article()
    assert article.url == f"{VIEW}3190101"
    assert article.title == "AI 정예팀 2차 평가 일정 안내"
    assert article.body == release.body
    assert article.publisher == PUBLISHER == "과학기술정보통신부"
    assert article.authors == ()
    assert article.published_at == datetime(2026, 3, 3, 12, 0, tzinfo=KST)
    assert article.section == "보도자료"
    assert article.language == "ko"
    assert article.extractor == "msit"
    assert article.extra["official"] == "true"
    assert article.extra["ntt_seq_no"] == "3190101"
    assert article.extra["department"] == "인공지능기반정책과"
    assert article.extra["pdf_url"] == release.pdf_url
    assert article.extra["hwp_url"] == release.hwp_url
    assert article.extra["attachments"].count(" | ") == 1


def test_view_without_text_but_with_a_pdf_link() -> None:
    url = "http://127.0.0.1:9/bbs/view.do?sCode=user&mId=307&mPid=208&nttSeqNo=3190087"
    page = MsitViewPage(url, fixture("view_attachments_only.html"), HTML)
    article = page.to_article()
    assert article.title == "주간 과학기술 동향"
    assert article.body == ""
    assert article.published_at == datetime(2026, 2, 26, 12, 0, tzinfo=KST)
    assert page.department == "대변인실"
    # A plain href is resolved against the page, so a mirror keeps its own host.
    assert article.extra["pdf_url"] == (
        "http://127.0.0.1:9/ssm/file/fileDown.do?atchFileNo=55501&fileOrd=1&fileBtn=A"
    )
    assert page.attachments[0].name == "주간동향(2월 넷째 주).pdf"
    assert "hwp_url" not in article.extra


def test_view_without_text_or_pdf_is_not_an_article() -> None:
    body = (
        fixture("view_attachments_only.html")
        .replace(b"ico_file_pdf", b"x")
        .replace(b"/ssm/file/fileDown.do?atchFileNo=55501&amp;fileOrd=1&amp;fileBtn=A", b"#")
    )
    with pytest.raises(NotAnArticle, match="no text on the page and no PDF"):
        MsitViewPage(f"{VIEW}1", body, HTML).to_article()


def test_non_view_pages() -> None:
    with pytest.raises(NotAnArticle, match="no MSIT board view"):
        MsitViewPage(LIST_URL, fixture("list_page.html"), HTML).to_article()
    maintenance = "<html><body><p>시스템 점검 중입니다.</p></body></html>".encode()
    with pytest.raises(RetryPage, match="maintenance"):
        MsitViewPage(f"{VIEW}1", maintenance, HTML).to_article()
    with pytest.raises(RetryPage):
        MsitViewPage(f"{VIEW}1", b"", HTML)


def test_sniffing_needs_the_live_site_markers() -> None:
    assert looks_like_msit_view(fixture("view_release.html").decode())
    assert looks_like_msit_view(fixture("view_attachments_only.html").decode())
    assert not looks_like_msit_view(fixture("list_page.html").decode())
    # Quoted markup is escaped text, not an attribute.
    assert not looks_like_msit_view('<pre>&lt;div id="cont-wrap"&gt;</pre>')


# -- attachment text -----------------------------------------------------------------------------


def test_merge_adds_only_what_the_page_does_not_show(release: MsitViewPage) -> None:
    article = release.to_article()
    text = "\n".join(
        [
            "과학기술정보통신부 보도자료",
            "AI 정예팀 2차 평가 일정 안내",
            "- 정예팀별 발표  평가는 3월 중순에 진행 -",
            "□ 과학기술정보통신부는 AI 정예팀의 2차 평가를 3월 16일부터 나흘간 진행한다고 밝혔다.",
            "□ 평가에는 외부 전문가 12명이 참여한다.",
            "□ 평가에는 외부 전문가 12명이 참여한다.",
        ]
    )
    merged = merge_attachment_text(article, text)
    assert merged.body == f"{article.body}\n□ 평가에는 외부 전문가 12명이 참여한다."
    assert merged.extra["pdf_paragraphs_added"] == "1"
    assert merged.extra["pdf_url"] == article.extra["pdf_url"]
    same = merge_attachment_text(article, article.body)
    assert same.body == article.body
    assert same.extra["pdf_paragraphs_added"] == "0"


def test_merge_fills_an_empty_page() -> None:
    url = "http://127.0.0.1:9/bbs/view.do?nttSeqNo=3190087"
    article = MsitViewPage(url, fixture("view_attachments_only.html"), HTML).to_article()
    merged = merge_attachment_text(article, "□ 첫 문단이다.\n□ 둘째 문단이다.")
    assert merged.body == "□ 첫 문단이다.\n□ 둘째 문단이다."


def test_reflow_joins_wrapped_lines_and_drops_page_numbers() -> None:
    lines = [
        "보도자료",
        "□ 과학기술정보통신부는 올해 평가를 두 차례에 걸쳐 진행하고 그",
        "결과를 공개한다.",
        "- 1 -",
        "○ 세부 일정은 추후 안내",
        "- 두 번째 요약 줄 -",
        "3 / 12",
    ]
    assert reflow_lines(lines) == [
        "보도자료",
        "□ 과학기술정보통신부는 올해 평가를 두 차례에 걸쳐 진행하고 그 결과를 공개한다.",
        "○ 세부 일정은 추후 안내",
        "- 두 번째 요약 줄 -",
    ]
    assert reflow_lines(["", "- 2 -"]) == []


# -- PDF -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world_day5() -> Iterator[NewsWorld]:
    world = NewsWorld(day=5).start()
    yield world
    world.stop()


def _pdf_url(world: NewsWorld, ntt: str) -> str:
    status, _, body = get(world.url(f"/bbs/view.do?sCode=user&mId=307&mPid=208&nttSeqNo={ntt}"))
    assert status == 200
    page = MsitViewPage(world.url(f"/bbs/view.do?nttSeqNo={ntt}"), body, HTML)
    assert page.pdf_url is not None
    return page.pdf_url


def test_world_pdf_text_is_the_release(world_day5: NewsWorld) -> None:
    article = world_day5.article("d4-msit-stage1-results")
    status, headers, data = get(_pdf_url(world_day5, "3186412"))
    assert status == 200
    assert headers["Content-Type"] == "application/pdf"
    assert headers["Content-Disposition"].startswith("attachment; filename*=UTF-8''")
    assert data.startswith(b"%PDF-1.4")
    assert pdf_text(data).split("\n") == [*release_header(article), *article.paragraphs]


def test_pdf_of_several_pages_reads_every_page() -> None:
    pages = [["□ 첫 쪽 문단이다."], ["□ 둘째 쪽 문단이다."], ["□ 셋째 쪽 문단이다."]]
    data = build_pdf(pages, title="세 쪽 문서")
    assert pdf_text(data) == "□ 첫 쪽 문단이다.\n□ 둘째 쪽 문단이다.\n□ 셋째 쪽 문단이다."
    assert pdf_text(data, max_pages=2) == "□ 첫 쪽 문단이다.\n□ 둘째 쪽 문단이다."


def _blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _truncated_pdf() -> bytes:
    return release_pdf(NewsWorld().article("d1-msit-rnd-plan"))[:600]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: b"", "empty file"),
        (lambda: "<!DOCTYPE html><html><body>파일 없음</body></html>".encode(), "not a PDF"),
        (lambda: b"%PDF-1.4\n%garbage that is not a document\n", "unreadable PDF"),
        (_truncated_pdf, "unreadable PDF"),
        (_blank_pdf, "no extractable text"),
    ],
    ids=["empty", "html", "garbage", "truncated", "blank"],
)
def test_broken_pdfs_raise_a_clear_error(make: Callable[[], bytes], message: str) -> None:
    with pytest.raises(PdfTextError, match=message):
        pdf_text(make())


# -- the world's board ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def world() -> Iterator[NewsWorld]:
    world = NewsWorld().start()
    yield world
    world.stop()


def _board(world: NewsWorld, page: int = 1) -> tuple[int, bytes]:
    url = list_page_url(world.url("/bbs/list.do?sCode=user&mPid=208&mId=307"), page)
    status, _, body = get(url)
    return status, body


def _listed(world: NewsWorld) -> list[str]:
    numbers: list[str] = []
    for page in range(1, 5):
        status, body = _board(world, page)
        assert status == 200
        rows = parse_msit_list(body, world.url("/bbs/list.do?sCode=user&mPid=208&mId=307")).rows
        if not rows:
            break
        numbers.extend(r.ntt_seq_no for r in rows)
    return numbers


def _ntt(world: NewsWorld, article_id: str) -> str:
    return parse_qs(urlsplit(world.article(article_id).path).query)["nttSeqNo"][0]


def test_world_board_lists_the_official_articles_of_the_day(world: NewsWorld) -> None:
    try:
        for day in (1, 4, 5, None):
            world.set_day(day)
            expected = [_ntt(world, a.id) for a in world.visible_articles() if a.official]
            assert _listed(world) == expected
            assert expected  # every day shows at least one release
        world.set_day(4)
        assert _listed(world) == [
            _ntt(world, "d4-msit-stage1-results"),
            _ntt(world, "d1-msit-rnd-plan"),
        ]
    finally:
        world.set_day(None)


def test_world_board_rows_in_detail(world: NewsWorld) -> None:
    world.set_day(5)
    try:
        _, body = _board(world)
        page = parse_msit_list(body, world.url("/bbs/list.do?sCode=user&mPid=208&mId=307"))
        assert page.bbs_seq_no == "94"
        first = page.rows[0]
        article = world.article("d5-msit-quantum")
        assert first.ntt_seq_no == _ntt(world, "d5-msit-quantum")
        assert first.title == article.title
        assert first.department == "양자혁신기술개발과"
        assert first.published_on == article.published_at.astimezone(KST).date()
        assert len(page.rows) == 3  # the world's page size; the fourth release is on page 2
    finally:
        world.set_day(None)


def test_world_view_pages_follow_the_day(world: NewsWorld) -> None:
    later = _ntt(world, "d5-msit-additional-call")
    view = world.url(f"/bbs/view.do?sCode=user&mId=307&mPid=208&bbsSeqNo=94&nttSeqNo={later}")
    try:
        world.set_day(4)
        assert get(view)[0] == 404
        world.set_day(5)
        status, _, body = get(view)
        assert status == 200
        article = MsitViewPage(view, body, HTML).to_article()
        source = world.article("d5-msit-additional-call")
        assert article.title == source.title
        assert article.body.split("\n") == list(source.paragraphs)
        assert article.published_at == datetime(2026, 1, 20, 12, 0, tzinfo=KST)
        assert article.extra["department"] == "인공지능기반정책과"
        assert get(world.url("/bbs/view.do?sCode=user&mId=307&nttSeqNo=1"))[0] == 404
        assert get(world.url(f"/bbs/view.do?sCode=user&mId=999&nttSeqNo={later}"))[0] == 404
    finally:
        world.set_day(None)


def test_world_pdf_only_release_needs_the_pdf(world: NewsWorld) -> None:
    assert "d4-msit-stage1-results" in PDF_ONLY
    ntt = _ntt(world, "d4-msit-stage1-results")
    view = world.url(f"/bbs/view.do?sCode=user&mId=307&mPid=208&nttSeqNo={ntt}")
    status, _, body = get(view)
    assert status == 200
    article = MsitViewPage(view, body, HTML).to_article()
    assert "86.1점" not in article.body
    assert article.body.startswith("- LG AI연구원, SK텔레콤, 업스테이지 3개 팀 2차 단계평가 진출 -")
    status, _, data = get(article.extra["pdf_url"])
    assert status == 200
    merged = merge_attachment_text(article, pdf_text(data))
    source = world.article("d4-msit-stage1-results")
    assert "총점 86.1점" in merged.body
    for paragraph in source.paragraphs:
        assert paragraph in merged.body.split("\n")
    # The page's summary lines are not repeated from the PDF.
    assert merged.body.count("3개 팀 2차 단계평가 진출 -") == 1


def test_world_attachments_follow_the_day(world: NewsWorld) -> None:
    try:
        world.set_day(5)
        pdf = _pdf_url(world, _ntt(world, "d5-msit-additional-call"))
        hwpx = pdf.replace("fileOrd=2", "fileOrd=1")
        status, headers, data = get(hwpx)
        assert status == 200
        assert headers["Content-Type"] == "application/haansofthwpx"
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            assert archive.read("mimetype") == b"application/hwp+zip"
        assert get(pdf)[0] == 200
        assert get(pdf.replace("fileOrd=2", "fileOrd=9"))[0] == 404
        world.set_day(4)
        assert get(pdf)[0] == 404
        assert get(hwpx)[0] == 404
    finally:
        world.set_day(None)


def test_world_board_page_past_the_end_is_empty(world: NewsWorld) -> None:
    status, body = _board(world, 9)
    assert status == 200
    assert parse_msit_list(body, LIST_URL).rows == ()
    assert get(world.url("/bbs/list.do?sCode=user&mPid=103&mId=109"))[0] == 404
