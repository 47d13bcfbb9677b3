"""Parse the MSIT press-release board list page (bbs/list.do) into leads; pure, no network.

The board renders empty row cells and fills them from an inline script, one block per row::

    <a href="javascript:;" onclick="fn_detail(3186412);"> … <p class="title" id="td_NTT_SJ_0">
    var sHtml = replyHrml; sHtml+= unescape(ctgryHtml); sHtml+= unescape('제목'); …
    $('#td_'+'NTT_SJ'+'_0').html(sHtml);
    $('#td_'+'CHRG_DEPT_NM'+'_0').html('부서');  $('#td_'+'REG_DT'+'_0').html('2026. 1. 15');

Older statements are left in ``//`` and ``/* */`` comments (a different date, an empty
department): only live statements count. Some boards inject the whole cell instead
(``.html('<a onclick="fn_detail(\\"N\\")"><span>제목</span></a>')``); both forms are read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from lxml import etree

from crawler.extractors.dates import KST
from crawler.extractors.dom import parse_document
from crawler.extractors.encoding import decode_html
from crawler.listings import Lead, ListingError

__all__ = [
    "DATE_ONLY_TIME",
    "MsitListPage",
    "MsitRow",
    "list_page_url",
    "parse_board_date",
    "parse_msit_list",
    "view_url",
]

# The board shows dates without a time. Noon KST stands for "that day": unlike midnight it
# stays on the same calendar day in UTC (storage) and in KST (facts read the date).
DATE_ONLY_TIME = time(12, 0)
# The press-release board; other MSIT boards share the markup under other mId/mPid values.
# Key order is the order of the site's own view links.
DEFAULT_BOARD = {"sCode": "user", "mId": "307", "mPid": "208"}

_FN_DETAIL_RE = re.compile(r"""fn_detail\(\s*\\?["']?(\d+)\\?["']?\s*\)""")
_CELL_ID_RE = re.compile(r"^td_[A-Z0-9_]+?_(\d+)$")
_BLOCK_COMMENT_RE = re.compile(r"/\*.*?\*/", re.S)
_LINE_COMMENT_RE = re.compile(r"^[ \t]*//.*$", re.M)
_CONCAT_RE = re.compile(r"""'\s*\+\s*'""")
_JS_STRING = r"'((?:[^'\\\n]|\\.)*)'"
# After _CONCAT_RE: $('#td_NTT_SJ_0').html(sHtml)  /  .html('literal')
_CELL_SET_RE = re.compile(
    r"\$\(\s*'#td_([A-Z0-9_]+?)_(\d+)'\s*\)\s*\.html\(\s*(?:"
    + _JS_STRING
    + r"|([A-Za-z_$][\w$]*))\s*\)"
)
_SHTML_START_RE = re.compile(r"\bvar\s+sHtml\s*=")
_SHTML_PIECE_RE = re.compile(r"sHtml\s*\+=\s*(?:unescape\(\s*)?" + _JS_STRING)
_JS_ESCAPE_RE = re.compile(r"\\(u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|.)", re.S)
_PERCENT_RE = re.compile(r"%u([0-9A-Fa-f]{4})|%([0-9A-Fa-f]{2})")
_TAG_RE = re.compile(r"<[^>]*>")
_NUMERIC_DATE_RE = re.compile(r"(\d{4})\s*[.\-/년]\s*(\d{1,2})\s*[.\-/월]\s*(\d{1,2})")
_ENGLISH_DATE_RE = re.compile(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),\s*(\d{4})")
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
)}  # fmt: skip
_JS_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "", "b": "", "f": "", "v": "", "0": ""}

_ROW_ANCHORS = etree.XPath("//a[contains(@onclick, 'fn_detail') or contains(@href, 'fn_detail')]")
_BOARD_LIST = etree.XPath(
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' board_list ')]"
)
_BBS_SEQ = etree.XPath("//input[@name='bbsSeqNo' or @id='bbsSeqNo']/@value")
_SCRIPTS = etree.XPath("//script[not(@src)]")


@dataclass(frozen=True, slots=True)
class MsitRow:
    """One release listed on the board."""

    ntt_seq_no: str
    title: str
    url: str
    department: str | None = None
    published_on: date | None = None


@dataclass(frozen=True, slots=True)
class MsitListPage:
    """The rows of one list page, newest first, and the board number the page declares."""

    rows: tuple[MsitRow, ...]
    bbs_seq_no: str | None = None

    @property
    def leads(self) -> list[Lead]:
        """Return the rows as leads (the listed date as noon KST: see ``DATE_ONLY_TIME``)."""
        return [
            Lead(
                url=row.url,
                title=row.title,
                published_at=(
                    datetime.combine(row.published_on, DATE_ONLY_TIME, KST)
                    if row.published_on
                    else None
                ),
            )
            for row in self.rows
        ]


def list_page_url(list_url: str, page: int) -> str:
    """Return the list URL of page ``page`` (``pageIndex``; page 1 is the URL as configured)."""
    if page < 1:
        raise ValueError(f"page must be ≥ 1, got {page}")
    parts = urlsplit(list_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "pageIndex"]
    if page > 1:
        query.append(("pageIndex", str(page)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def view_url(list_url: str, ntt_seq_no: str, bbs_seq_no: str | None = None) -> str:
    """Return the view.do URL of release ``ntt_seq_no`` on the board of ``list_url``.

    The host comes from the list URL, so a mirror (127.0.0.1) links to its own view pages.
    ``bbsSeqNo`` is added when the list page declared it, as the board's own form does.
    """
    parts = urlsplit(list_url)
    given = dict(parse_qsl(parts.query))
    query = [(key, given.get(key, value)) for key, value in DEFAULT_BOARD.items()]
    if bbs_seq_no:
        query.append(("bbsSeqNo", bbs_seq_no))
    query.append(("nttSeqNo", ntt_seq_no))
    path = parts.path.rsplit("/", 1)[0] + "/view.do"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def parse_msit_list(
    body: bytes | str, list_url: str, headers: Mapping[str, str] | None = None
) -> MsitListPage:
    """Return the list page's rows, or raise ListingError when it is not a board list page.

    A board page past the last one (no rows, "등록된 게시물이 없습니다") returns no rows.
    """
    if isinstance(body, bytes):
        if not body.strip():
            raise ListingError("MSIT board page is empty")
        text = decode_html(body, headers).text
    else:
        text = body
    if not text.strip():
        raise ListingError("MSIT board page is empty")
    try:
        root = parse_document(text)
    except ValueError as exc:
        raise ListingError(f"MSIT board page has no HTML elements ({exc})") from None
    anchors = _ROW_ANCHORS(root)
    if not anchors and not _BOARD_LIST(root) and "fn_detail" not in text:
        raise ListingError(
            "not an MSIT board list page (no .board_list and no fn_detail rows): "
            "a login, error or redesigned page"
        )
    script = "\n".join(s.text or "" for s in _SCRIPTS(root))
    cells = _script_cells(script)
    bbs_values = [str(v).strip() for v in _BBS_SEQ(root) if str(v).strip()]
    bbs_seq_no = bbs_values[0] if bbs_values else None

    numbers: dict[int, str] = {}
    static_titles: dict[int, str] = {}
    for position, anchor in enumerate(anchors):
        match = _FN_DETAIL_RE.search(anchor.get("onclick", "") + anchor.get("href", ""))
        if not match:
            continue
        index = _row_index(anchor, position)
        numbers.setdefault(index, match[1])
        static_titles.setdefault(index, _static_title(anchor, index))
    # Boards that inject the whole cell carry fn_detail only inside the script.
    for index, value in cells.get("NTT_SJ", {}).items():
        match = _FN_DETAIL_RE.search(value)
        if match and index not in numbers:
            numbers[index] = match[1]

    rows = []
    seen: set[str] = set()
    for index in sorted(numbers):
        number = numbers[index]
        if number in seen:
            continue
        seen.add(number)
        title = cells.get("NTT_SJ", {}).get(index, "")
        title = _html_text(title) or static_titles.get(index, "")
        rows.append(
            MsitRow(
                ntt_seq_no=number,
                title=title,
                url=view_url(list_url, number, bbs_seq_no),
                department=_html_text(cells.get("CHRG_DEPT_NM", {}).get(index, "")) or None,
                published_on=parse_board_date(cells.get("REG_DT", {}).get(index, "")),
            )
        )
    return MsitListPage(rows=tuple(rows), bbs_seq_no=bbs_seq_no)


def _row_index(anchor: etree._Element, position: int) -> int:
    """Return the script's row index of a row: from its cells' ids, else its position."""
    for element in anchor.iter():
        match = _CELL_ID_RE.match(element.get("id") or "")
        if match:
            return int(match[1])
    return position


def _static_title(anchor: etree._Element, index: int) -> str:
    """Return title text already in the markup (a mirror or a server-rendered board)."""
    for element in anchor.iter():
        ident = element.get("id") or ""
        if ident == f"td_NTT_SJ_{index}" or "title" in (element.get("class") or "").split():
            value = " ".join(element.text_content().split())
            if value:
                return value
    return ""


def _script_cells(script: str) -> dict[str, dict[int, str]]:
    """Return ``{field: {row index: value}}`` set by the live (uncommented) statements."""
    live = _LINE_COMMENT_RE.sub("", _BLOCK_COMMENT_RE.sub("", script))
    live = _CONCAT_RE.sub("", live)
    cells: dict[str, dict[int, str]] = {}
    block_start = 0
    for match in _CELL_SET_RE.finditer(live):
        field, index = match[1], int(match[2])
        literal, variable = match[3], match[4]
        if literal is not None:
            value = _js_unescape(_js_string(literal))
        elif variable == "sHtml":
            starts = [m.end() for m in _SHTML_START_RE.finditer(live, block_start, match.start())]
            start = starts[-1] if starts else block_start
            pieces = _SHTML_PIECE_RE.findall(live, start, match.start())
            value = "".join(_js_unescape(_js_string(p)) for p in pieces)
        else:
            continue
        # The last live statement wins, as it does in the browser.
        cells.setdefault(field, {})[index] = value
        if variable == "sHtml":
            block_start = match.end()
    return cells


def _js_string(literal: str) -> str:
    """Return the value of a single-quoted JavaScript string literal's body."""

    def replace(match: re.Match[str]) -> str:
        escape = match[1]
        if escape[0] in "ux" and len(escape) > 1:
            return chr(int(escape[1:], 16))
        return _JS_SIMPLE_ESCAPES.get(escape, escape)

    return _JS_ESCAPE_RE.sub(replace, literal)


def _js_unescape(value: str) -> str:
    """Return ``value`` decoded as JavaScript's ``unescape`` does (%XX and %uXXXX)."""

    def replace(match: re.Match[str]) -> str:
        return chr(int(match[1] or match[2], 16))

    return _PERCENT_RE.sub(replace, value)


def _html_text(value: str) -> str:
    """Return the text of an injected HTML fragment: tags dropped, entities decoded."""
    return " ".join(html.unescape(_TAG_RE.sub(" ", value)).split())


def parse_board_date(value: str) -> date | None:
    """Return the date of a board cell: "2026. 1. 15", "2026-01-15", "Jan 15, 2026"."""
    match = _NUMERIC_DATE_RE.search(value)
    try:
        if match:
            return date(int(match[1]), int(match[2]), int(match[3]))
        match = _ENGLISH_DATE_RE.search(value)
        if match and match[1].lower() in _MONTHS:
            return date(int(match[3]), _MONTHS[match[1].lower()], int(match[2]))
    except ValueError:
        return None
    return None
