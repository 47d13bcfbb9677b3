"""Naver News page object: n.news/m.news, legacy read.nhn, entertain and sports article pages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, partial
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from tracker.article import ParsedArticle

from .base import ArticlePage, NotAnArticle, RetryPage
from .bylines import dateline_reporters, names_from_byline, trailing_byline, unique
from .dates import KST, find_labeled_datetimes, parse_datetime, pick_published_modified
from .dom import (
    class_xpath,
    first_text,
    meta_map,
    parse_plain_document,
    readable_text,
    string_value,
    strip_trailing_boilerplate,
)
from .encoding import DecodedHtml

__all__ = [
    "NAVER_HOSTS",
    "NaverArticlePage",
    "looks_like_naver_article",
    "naver_ids_from_url",
]

NAVER_HOSTS = frozenset(
    {
        "news.naver.com",
        "n.news.naver.com",
        "m.news.naver.com",
        "entertain.naver.com",
        "m.entertain.naver.com",
        "sports.news.naver.com",
        "m.sports.naver.com",
        "sports.naver.com",
    }
)

# Plain str results: lxml's default "smart" strings each keep a reference to their parent.
# Paths below say "/descendant::x[…]" rather than "//x[…]": the same nodes in the same order
# (no predicate here is positional), but libxml2 runs "//x[…]" as child::x[…] of every node of
# the document, one node-set per node, and the explicit axis as one walk: two to three times
# faster on a Naver page.
_X = partial(etree.XPath, smart_strings=False)
# The tree is parsed as plain lxml.etree elements (see dom.parse_plain_document).
Element = etree._Element


def _has(name: str) -> str:
    """Exact class-token test, for short class names that occur inside longer ones."""
    return class_xpath(name)


def _c(name: str) -> str:
    """Substring class test: about twice as fast, safe for Naver's long distinctive names."""
    return f"contains(@class, '{name}')"


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where one generation of Naver's article markup keeps each field."""

    name: str
    body_id: str  # the id attribute that identifies the layout and holds the body
    title: tuple[etree.XPath, ...]
    body: tuple[etree.XPath, ...]
    date_containers: etree.XPath | None  # elements whose text holds "입력 … 수정 …"
    skip_tags: frozenset[str] = frozenset()  # extra tags that are not prose in this layout
    # Strings that only occur after everything we read. Parsing stops at the first one after
    # the body, which skips the comment/ranking/recommendation half of the page.
    tail_markers: tuple[str, ...] = ()


_LAYOUTS: tuple[_Layout, ...] = (
    # 2022– n.news.naver.com (also served for m.news.naver.com).
    _Layout(
        name="current",
        body_id="dic_area",
        # Tag-qualified paths first: libxml2 filters by tag name before any predicate, which
        # makes them several times faster than "descendant::*[…]" on a Naver page.
        title=(
            _X("/descendant::h2[@id='title_area']"),
            _X(f"/descendant::h2[{_c('media_end_head_headline')}]"),
            _X("/descendant::*[@id='title_area']"),
        ),
        body=(_X("/descendant::article[@id='dic_area']"), _X("/descendant::*[@id='dic_area']")),
        date_containers=None,  # machine-readable data-date-time attributes instead
        tail_markers=(
            'id="channelBanner"',
            'class="newsct_journalist"',
            'class="media_end_linked"',
        ),
    ),
    # Before 2022: news.naver.com/main/read.nhn / read.naver.
    _Layout(
        name="legacy",
        body_id="articleBodyContents",
        title=(_X("/descendant::h3[@id='articleTitle']"), _X("/descendant::*[@id='articleTitle']")),
        body=(
            _X("/descendant::div[@id='articleBodyContents']"),
            _X("/descendant::*[@id='articleBodyContents']"),
        ),
        date_containers=_X(f"/descendant::div[{_has('sponsor')}]"),
        tail_markers=('class="end_btn"',),
    ),
    # entertain.naver.com/read?oid=&aid= (PC, before the 2023 redesign). Unverified: no
    # real capture exists; the selectors are the ones public crawlers used.
    _Layout(
        name="entertain",
        body_id="articeBody",  # sic: Naver's own typo
        title=(_X(f"/descendant::*[{_has('end_tit')}]"),),
        body=(_X("/descendant::*[@id='articeBody']"),),
        date_containers=_X(f"/descendant::div[{_has('article_info')}]"),
    ),
    # sports.news.naver.com/news?oid=&aid= (PC, before the 2023 redesign). Unverified, as above;
    # the body div also holds source/credit <p>s and widget <div>s, which are not prose.
    _Layout(
        name="sports",
        body_id="newsEndContents",
        title=(
            _X(f"/descendant::div[{_has('news_headline')}]/descendant::*[{_has('title')}]"),
            _X(f"/descendant::h4[{_has('title')}]"),
        ),
        body=(_X("/descendant::*[@id='newsEndContents']"),),
        date_containers=_X(
            f"/descendant::div[{_has('news_headline')}]/descendant::div[{_has('info')}]"
        ),
        skip_tags=frozenset({"p", "div"}),
    ),
    # 2023– m.entertain.naver.com/article/… and m.sports.naver.com/…/article/… (React, hashed
    # "NewsEndMain_*__xxxx" classes). Unverified against a real server response.
    _Layout(
        name="endmain",
        body_id="comp_news_article",
        title=(
            _X(f"/descendant::h2[{_c('NewsEndMain_article_title__')}]"),
            _X(f"/descendant::*[{_c('NewsEndMain_article_title__')}]"),
        ),
        body=(
            _X(
                f"/descendant::*[@id='comp_news_article']/descendant::div[{_has('_article_content')}]"
            ),
            _X("/descendant::*[@id='comp_news_article']"),
        ),
        date_containers=_X(f"/descendant::*[{_c('NewsEndMain_date__')}]/.."),
    ),
)

_PUBLISHER_XPATHS = tuple(
    _X(x)
    for x in (
        f"/descendant::img[{_c('media_end_head_top_logo_img')}]/@title",
        f"/descendant::img[{_c('media_end_head_top_logo_img')}]/@alt",
        f"/descendant::img[{_c('media_end_head_top_img')}]/@alt",
        f"/descendant::span[{_c('media_end_head_top_press')}]",
        f"/descendant::img[{_c('ofhd_float_title_img')}]/@alt",
        f"/descendant::div[{_has('press_logo')}]/descendant::img/@title",
        f"/descendant::div[{_has('press_logo')}]/descendant::img/@alt",
        "/descendant::*[@id='pressLogo']/descendant::img/@alt",
        f"/descendant::img[{_c('NewsEndMain_image_media__')}]/@alt",
        f"/descendant::img[{_c('NewsEndMain_press_logo_img__')}]/@alt",
    )
)
_JOURNALIST_XPATHS = tuple(
    _X(x)
    for x in (
        f"/descendant::em[{_c('media_end_head_journalist_name')}]",
        f"/descendant::span[{_c('NewsEndMain_author__')}]",
        f"/descendant::span[{_has('byline_s')}]",
    )
)
_ORIGIN_XPATHS = tuple(
    _X(x)
    for x in (
        f"/descendant::a[{_c('media_end_head_origin_link')}]/@href",
        f"/descendant::a[{_c('btn_artialoriginal')}]/@href",  # sic
        "/descendant::a[starts-with(@href, 'http')"
        " and contains(normalize-space(.), '기사원문')]/@href",
    )
)
# One predicate instead of a union: one pass over the document instead of two.
_SECTION_NAME_XPATH = _X(
    f"/descendant::em[{_c('media_end_categorize_item')} or {_c('guide_categorization_item')}]"
)
# Both classes contain "DATE_TIME": one substring test per <span> instead of two. The extra
# spans this may return are ignored below, which looks for the two classes themselves.
_DATE_ATTRS = _X(f"/descendant::span[{_c('DATE_TIME')}]")
_SUMMARY_XPATH = _X(f"descendant::*[{_c('media_end_summary')}]")
_HTML_TITLE = _X("/descendant::title")

# Inside a body these hold photos, captions, players or the sub-headline (read separately).
_SKIP_CLASSES = frozenset(
    {
        "end_photo_org", "img_desc", "nbd_im_w", "nbd_a", "ab_photo", "photo", "image",
        "vod_player_wrap", "_VOD_PLAYER_WRAP", "_VIDEO_AREA_WRAP", "video_area",
        "media_end_summary", "blind", "s_hidden", "link_news", "news_end_btn", "byline",
    }
)  # fmt: skip

_PATH_IDS_RE = re.compile(r"/article/(?:comment/)?(\d{3})/(\d{10})(?:\D|$)")
_SECTION_META_RE = re.compile(r"(?:^|,)\s*section=(\d{3})")
_TITLE_SUFFIX_RE = re.compile(r"\s*[:|\-]\s*네이버\s*(?:뉴스|스포츠|연예|엔터)?\s*$")
_PUBLISHER_SUFFIX_RE = re.compile(r"\s*\|\s*네이버.*$")
_ID_BEFORE_RE = re.compile(r"""\bid\s*=\s*["']?$""")
# Mojibake comes from decoding a whole document wrongly, so it shows in any stretch of it; the
# check counts syllables with two regexes, and a sample of the body is enough (and cheaper).
_GARBLE_SAMPLE = 1000
_TRANSIENT_MARKERS = ("일시적인 오류", "일시적 오류", "잠시 후 다시 시도", "서비스 점검 중")


def naver_ids_from_url(url: str | None) -> tuple[str | None, str | None]:
    """Return (oid, aid) from any Naver article URL form, or (None, None)."""
    if not url:
        return None, None
    parts = urlsplit(url)
    match = _PATH_IDS_RE.search(parts.path)
    if match:
        return match[1], match[2]
    query = parse_qs(parts.query)
    oid = query.get("oid", [None])[0]
    aid = query.get("aid", [None])[0]
    if oid and aid and oid.isdigit() and aid.isdigit():
        return oid, aid
    return None, None


def _sid_from_url(url: str | None) -> str | None:
    if not url:
        return None
    query = parse_qs(urlsplit(url).query)
    for key in ("sid", "sid1"):
        value = query.get(key, [""])[0]
        if value.isdigit():
            return value
    return None


def _find_id(text: str, ident: str) -> int:
    """Return the index of ``id="ident"`` inside a real tag, or -1.

    A plain substring test would also fire on a blog post that quotes Naver's markup; the
    quoted copy is escaped (``&lt;article id="dic_area"``), so it is not inside a tag.
    """
    start = 0
    while True:
        idx = text.find(ident, start)
        if idx < 0:
            return -1
        start = idx + len(ident)
        end = text[start : start + 1]
        if end and (end.isalnum() or end in "_-"):
            continue  # a longer identifier such as dic_area_x
        if _ID_BEFORE_RE.search(text, max(0, idx - 16), idx) and text.rfind(
            "<", 0, idx
        ) > text.rfind(">", 0, idx):
            return idx


def _detect_layout(text: str) -> tuple[_Layout, int] | None:
    for layout in _LAYOUTS:
        idx = _find_id(text, layout.body_id)
        if idx >= 0:
            return layout, idx
    return None


def looks_like_naver_article(text: str) -> bool:
    """Return True when HTML carries the markup of a Naver article page (for mirror hosts)."""
    return _detect_layout(text) is not None or (
        "media_end_head" in text and _find_id(text, "title_area") >= 0
    )


def _truncate(text: str, layout: _Layout, body_at: int) -> str:
    cut = -1  # the first marker after the body, -1 while none is found
    for marker in layout.tail_markers:
        # Once a cut is known only an earlier marker matters: bound the search by it rather
        # than scan the rest of the page (most of it) for a marker that may not be there.
        end = len(text) if cut < 0 else cut + len(marker)
        i = text.find(marker, body_at, end)
        if i > 0 and (cut < 0 or i < cut):
            cut = i
    # lxml closes whatever is left open at the cut, exactly as for a truncated download.
    return text[:cut] if cut > 0 else text


class NaverArticlePage(ArticlePage):
    """A Naver News article in any of its layouts; see ``_LAYOUTS`` for what is read where.

    Body: paragraph text of the article element, one paragraph per line, without photos,
    captions, players, scripts, the sub-headline, or trailing copyright/promotion lines.
    ``description`` is the ``media_end_summary`` sub-headline, kept out of the body so the
    body is the story only. ``section`` is Naver's sid (URL ``sid``/``sid1``, og:url, or the
    ``napp-site-analysis`` meta), falling back to the page's own section name; the page's
    section names are also kept in ``extra["section_names"]``.
    """

    extractor: ClassVar[str] = "naver"

    def __init__(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        decoded: DecodedHtml | None = None,
        truncate: bool = True,
    ) -> None:
        super().__init__(url, body, headers, decoded=decoded)
        text = self.decoded.text
        found = _detect_layout(text)
        self.layout: _Layout | None = found[0] if found else None
        self._skip_tags = self.layout.skip_tags if self.layout is not None else frozenset()
        head = _truncate(text, found[0], found[1]) if found and truncate else text
        self.root = self._parse(head)
        if head is not text and self.body_element is None:
            # The cut landed before the body (markup shaped differently than expected):
            # pay for the full parse rather than lose the article.
            del self.__dict__["body_element"]
            self.root = self._parse(text)

    # -- helpers ---------------------------------------------------------------------------

    def _parse(self, text: str) -> Element:  # type: ignore[override]
        # Plain lxml.etree elements: the same tree, read without lxml.html's Python-level
        # element class lookup (see dom.parse_plain_document).
        try:
            return parse_plain_document(text)
        except ValueError as exc:
            raise NotAnArticle(self.url, f"no HTML elements in the body ({exc})") from exc

    @cached_property
    def metas(self) -> dict[str, str]:
        """Return the page's meta tags (read lazily: most Naver pages never need them)."""
        return meta_map(self.root)

    def _first(self, xpaths: tuple[etree.XPath, ...], context: Element | None = None) -> str | None:
        node = self.root if context is None else context
        for xpath in xpaths:
            value = first_text(xpath(node))
            if value:
                return value
        return None

    def _skip(self, el: Element) -> bool:
        # Called for every element of the body, <br>s included.
        if el.tag in self._skip_tags:
            return True
        classes = el.get("class")
        if classes and not _SKIP_CLASSES.isdisjoint(classes.split()):
            return True
        ident = el.get("id")
        return ident is not None and ident.startswith("video_area")

    # -- fields ----------------------------------------------------------------------------

    @cached_property
    def body_element(self) -> Element | None:
        """Return the element that holds the article text, or None on a non-article page."""
        if self.layout is None:
            return None
        for xpath in self.layout.body:
            nodes = xpath(self.root)
            if nodes:
                return nodes[0]
        return None

    @cached_property
    def title(self) -> str:
        """Return the headline (layout element, then og:title, then <title>)."""
        if self.layout is not None:
            value = self._first(self.layout.title)
            if value:
                return value
        value = self.metas.get("og:title") or self.metas.get("twitter:title")
        if not value:
            value = first_text(_HTML_TITLE(self.root)) or ""
            value = _TITLE_SUFFIX_RE.sub("", value)
        return value

    @cached_property
    def body(self) -> str:
        """Return the article text, one paragraph per line."""
        el = self.body_element
        if el is None:
            return ""
        lines = readable_text(el, self._skip).split("\n")
        return "\n".join(strip_trailing_boilerplate([ln for ln in lines if ln]))

    @cached_property
    def description(self) -> str | None:
        """Return the sub-headline (``media_end_summary``) shown above the body."""
        el = self.body_element
        if el is None:
            return None
        nodes = _SUMMARY_XPATH(el)
        return (readable_text(nodes[0]) or None) if nodes else None

    @cached_property
    def publisher(self) -> str | None:
        """Return the press name (logo title/alt, then twitter:creator, og:article:author)."""
        value = self._first(_PUBLISHER_XPATHS)
        if value:
            return value
        for key in ("twitter:creator", "og:article:author", "me2:category1"):
            meta = self.metas.get(key)
            if meta:
                meta = _PUBLISHER_SUFFIX_RE.sub("", meta).strip()
                if meta:
                    return meta
        return None

    @cached_property
    def authors(self) -> tuple[str, ...]:
        """Return reporters: header names, the byline, a wire dateline or a closing byline line."""
        for xpath in _JOURNALIST_XPATHS:
            nodes = xpath(self.root)
            names = unique(n for node in nodes for n in names_from_byline(string_value(node)))
            if names:
                return names
        lines = self.body.split("\n")
        return dateline_reporters(self.body) or trailing_byline(lines)

    @cached_property
    def _dates(self) -> tuple[datetime | None, datetime | None]:
        published = modified = None
        published_node = modified_node = None
        for node in _DATE_ATTRS(self.root):
            classes = node.get("class", "")
            if published_node is None and "_ARTICLE_DATE_TIME" in classes:
                published_node = node
            if modified_node is None and "_ARTICLE_MODIFY_DATE_TIME" in classes:
                modified_node = node
        if published_node is not None:
            published = parse_datetime(published_node.get("data-date-time")) or parse_datetime(
                string_value(published_node)
            )
        if modified_node is not None:
            modified = parse_datetime(modified_node.get("data-modify-date-time")) or parse_datetime(
                string_value(modified_node)
            )
        if published is None and self.layout is not None and self.layout.date_containers:
            text = "\n".join(string_value(n) for n in self.layout.date_containers(self.root))
            published, labeled_modified = pick_published_modified(find_labeled_datetimes(text, KST))
            modified = modified or labeled_modified
        return published, modified

    @property
    def published_at(self) -> datetime | None:
        """Return 입력 (first publication) as an aware KST datetime."""
        return self._dates[0]

    @property
    def modified_at(self) -> datetime | None:
        """Return 수정 (last modification) as an aware KST datetime."""
        return self._dates[1]

    @cached_property
    def original_url(self) -> str | None:
        """Return the publisher's own URL (기사원문 link)."""
        for xpath in _ORIGIN_XPATHS:
            hrefs = [str(h).strip() for h in xpath(self.root) if str(h).strip()]
            if hrefs:
                return hrefs[0]
        return None

    @cached_property
    def _ids(self) -> tuple[str | None, str | None]:
        oid, aid = naver_ids_from_url(self.url)
        if oid is None:
            oid, aid = naver_ids_from_url(self.metas.get("og:url"))
        return oid, aid

    @property
    def naver_oid(self) -> str | None:
        """Return the press id (oid) from the URL or og:url."""
        return self._ids[0]

    @property
    def naver_aid(self) -> str | None:
        """Return the article id (aid) from the URL or og:url."""
        return self._ids[1]

    @cached_property
    def section_names(self) -> tuple[str, ...]:
        """Return the section names the page shows (이 기사는 … 섹션으로 분류)."""
        return unique(" ".join(string_value(n).split()) for n in _SECTION_NAME_XPATH(self.root))

    @cached_property
    def section(self) -> str | None:
        """Return the sid, else the first section name on the page."""
        sid = _sid_from_url(self.url) or _sid_from_url(self.metas.get("og:url"))
        if sid is None:
            match = _SECTION_META_RE.search(self.metas.get("napp-site-analysis", ""))
            sid = match[1] if match else None
        if sid is not None:
            return sid
        return self.section_names[0] if self.section_names else None

    # -- result ----------------------------------------------------------------------------

    def _raise_if_not_article(self) -> None:
        if self.body_element is None:
            if any(marker in self.text for marker in _TRANSIENT_MARKERS):
                raise RetryPage(self.url, "Naver served its temporary-error page (일시적 오류)")
            raise NotAnArticle(
                self.url,
                "no Naver article body (#dic_area, #articleBodyContents, #articeBody, "
                "#newsEndContents or #comp_news_article): a section, list or error page",
            )
        if not self.body:
            raise NotAnArticle(
                self.url, "the article element has no text (photo/video-only or card news)"
            )

    def to_article(self) -> ParsedArticle:
        """Return the parsed article, or raise NotAnArticle / RetryPage."""
        self._raise_if_not_article()
        self._reject_garbled(self.title, self.body[:_GARBLE_SAMPLE])
        extra = {"section_names": ", ".join(self.section_names)} if self.section_names else {}
        return ParsedArticle(
            url=self.url,
            title=self.title,
            body=self.body,
            publisher=self.publisher,
            authors=self.authors,
            published_at=self.published_at,
            modified_at=self.modified_at,
            original_url=self.original_url,
            naver_oid=self.naver_oid,
            naver_aid=self.naver_aid,
            section=self.section,
            language="ko",
            description=self.description,
            extractor=self.extractor,
            extra=extra,
        )
