"""MSIT press-release board view page (www.msit.go.kr/bbs/view.do) and its attachment text.

Markup read (public scrapers of the live site agree on it; no saved copy exists here):
title in ``.view_head h2``; labelled ``dl.tit_con`` pairs (부서, 담당자, 작성일/등록일); text in
``<div id="cont-wrap" class="view_cont">`` (HWP-converted ``.texteditor-area-inner``); the
attachment list follows it (``.view_file`` / ``ul.down_file_new``), each file name next to a
download button ``onclick="fn_download('atchFileNo', 'fileOrd', 'pdf')"`` that fetches
``/ssm/file/fileDown.do?atchFileNo=…&fileOrd=…&fileBtn=A``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from typing import ClassVar
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

from lxml import etree

from crawler.listings.msit import DATE_ONLY_TIME, parse_board_date
from tracker.article import ParsedArticle

from .base import ArticlePage, NotAnArticle, RetryPage
from .dates import KST, parse_datetime
from .dom import HtmlElement, class_xpath, clean_lines, first_text, meta_map, readable_text
from .encoding import DecodedHtml

__all__ = [
    "MSIT_HOSTS",
    "PUBLISHER",
    "Attachment",
    "MsitViewPage",
    "looks_like_msit_view",
    "merge_attachment_text",
]

MSIT_HOSTS = frozenset({"msit.go.kr"})
PUBLISHER = "과학기술정보통신부"
DOWNLOAD_PATH = "/ssm/file/fileDown.do"

_X = etree.XPath
_VIEW_HEAD = _X(f"//*[{class_xpath('view_head')}]")
_TITLES = (
    _X(f"//*[{class_xpath('view_head')}]//h2"),
    _X(f"//*[{class_xpath('view_head')}]//h3"),
    _X(f"//*[{class_xpath('view_tit')}]"),
)
_INFO_LISTS = _X(f"//*[{class_xpath('view_head')}]//dl | //dl[{class_xpath('tit_con')}]")
_BODIES = (
    _X("//*[@id='cont-wrap']"),
    _X(f"//*[{class_xpath('view_cont')}]"),
    _X(f"//*[{class_xpath('texteditor-area-inner')}]"),
    _X(f"//*[{class_xpath('board_notcon')}]"),
)
_DOWNLOADS = _X(
    "//*[contains(@onclick, 'fn_download') or contains(@href, 'fn_download')"
    " or contains(@href, 'fileDown.do')]"
)
_HTML_TITLE = _X("//title")
_ANCESTOR_ITEM = _X("ancestor::li[1] | ancestor::tr[1]")
_NAMED_LINKS = _X(".//a")

# Parts of the body container that are not the release text (attachment lists, buttons).
_SKIP_CLASSES = frozenset(
    {"view_file", "down_file", "down_file_new", "file_list", "btn_area", "view_list", "kogl"}
)
_FN_DOWNLOAD_RE = re.compile(
    r"""fn_download\(\s*['"]?(\w+)['"]?\s*,\s*['"]?(\w+)['"]?(?:\s*,\s*['"]?(\w+)['"]?)?"""
)
_EXT_RE = re.compile(r"\.(pdf|hwpx|hwp|docx?|xlsx?|pptx?|zip|odt|jpe?g|png)\b", re.IGNORECASE)
_ICON_RE = re.compile(r"\bico_file_(\w+)")
_TITLE_SUFFIX_RE = re.compile(r"\s*[|<>]\s*(?:보도자료|알림·소식|과학기술정보통신부).*$")
_PUBLISHED_LABELS = ("작성일", "등록일", "게시일", "보도일")
_DEPARTMENT_LABELS = ("부서", "담당부서", "담당 부서")
_MAINTENANCE_MARKERS = ("시스템 점검", "서비스 점검", "일시적인 오류")
_SPACE_RE = re.compile(r"\s+")
# The document's masthead ("과학기술정보통신부 보도자료"): not text of the release.
_MASTHEAD_RE = re.compile(r"^(?:과학기술정보통신부|과기정통부)?\s*보도(?:참고)?자료$")


@dataclass(frozen=True, slots=True)
class Attachment:
    """One attached file: its shown name, kind (lowercase extension) and download URL."""

    name: str
    kind: str
    url: str


def _find_attr(text: str, name: str, value: str) -> bool:
    """Return True when ``name="value"`` occurs as an attribute (not escaped text)."""
    return re.search(rf"""<[^<>]*\b{name}\s*=\s*["']{re.escape(value)}["']""", text) is not None


def looks_like_msit_view(text: str) -> bool:
    """Return True for an MSIT board view page served from another host (a mirror).

    Requires the live site's own markers (the ``cont-wrap`` body, or a ``view_head`` next to
    ``fn_download`` buttons), so look-alike pages without them stay with the generic reader.
    """
    if _find_attr(text, "id", "cont-wrap"):
        return True
    return "view_head" in text and "fn_download(" in text


def _download_url(page_url: str, atch_file_no: str, file_ord: str) -> str:
    parts = urlsplit(page_url)
    query = urlencode({"atchFileNo": atch_file_no, "fileOrd": file_ord, "fileBtn": "A"})
    return urlunsplit((parts.scheme, parts.netloc, DOWNLOAD_PATH, query, ""))


def _squash(text: str) -> str:
    return _SPACE_RE.sub("", unicodedata.normalize("NFKC", text))


class MsitViewPage(ArticlePage):
    """One press release on the MSIT board; see the module docstring for the markup read.

    ``published_at`` is the 작성일 date at noon KST (the board shows no time; see
    ``crawler.listings.msit.DATE_ONLY_TIME``) unless the page gives a time. The body is the
    page text only: the PDF attachment's text is added by ``merge_attachment_text`` after the
    crawler fetched it.
    """

    extractor: ClassVar[str] = "msit"

    def __init__(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        decoded: DecodedHtml | None = None,
    ) -> None:
        super().__init__(url, body, headers, decoded=decoded)
        self.root = self._parse(self.text)
        self.metas = meta_map(self.root)

    # -- fields ----------------------------------------------------------------------------

    @cached_property
    def is_view(self) -> bool:
        """Return True when the page has the board's view header or body container."""
        return bool(_VIEW_HEAD(self.root)) or self.body_element is not None

    @cached_property
    def title(self) -> str:
        """Return the release title (view header, then og:title, then <title>)."""
        for xpath in _TITLES:
            value = first_text(xpath(self.root))
            if value:
                return value
        value = self.metas.get("og:title") or first_text(_HTML_TITLE(self.root)) or ""
        return _TITLE_SUFFIX_RE.sub("", value).strip()

    @cached_property
    def info(self) -> dict[str, str]:
        """Return the labelled header fields (부서, 담당자, 작성일 …), first value per label."""
        fields: dict[str, str] = {}
        for dl in _INFO_LISTS(self.root):
            label = None
            for child in dl:
                if child.tag == "dt":
                    label = " ".join(child.text_content().split())
                elif child.tag == "dd" and label:
                    fields.setdefault(label, " ".join(child.text_content().split()))
                    label = None
        return fields

    def _info(self, labels: tuple[str, ...]) -> str | None:
        for label in labels:
            value = self.info.get(label)
            if value:
                return value
        return None

    @property
    def department(self) -> str | None:
        """Return the office in charge (부서)."""
        return self._info(_DEPARTMENT_LABELS)

    @property
    def contact(self) -> str | None:
        """Return the contact person (담당자), when the page names one."""
        return self._info(("담당자",))

    @cached_property
    def published_at(self) -> datetime | None:
        """Return the posting time: a full date-time if shown, else the date at noon KST."""
        meta = parse_datetime(self.metas.get("article:published_time"))
        if meta is not None:
            return meta
        value = self._info(_PUBLISHED_LABELS)
        if not value:
            return None
        full = parse_datetime(value)
        if full is not None:
            return full
        day = parse_board_date(value)
        return datetime.combine(day, DATE_ONLY_TIME, KST) if day else None

    @cached_property
    def body_element(self) -> HtmlElement | None:
        """Return the element that holds the release text, or None."""
        for xpath in _BODIES:
            nodes = xpath(self.root)
            if nodes:
                return nodes[0]
        return None

    @staticmethod
    def _skip(el: HtmlElement) -> bool:
        classes = el.get("class")
        return bool(classes) and not _SKIP_CLASSES.isdisjoint(classes.split())

    @cached_property
    def body(self) -> str:
        """Return the release text on the page, one paragraph per line."""
        el = self.body_element
        if el is None:
            return ""
        return "\n".join(clean_lines(readable_text(el, self._skip).split("\n")))

    @cached_property
    def attachments(self) -> tuple[Attachment, ...]:
        """Return the attached files in page order, one entry per download URL."""
        found: dict[str, Attachment] = {}
        for el in _DOWNLOADS(self.root):
            script = f"{el.get('onclick', '')} {el.get('href', '')}"
            match = _FN_DOWNLOAD_RE.search(script)
            if match:
                url = _download_url(self.url, match[1], match[2])
                kind = (match[3] or "").lower()
            else:
                url = urljoin(self.url, el.get("href", ""))
                kind = ""
            if url in found:
                continue
            name = self._file_name(el)
            if not kind:
                ext = _EXT_RE.search(name)
                icon = _ICON_RE.search(el.get("class", ""))
                kind = (ext[1] if ext else icon[1] if icon else "").lower()
            found[url] = Attachment(name=name or f"attachment.{kind or 'bin'}", kind=kind, url=url)
        return tuple(found.values())

    @staticmethod
    def _file_name(el: HtmlElement) -> str:
        """Return the file name shown for a download button: its own text or its row's link."""
        own = " ".join(el.text_content().split())
        if _EXT_RE.search(own):
            return own
        for item in _ANCESTOR_ITEM(el):
            for link in _NAMED_LINKS(item):
                text = " ".join(link.text_content().split())
                if _EXT_RE.search(text):
                    return text
        return own if own not in ("", "다운로드", "내려받기", "바로보기") else ""

    def _first_of(self, *kinds: str) -> str | None:
        for attachment in self.attachments:
            if attachment.kind in kinds:
                return attachment.url
        return None

    @property
    def pdf_url(self) -> str | None:
        """Return the first PDF attachment's download URL."""
        return self._first_of("pdf")

    @property
    def hwp_url(self) -> str | None:
        """Return the first HWP/HWPX attachment's download URL."""
        return self._first_of("hwpx", "hwp")

    @property
    def ntt_seq_no(self) -> str | None:
        """Return the release number (``nttSeqNo``) in the URL."""
        values = parse_qs(urlsplit(self.url).query).get("nttSeqNo")
        return values[0] if values else None

    # -- result ----------------------------------------------------------------------------

    def to_article(self) -> ParsedArticle:
        """Return the release, or raise NotAnArticle / RetryPage.

        A release whose page has no text but a PDF attachment is returned with an empty body:
        the crawler fills it from the PDF (and must drop it if that fails).
        """
        if not self.is_view:
            if any(marker in self.text for marker in _MAINTENANCE_MARKERS):
                raise RetryPage(self.url, "MSIT served a maintenance/error page (점검)")
            raise NotAnArticle(
                self.url,
                "no MSIT board view (.view_head / #cont-wrap): a list, login or error page",
            )
        if not self.title:
            raise NotAnArticle(self.url, "MSIT view page without a title")
        if not self.body and self.pdf_url is None:
            raise NotAnArticle(self.url, "the release has no text on the page and no PDF")
        self._reject_garbled(self.title, self.body)
        extra = {"official": "true"}
        for key, value in (
            ("ntt_seq_no", self.ntt_seq_no),
            ("department", self.department),
            ("contact", self.contact),
            ("pdf_url", self.pdf_url),
            ("hwp_url", self.hwp_url),
            ("attachments", " | ".join(a.name for a in self.attachments)),
        ):
            if value:
                extra[key] = value
        return ParsedArticle(
            url=self.url,
            title=self.title,
            body=self.body,
            publisher=PUBLISHER,
            published_at=self.published_at,
            section="보도자료",
            language="ko",
            description=self.metas.get("description") or self.metas.get("og:description"),
            extractor=self.extractor,
            extra=extra,
        )


def merge_attachment_text(parsed: ParsedArticle, text: str) -> ParsedArticle:
    """Return ``parsed`` with the attachment's paragraphs that the page does not already show.

    A paragraph counts as shown when its text (whitespace and width forms ignored) occurs in
    the page body or is the title, so a PDF that repeats the page adds nothing while a PDF
    that holds the whole release fills an empty or summary-only page.
    ``extra["pdf_paragraphs_added"]`` records how many paragraphs were added.
    """
    known = _squash(f"{parsed.title}\n{parsed.body}")
    added = []
    for paragraph in text.split("\n"):
        key = _squash(paragraph)
        if key and key not in known and not _MASTHEAD_RE.match(paragraph.strip()):
            added.append(paragraph.strip())
            known += key
    extra = {**parsed.extra, "pdf_paragraphs_added": str(len(added))}
    body = "\n".join(part for part in (parsed.body, *added) if part)
    return replace(parsed, body=body, extra=extra)
