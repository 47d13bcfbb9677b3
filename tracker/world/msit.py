"""The world's MSIT press-release board: list.do, view.do and fileDown.do in the real markup style.

The real board (www.msit.go.kr/bbs/list.do?sCode=user&mPid=208&mId=307) renders empty row cells
and fills titles, departments and dates from an inline script (``unescape('…')`` pieces, one
``$('#td_'+'NTT_SJ'+'_N').html(sHtml)`` per row, with older variants left in ``//`` and
``/* */`` comments); rows open with ``onclick="fn_detail(nttSeqNo)"``. View pages carry the
title in ``.view_head h2``, labelled ``dl.tit_con`` pairs, the text in ``#cont-wrap.view_cont``
and attachments whose download buttons call ``fn_download(atchFileNo, fileOrd, ext)``.

Each official storyline article is a release: an HWPX attachment (a stub archive) and a PDF
generated here at runtime. The PDF is built by hand: a Type0 font over the Adobe-Korea1
collection with the ``UniKS-UCS2-H`` encoding (two-byte UCS-2 codes, so viewers with Korean font
packs draw Hangul) plus a ``ToUnicode`` map, which is what text extractors such as pypdf read.
No font is embedded; the text layer is what matters to the crawler.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from html import escape
from urllib.parse import parse_qs, quote, urlsplit

from tracker.world import responses
from tracker.world.catalog import Catalog
from tracker.world.content import WorldArticle
from tracker.world.dates import KST
from tracker.world.responses import Response

__all__ = [
    "BBS_SEQ_NO",
    "FILE_PATH",
    "LIST_PATH",
    "PAGE_SIZE",
    "PDF_ONLY",
    "VIEW_PATH",
    "MsitBoard",
    "build_pdf",
    "pdf_lines",
    "release_pdf",
]

LIST_PATH = "/bbs/list.do"
VIEW_PATH = "/bbs/view.do"
FILE_PATH = "/ssm/file/fileDown.do"
BOARD_QUERY = "sCode=user&mPid=208&mId=307"
BOARD_MID = "307"
BBS_SEQ_NO = "94"
# The real board shows 10 rows a page; the world has four releases, so a small page makes
# paging (pageIndex=2) observable.
PAGE_SIZE = 3
# Releases whose view page shows only the summary lines: the text is in the attachments, as
# for real releases posted as files. The crawler must read the PDF to get the scores.
PDF_ONLY = frozenset({"d4-msit-stage1-results"})
HWPX_ORD = "1"
PDF_ORD = "2"
ATCH_OFFSET = 7_000_000  # atchFileNo = nttSeqNo + offset: distinct numbers, stable per release
PDF_LINE_CHARS = 38
PDF_LINES_PER_PAGE = 38
PUBLISHER = "과학기술정보통신부"


# -- board model ------------------------------------------------------------------------------


def ntt_seq_no(article: WorldArticle) -> str | None:
    """Return the release number (``nttSeqNo``) in the article's board path, if any."""
    values = parse_qs(urlsplit(article.path).query).get("nttSeqNo")
    return values[0] if values and values[0].isdigit() else None


def department(article: WorldArticle) -> str:
    """Return the office named in the closing "담당 부서: …" line (its last word)."""
    last = article.paragraphs[-1]
    if "부서" in last and ":" in last:
        return last.split(":", 1)[1].split()[-1]
    return "대변인실"


def attachment_names(article: WorldArticle) -> tuple[str, str]:
    """Return the (HWPX, PDF) file names shown on the view page."""
    stem = f"{article.published_at.astimezone(KST):%y%m%d} (보도자료) {article.title}"
    return f"{stem}.hwpx", f"{stem}.pdf"


def _page_param(params: dict[str, list[str]], name: str) -> str:
    return (params.get(name) or [""])[0]


class MsitBoard:
    """Serves the board over the catalog's official articles, honouring the world's day."""

    def __init__(self, catalog: Catalog, page_size: int = PAGE_SIZE) -> None:
        self.catalog = catalog
        self.page_size = page_size
        self.by_ntt: dict[str, WorldArticle] = {}
        for article in catalog.articles:
            number = ntt_seq_no(article) if article.official else None
            if number is not None:
                self.by_ntt[number] = article
        self._pdfs: dict[str, bytes] = {}

    def releases(self, day: int | None) -> list[WorldArticle]:
        """Return the releases visible on ``day``, newest first."""
        return [a for a in self.catalog.visible(day) if ntt_seq_no(a) in self.by_ntt]

    def _visible(self, number: str, day: int | None) -> WorldArticle | None:
        article = self.by_ntt.get(number)
        if article is None or not Catalog.is_visible(article, day):
            return None
        return article

    @staticmethod
    def _our_board(params: dict[str, list[str]]) -> bool:
        return _page_param(params, "mId") in ("", BOARD_MID)

    def list_page(self, params: dict[str, list[str]], base: str, day: int | None) -> Response:
        """Return list.do: one page of releases; a page past the end lists nothing (as real)."""
        if not self._our_board(params):
            return responses.not_found("게시판을 찾을 수 없습니다")
        raw = _page_param(params, "pageIndex") or "1"
        page = int(raw) if raw.isdigit() and int(raw) > 0 else 1
        releases = self.releases(day)
        start = (page - 1) * self.page_size
        rows = releases[start : start + self.page_size]
        pages = max(1, -(-len(releases) // self.page_size))
        body = render_list(rows, page=page, pages=pages, total=len(releases), first=start)
        return responses.html(body)

    def view_page(self, params: dict[str, list[str]], base: str, day: int | None) -> Response:
        """Return view.do for ``nttSeqNo``; 404 before the release's day."""
        if not self._our_board(params):
            return responses.not_found("게시판을 찾을 수 없습니다")
        article = self._visible(_page_param(params, "nttSeqNo"), day)
        if article is None:
            return responses.not_found("해당 게시물이 존재하지 않습니다")
        releases = self.releases(day)
        pos = releases.index(article)
        neighbours = []
        if pos + 1 < len(releases):
            neighbours.append(("이전글", releases[pos + 1]))
        if pos > 0:
            neighbours.append(("다음글", releases[pos - 1]))
        return responses.html(render_view(article, neighbours))

    def download(self, params: dict[str, list[str]], day: int | None) -> Response:
        """Return an attachment (``fileOrd`` 1 = HWPX, 2 = PDF); 404 before the release's day."""
        atch = _page_param(params, "atchFileNo")
        order = _page_param(params, "fileOrd") or _page_param(params, "fileOrdr")
        number = str(int(atch) - ATCH_OFFSET) if atch.isdigit() else ""
        article = self._visible(number, day)
        if article is None or order not in (HWPX_ORD, PDF_ORD):
            return responses.not_found("파일을 찾을 수 없습니다")
        hwpx_name, pdf_name = attachment_names(article)
        if order == PDF_ORD:
            data = self._pdfs.get(number)
            if data is None:
                data = self._pdfs[number] = release_pdf(article)
            return _file(data, "application/pdf", pdf_name)
        return _file(release_hwpx(article), "application/haansofthwpx", hwpx_name)


def _file(data: bytes, content_type: str, name: str) -> Response:
    response = responses.text(200, data, content_type, charset=None)
    # RFC 6266/5987: header values are Latin-1, so the Korean name goes percent-encoded.
    response.headers.append(
        ("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name, safe='')}")
    )
    return response


# -- HTML ---------------------------------------------------------------------------------------


def _js_literal(text: str) -> str:
    """Return ``text`` as the board writes it into ``unescape('…')``: HTML-escaped, with the
    characters that would end or break the JS string percent-escaped."""
    html_text = escape(text, quote=False)
    return (
        html_text.replace("%", "%25").replace("\\", "%5C").replace("'", "%27").replace("\n", "%0A")
    )


def _list_date(dt: datetime) -> str:
    local = dt.astimezone(KST)
    return f"{local.year}. {local.month}. {local.day}"


_HEAD = """<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="UTF-8">
<meta http-equiv="X-UA-Compatible" content="IE=edge">
<title>{title}</title>
<link rel="stylesheet" href="/static/css/msit.css">
<script src="/static/js/jquery-3.6.0.min.js"></script>
<script>
var replyHrml = '';
var ctgryHtml = '';
var newHtml = '<img src="/images/user/ico_new.png" alt="새글">';
function fn_detail(nttSeqNo) {{
  var f = document.getElementById('frm');
  f.nttSeqNo.value = nttSeqNo;
  f.action = '/bbs/view.do';
  f.submit();
}}
function fn_link_page(pageNo) {{
  var f = document.getElementById('frm');
  f.pageIndex.value = pageNo;
  f.action = '/bbs/list.do';
  f.submit();
}}
function fn_download(atchFileNo, fileOrd, ext) {{
  location.href = '/ssm/file/fileDown.do?atchFileNo=' + atchFileNo
    + '&fileOrd=' + fileOrd + '&fileBtn=A';
}}
</script>
</head>
<body>
<div id="wrap">
<header id="header">
<h1 class="logo"><a href="/index.do"><img src="/images/user/logo.png" alt="{publisher}"></a></h1>
<nav id="gnb"><ul>
<li><a href="#">알림·소식</a></li><li><a href="#">정책·정보</a></li>
<li><a href="#">정보공개</a></li><li><a href="#">국민소통</a></li><li><a href="#">기관소개</a></li>
</ul></nav>
</header>
<div id="container">
<div class="location">
<span>홈</span> &gt; <span>알림·소식</span> &gt; <strong>보도자료</strong>
</div>
<form id="frm" name="frm" method="get" action="/bbs/list.do">
<input type="hidden" name="sCode" id="sCode" value="user">
<input type="hidden" name="mPid" id="mPid" value="208">
<input type="hidden" name="mId" id="mId" value="307">
<input type="hidden" name="bbsSeqNo" id="bbsSeqNo" value="{bbs}">
<input type="hidden" name="nttSeqNo" id="nttSeqNo" value="">
<input type="hidden" name="pageIndex" id="pageIndex" value="{page}">
</form>
<div id="sub_content">
<h2 class="sub_tit">보도자료</h2>
"""

_FOOT = """</div>
</div>
<footer id="footer"><address>(30121) 세종특별자치시 가름로 194 정부세종청사 대표전화 1335</address>
<p class="copyright">Copyright ⓒ Ministry of Science and ICT. All rights reserved.</p></footer>
</div>
</body>
</html>
"""


def render_list(
    rows: Sequence[WorldArticle], *, page: int, pages: int, total: int, first: int
) -> str:
    """Return the list page HTML: empty row cells and the script that fills them."""
    out = [
        _HEAD.format(
            title="보도자료 | 과학기술정보통신부", publisher=PUBLISHER, bbs=BBS_SEQ_NO, page=page
        ),
        f'<p class="total">전체 <strong>{total}</strong>건, 현재 페이지 {page}/{pages}</p>\n',
        '<div class="board_list">\n',
        '  <div class="toggle thead"><a aria-hidden="true"><div class="num"><span class="th">번호'
        '</span></div><div class="txt"><span class="th">제목</span></div><div class="dept">'
        '<span class="th">담당부서</span></div><div class="date"><span class="th">등록일</span>'
        "</div></a></div>\n",
    ]
    if not rows:
        out.append('  <div class="toggle"><p class="no_data">등록된 게시물이 없습니다.</p></div>\n')
    for i, article in enumerate(rows):
        out.append(
            '  <div class="toggle">\n'
            f'    <a href="javascript:;" onclick="fn_detail({ntt_seq_no(article)});" '
            'title="상세보기">\n'
            f'      <div class="num" aria-label="번호" id="td_NO_{i}" ></div>\n'
            f'      <div class="txt" aria-label="제목"><p class="title" id="td_NTT_SJ_{i}"></p>'
            "</div>\n"
            f'      <div class="dept" aria-label="담당부서" id="td_CHRG_DEPT_NM_{i}" ></div>\n'
            f'      <div class="date" aria-label="등록일" id="td_REG_DT_{i}" ></div></a>\n'
            "  </div>\n"
        )
    out.append("</div>\n<script>\n")
    for i, article in enumerate(rows):
        number = ntt_seq_no(article)
        # The commented-out statement carries the registration date, a day before the
        # posting date the live one shows (as on the real board).
        older_date = (article.published_at.astimezone(KST) - timedelta(days=1)).strftime("%Y-%m-%d")
        out.append(
            "var sHtml = replyHrml;\n"
            "sHtml+= unescape(ctgryHtml);\n"
            f"sHtml+= unescape('{_js_literal(article.title)}');\n"
            + ("sHtml+= newHtml;\n" if first + i == 0 else "")
            + "// \t\t\tsHtml+= '</span></a>';\n"
            f"$('#td_'+'NTT_SJ'+'_{i}').html(sHtml);\n"
            f"//$('#td_'+'NTT_SJ'+'_{i}').html('<a href=\"javascript:;\" "
            f'onclick="fn_detail(\\"{number}\\")"><span>(구) 제목</span></a></b>\');\n'
            f"$('#td_'+'NO'+'_{i}').html('{total - first - i}');\n"
            "/*  if('CHRG_DEPT_NM' == 'NTT_CT1'){\n"
            "        if('' != ''){\n"
            f"            $('#td_'+'CHRG_DEPT_NM'+'_{i}').html('');\n"
            "        }\n"
            "    } */\n"
            f"$('#td_'+'CHRG_DEPT_NM'+'_{i}').html('{_js_literal(department(article))}');\n"
            f"// $('#td_'+'REG_DT'+'_{i}').html('{older_date}');\n"
            f"$('#td_'+'REG_DT'+'_{i}').html('{_list_date(article.published_at)}');\n\n"
        )
    out.append("</script>\n")
    out.append('<div class="pagination">\n')
    for n in range(1, pages + 1):
        current = ' class="on" title="현재 페이지"' if n == page else ""
        out.append(
            f'  <a href="javascript:;" onclick="fn_link_page({n});return false;"{current}>{n}</a>\n'
        )
    out.append("</div>\n")
    out.append(_FOOT)
    return "".join(out)


def _html_paragraphs(article: WorldArticle) -> list[str]:
    if article.id not in PDF_ONLY:
        return list(article.paragraphs)
    summary = [p for p in article.paragraphs if p.startswith("- ")]
    return [*summary, "※ 자세한 내용은 첨부한 보도자료를 참고하시기 바랍니다."]


def render_view(article: WorldArticle, neighbours: Iterable[tuple[str, WorldArticle]]) -> str:
    """Return the view page HTML of one release."""
    number = ntt_seq_no(article) or ""
    atch = str(int(number) + ATCH_OFFSET)
    hwpx_name, pdf_name = attachment_names(article)
    local = article.published_at.astimezone(KST)
    out = [
        _HEAD.format(
            title=f"{escape(article.title)} | 보도자료 | 과학기술정보통신부",
            publisher=PUBLISHER,
            bbs=BBS_SEQ_NO,
            page=1,
        ),
        '<div class="board_view">\n  <div class="view_head">\n',
        f"    <h2>{escape(article.title)}</h2>\n",
        '    <div class="tit_wrap">\n',
        f'      <dl class="tit_con"><dt>부서</dt><dd>{escape(department(article))}</dd></dl>\n',
        f'      <dl class="tit_con"><dt>작성일</dt><dd>{local:%Y-%m-%d}</dd></dl>\n',
        f'      <dl class="tit_con"><dt>조회수</dt><dd>{1000 + int(number) % 7919}</dd></dl>\n',
        "    </div>\n  </div>\n",
        '  <div id="cont-wrap" class="view_cont">\n    <div class="texteditor-area-inner">\n',
    ]
    out.extend(f"      <p>{escape(p, quote=False)}</p>\n" for p in _html_paragraphs(article))
    out.append("    </div>\n  </div>\n")
    out.append('  <div class="view_file">\n    <strong class="tit">첨부파일</strong>\n')
    out.append('    <ul class="down_file_new">\n')
    for name, order, ext, icon in (
        (hwpx_name, HWPX_ORD, "hwpx", "hwp"),
        (pdf_name, PDF_ORD, "pdf", "pdf"),
    ):
        out.append(
            f'      <li><a href="javascript:;" class="ico_file_{icon}" title="{escape(name)}">'
            f"{escape(name)}</a>\n"
            '        <span class="btn_area">'
            f'<a href="javascript:;" class="btn_down" title="파일다운로드" '
            f"onclick=\"fn_download('{atch}', '{order}', '{ext}');\">다운로드</a> "
            f'<a href="javascript:;" class="btn_view" '
            f"onclick=\"fn_preview('{atch}', '{order}');\">바로보기</a></span></li>\n"
        )
    out.append("    </ul>\n  </div>\n")
    out.append(
        '  <p class="kogl">과학기술정보통신부의 보도자료는 공공누리 제1유형 조건에 따라 '
        "자유롭게 이용할 수 있습니다.</p>\n"
    )
    out.append('  <ul class="view_list">\n')
    for label, other in neighbours:
        out.append(
            f'    <li><span>{label}</span> <a href="javascript:fn_detail({ntt_seq_no(other)});">'
            f"{escape(other.title)}</a></li>\n"
        )
    out.append(
        f'  </ul>\n  <a class="btn_list" href="/bbs/list.do?{BOARD_QUERY}">목록</a>\n</div>\n'
    )
    out.append(_FOOT)
    return "".join(out)


# -- attachments --------------------------------------------------------------------------------


def _wrap(paragraph: str, width: int) -> list[str]:
    """Return ``paragraph`` wrapped between words (어절), as HWP lays out Korean text."""
    lines: list[str] = []
    current = ""
    for word in paragraph.split():
        while len(word) > width:  # a single over-long token is cut, as a word processor does
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def release_header(article: WorldArticle) -> list[str]:
    """Return the lines that open the release document (above its paragraphs)."""
    return [f"{PUBLISHER} 보도자료", article.title]


def pdf_lines(article: WorldArticle, width: int = PDF_LINE_CHARS) -> list[str]:
    """Return the release document's text lines as they are laid out in its PDF."""
    lines: list[str] = []
    for paragraph in (*release_header(article), *article.paragraphs):
        lines.extend(_wrap(paragraph, width))
    return lines


def release_pdf(article: WorldArticle) -> bytes:
    """Return the release as a PDF document: header, title and every paragraph."""
    lines = pdf_lines(article)
    pages = [lines[i : i + PDF_LINES_PER_PAGE] for i in range(0, len(lines), PDF_LINES_PER_PAGE)]
    return build_pdf(pages, title=article.title)


def release_hwpx(article: WorldArticle) -> bytes:
    """Return a stub HWPX (a ZIP with the mimetype and preview text entries only)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/hwp+zip")
        archive.writestr("Preview/PrvText.txt", "\n".join(article.paragraphs))
    return buffer.getvalue()


def _ucs2_hex(text: str) -> str:
    codes = []
    for ch in text:
        code = ord(ch)
        if code > 0xFFFF or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"character {ch!r} is outside UCS-2")
        codes.append(f"{code:04X}")
    return "".join(codes)


def _to_unicode_cmap(high_bytes: Iterable[int]) -> bytes:
    ranges = [f"<{h:02X}00> <{h:02X}FF> <{h:02X}00>" for h in sorted(set(high_bytes))]
    blocks = []
    for i in range(0, len(ranges), 100):  # a bfrange block holds at most 100 entries
        chunk = ranges[i : i + 100]
        blocks.append(f"{len(chunk)} beginbfrange\n" + "\n".join(chunk) + "\nendbfrange")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


def _stream(data: bytes, *, compress: bool) -> bytes:
    if compress:
        data = zlib.compress(data)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data)
    return b"<< /Length %d >>\nstream\n%s\nendstream" % (len(data), data)


def build_pdf(pages: Sequence[Sequence[str]], *, title: str) -> bytes:
    """Return a PDF 1.4 document with one text line per entry of each page, and page numbers.

    A4 pages, 10 pt text on a 16 pt leading, the page number centred at the foot ("- 1 -").
    """
    if not pages:
        raise ValueError("a PDF needs at least one page")
    font_name = "HYGoThic-Medium"
    used = {ord(ch) >> 8 for page in pages for line in page for ch in line}
    used |= {ord(ch) >> 8 for ch in "- 0123456789"}
    # Objects 1-6 are fixed; each page adds a page object and its content stream.
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"",  # the page tree, filled in once the page object numbers are known
        (
            f"<< /Type /Font /Subtype /Type0 /BaseFont /{font_name} /Encoding /UniKS-UCS2-H "
            "/DescendantFonts [4 0 R] /ToUnicode 6 0 R >>"
        ).encode("ascii"),
        (
            f"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /{font_name} "
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (Korea1) /Supplement 1 >> "
            "/FontDescriptor 5 0 R /DW 1000 >>"
        ).encode("ascii"),
        (
            f"<< /Type /FontDescriptor /FontName /{font_name} /Flags 6 "
            "/FontBBox [-6 -145 1003 880] /ItalicAngle 0 /Ascent 880 /Descent -120 "
            "/CapHeight 880 /StemV 93 >>"
        ).encode("ascii"),
        _stream(_to_unicode_cmap(used), compress=False),
        (f"<< /Producer (news-world) /Title <FEFF{_ucs2_hex(title)}> >>").encode("ascii"),
    ]
    page_refs = []
    for number, lines in enumerate(pages, start=1):
        ops = ["BT", "/F1 10 Tf", "16 TL", "56 786 Td"]
        for i, line in enumerate(lines):
            ops.append(f"<{_ucs2_hex(line)}> Tj" if i == 0 else f"T* <{_ucs2_hex(line)}> Tj")
        ops += ["ET", "BT", "/F1 9 Tf", "283 36 Td", f"<{_ucs2_hex(f'- {number} -')}> Tj", "ET"]
        content_id = len(objects) + 2
        objects.append(
            (
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
                f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>"
            ).encode("ascii")
        )
        page_refs.append(f"{len(objects)} 0 R")
        objects.append(_stream("\n".join(ops).encode("ascii"), compress=True))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(page_refs)}] /Count {len(pages)} >>".encode()

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
