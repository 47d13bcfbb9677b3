"""Fallback page object for any publisher: trafilatura text, JSON-LD and OpenGraph metadata."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from functools import cached_property
from typing import ClassVar

import trafilatura
from lxml import etree
from trafilatura.settings import Document

from tracker.article import ParsedArticle

from .base import ArticlePage, NotAnArticle
from .bylines import (
    dateline_reporters,
    leading_byline,
    names_from_byline,
    trailing_byline,
    unique,
)
from .dates import DATE_LABELS, KST, DateKind, find_labeled_datetimes, parse_datetime
from .dom import clean_lines, first_text, meta_map, readable_text, strip_trailing_boilerplate
from .encoding import DecodedHtml
from .jsonld import JsonLdArticle, find_article

__all__ = ["MIN_BODY_CHARS", "GenericArticlePage"]

# Shorter extracted text than this is not an article but a card-news slide show, photo or
# video page, or a shell whose "text" is share buttons and a copyright line (the real 2016
# chosun 카드뉴스 page has about 80 characters). Generic extraction cannot tell a short
# article from boilerplate, so it insists on a paragraph's worth of text.
MIN_BODY_CHARS = 100

_PUBLISHED_META_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "og:regdate",  # Daum
)
_MODIFIED_META_KEYS = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "lastmod",
)
# Not og:article:author: Korean portals put the press name there ("YTN", "뉴스1 | 네이버").
_AUTHOR_META_KEYS = ("author", "article:author", "dable:author", "byl")
_PORTALS = frozenset({"daum", "다음", "naver", "네이버", "nate", "네이트", "zum", "줌"})

_HTML_LANG = etree.XPath("/html/@lang")
_HTML_TITLE = etree.XPath("//title")
_BODY = etree.XPath("//body")
_HOSTNAME_RE = re.compile(r"^[\w-]+(?:\.[\w-]+)+$")
_HANGUL_RE = re.compile("[\uac00-\ud7a3]")
_LETTER_RE = re.compile(r"[^\W\d_]")
_DATE_LABEL_RE = re.compile("|".join(DATE_LABELS))
_DATE_TOKENS_RE = re.compile(r"[\d.:/\-년월일시분]|오전|오후|AM|PM")
_DATE_ONLY_LINE_RE = re.compile(r"^[\s:|·/()\[\]-]*$")
# How far around the headline (in rendered lines) to look for the 입력/수정 line.
_LINES_BEFORE_TITLE = 3
_LINES_AFTER_TITLE = 40


def _is_url_or_host(value: str) -> bool:
    return value.startswith(("http://", "https://", "//")) or bool(_HOSTNAME_RE.match(value))


def _drop_portal(value: str | None) -> str | None:
    """Return "YTN" for "Daum | YTN": a portal's name is not the publisher."""
    if not value or _is_url_or_host(value):
        return None
    parts = [p.strip() for p in value.split("|")]
    kept = [p for p in parts if p and p.lower() not in _PORTALS]
    return " | ".join(kept) or None


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split()).lower()


def _is_date_line(line: str) -> bool:
    """Return True for a line that is only dates with 입력/수정 labels."""
    if not find_labeled_datetimes(line):
        return False
    rest = _DATE_TOKENS_RE.sub(" ", _DATE_LABEL_RE.sub(" ", line))
    return bool(_DATE_ONLY_LINE_RE.match(rest))


class GenericArticlePage(ArticlePage):
    """Any publisher's article: trafilatura reads the text, structured metadata overrides it.

    Field precedence: JSON-LD (NewsArticle …) > OpenGraph / ``article:*`` meta > Korean
    "입력/수정" labels in the page > trafilatura's own metadata. Naive dates are KST on Korean
    pages and UTC elsewhere; explicit offsets are kept. The extracted text is trimmed of
    navigation before the headline, a leading date line, a leading byline line (its names
    become ``authors``) and trailing copyright/promotion lines.
    """

    extractor: ClassVar[str] = "generic"

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
        self.jsonld: JsonLdArticle | None = find_article(self.root)

    @cached_property
    def _extracted(self) -> Document | None:
        # favor_precision: on the real 2016 pages recall mode returned share-button and
        # list-page text as "articles"; precision mode returns nothing for them.
        result = trafilatura.bare_extraction(
            self.root,
            url=self.url,
            with_metadata=True,
            include_comments=False,
            include_tables=False,
            favor_precision=True,
            deduplicate=False,
        )
        return result if isinstance(result, Document) else None

    @cached_property
    def _page_text(self) -> str:
        bodies = _BODY(self.root)
        return readable_text(bodies[0]) if bodies else ""

    # -- language and time zone ------------------------------------------------------------

    @cached_property
    def language(self) -> str | None:
        """Return the <html lang> primary subtag, else "ko" for mostly-Hangul text."""
        lang = first_text(_HTML_LANG(self.root))
        if lang:
            return lang.replace("_", "-").split("-")[0].lower()
        sample = self._body_lines_and_bylines[0][:2000] or self._page_text[:2000]
        letters = len(_LETTER_RE.findall(sample))
        if letters and len(_HANGUL_RE.findall(sample)) / letters >= 0.3:
            return "ko"
        return None

    @property
    def _default_tz(self) -> tzinfo:
        return KST if self.language in (None, "ko") else UTC

    # -- text ------------------------------------------------------------------------------

    @cached_property
    def title(self) -> str:
        """Return JSON-LD headline, og:title, trafilatura's title or <title>."""
        candidates = (
            self.jsonld.headline if self.jsonld else None,
            self.metas.get("og:title"),
            self.metas.get("twitter:title"),
            self._extracted.title if self._extracted else None,
            first_text(_HTML_TITLE(self.root)),
        )
        return next((c for c in candidates if c), "")

    @cached_property
    def _body_lines_and_bylines(self) -> tuple[str, tuple[str, ...]]:
        raw = self._extracted.text if self._extracted and self._extracted.text else ""
        lines = clean_lines(raw.split("\n"))
        title = _fold(self.title) if self.title else ""
        # Text before the headline is navigation trafilatura kept (a "실시간뉴스" ticker …).
        if title:
            for i, line in enumerate(lines):
                if _fold(line) == title:
                    after = lines[i + 1 :]
                    # A headline further down is only a cut point if a body follows it.
                    if i == 0 or sum(len(x) for x in after) >= MIN_BODY_CHARS:
                        lines = after
                    break
        bylines: tuple[str, ...] = ()
        while lines and (_is_date_line(lines[0]) or (not bylines and leading_byline(lines[0]))):
            bylines = bylines or leading_byline(lines[0])
            lines.pop(0)
        return "\n".join(strip_trailing_boilerplate(lines)), bylines

    @property
    def body(self) -> str:
        """Return the article text, one paragraph per line."""
        return self._body_lines_and_bylines[0]

    @cached_property
    def description(self) -> str | None:
        """Return JSON-LD description or og:description."""
        return (
            (self.jsonld.description if self.jsonld else None)
            or self.metas.get("og:description")
            or self.metas.get("twitter:description")
        )

    # -- people and publisher --------------------------------------------------------------

    @cached_property
    def authors(self) -> tuple[str, ...]:
        """Return authors: JSON-LD, author meta, byline lines, a wire dateline, trafilatura."""
        if self.jsonld and self.jsonld.authors:
            names = unique(n for a in self.jsonld.authors for n in names_from_byline(a))
            if names:
                return names
        for key in _AUTHOR_META_KEYS:
            value = self.metas.get(key)
            if value and not _is_url_or_host(value) and _drop_portal(value) == value:
                names = names_from_byline(value)
                if names:
                    return names
        if self._body_lines_and_bylines[1]:
            return self._body_lines_and_bylines[1]
        names = dateline_reporters(self.body) or trailing_byline(self.body.split("\n"))
        if names:
            return names
        author = self._extracted.author if self._extracted else None
        return names_from_byline(author.replace(";", ",")) if author else ()

    @cached_property
    def publisher(self) -> str | None:
        """Return JSON-LD publisher.name, og:site_name, or trafilatura's site name."""
        if self.jsonld and self.jsonld.publisher:
            return self.jsonld.publisher
        site = _drop_portal(self.metas.get("og:site_name"))
        if site:
            return site
        # Portals put the press in og:article:author ("YTN") when og:site_name is the portal.
        if self.metas.get("og:site_name") and _drop_portal(self.metas["og:site_name"]) is None:
            press = _drop_portal(self.metas.get("og:article:author"))
            if press:
                return press
        sitename = self._extracted.sitename if self._extracted else None
        return _drop_portal(sitename)

    @cached_property
    def section(self) -> str | None:
        """Return JSON-LD articleSection, article:section, or trafilatura's first category."""
        if self.jsonld and self.jsonld.section:
            return self.jsonld.section
        if self.metas.get("article:section"):
            return self.metas["article:section"]
        categories = self._extracted.categories if self._extracted else None
        return categories[0] if categories else None

    # -- dates -----------------------------------------------------------------------------

    @cached_property
    def _headline_window(self) -> str:
        """Return the page text around the headline, where the 입력/수정 line belongs.

        Whole-page text also holds tickers and sidebars with their own times (yonhap's
        "최종업데이트" of its news ticker), so dates are only read near the headline.
        """
        lines = self._page_text.split("\n")
        title = _fold(self.title) if self.title else ""
        for i, line in enumerate(lines):
            if title and _fold(line) == title:
                return "\n".join(lines[max(0, i - _LINES_BEFORE_TITLE) : i + _LINES_AFTER_TITLE])
        return self._page_text

    @cached_property
    def _labeled_dates(self) -> list[tuple[DateKind, datetime]]:
        return find_labeled_datetimes(self._headline_window, self._default_tz)

    @cached_property
    def _structured_published(self) -> datetime | None:
        raw = [self.jsonld.date_published if self.jsonld else None]
        raw += [self.metas.get(k) for k in _PUBLISHED_META_KEYS]
        return next((dt for v in raw if (dt := parse_datetime(v, self._default_tz))), None)

    @cached_property
    def _published(self) -> tuple[datetime | None, bool]:
        """Return (published_at, whether only the day is known)."""
        if self._structured_published:
            return self._structured_published, False
        labeled = next((dt for k, dt in self._labeled_dates if k is DateKind.PUBLISHED), None)
        if labeled:
            return labeled, False
        day = self._extracted.date if self._extracted else None
        if day:
            try:
                return datetime.fromisoformat(day[:10]).replace(tzinfo=self._default_tz), True
            except ValueError:
                pass
        return None, False

    @property
    def published_at(self) -> datetime | None:
        """Return the publication time (aware)."""
        return self._published[0]

    @cached_property
    def modified_at(self) -> datetime | None:
        """Return the last modification time (aware)."""
        raw = [self.jsonld.date_modified if self.jsonld else None]
        raw += [self.metas.get(k) for k in _MODIFIED_META_KEYS]
        found = next((dt for v in raw if (dt := parse_datetime(v, self._default_tz))), None)
        if found:
            return found
        return next((dt for k, dt in self._labeled_dates if k is DateKind.MODIFIED), None)

    # -- result ----------------------------------------------------------------------------

    @property
    def has_article_markup(self) -> bool:
        """Return True when the page declares itself an article or states when it was published."""
        og_type = self.metas.get("og:type", "").lower()
        return (
            og_type.startswith("article")
            or self.jsonld is not None
            or self._structured_published is not None
            or any(k is DateKind.PUBLISHED for k, _ in self._labeled_dates)
        )

    def to_article(self) -> ParsedArticle:
        """Return the parsed article, or raise NotAnArticle / RetryPage."""
        if not self.has_article_markup:
            raise NotAnArticle(
                self.url,
                "no article markup (og:type is not 'article', no JSON-LD Article, no "
                "publication date): a listing, section or home page",
            )
        if len(self.body) < MIN_BODY_CHARS:
            raise NotAnArticle(
                self.url,
                f"only {len(self.body)} characters of article text (minimum {MIN_BODY_CHARS}):"
                " card news, a photo/video page or an empty shell",
            )
        self._reject_garbled(self.title, self.body)
        extra = {"published_precision": "day"} if self._published[1] else {}
        return ParsedArticle(
            url=self.url,
            title=self.title,
            body=self.body,
            publisher=self.publisher,
            authors=self.authors,
            published_at=self.published_at,
            modified_at=self.modified_at,
            original_url=None,
            naver_oid=None,
            naver_aid=None,
            section=self.section,
            language=self.language,
            description=self.description,
            extractor=self.extractor,
            extra=extra,
        )
