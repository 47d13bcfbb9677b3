"""The parsed-article value object that page objects produce and storage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ParsedArticle:
    """One article as a page object read it: no normalization, no database identity.

    ``url`` is the URL the page was fetched from (after redirects). ``original_url`` is the
    publisher's own URL when the page is a portal copy (Naver's 기사원문 link). Datetimes are
    timezone-aware (KST for Naver pages) or ``None`` when the page does not say.
    """

    url: str
    title: str
    body: str
    publisher: str | None = None
    authors: tuple[str, ...] = ()
    published_at: datetime | None = None
    modified_at: datetime | None = None
    original_url: str | None = None
    naver_oid: str | None = None
    naver_aid: str | None = None
    section: str | None = None
    language: str | None = None
    description: str | None = None
    extractor: str = ""
    extra: dict[str, str] = field(default_factory=dict)
