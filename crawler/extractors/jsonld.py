"""Find the schema.org NewsArticle/Article object in a page's JSON-LD blocks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from lxml import etree

from .dom import HtmlElement

__all__ = ["ARTICLE_TYPES", "JsonLdArticle", "find_article"]

ARTICLE_TYPES = frozenset(
    {
        "Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle",
        "OpinionNewsArticle", "BackgroundNewsArticle", "ReviewNewsArticle", "BlogPosting",
        "Report", "LiveBlogPosting",
    }
)  # fmt: skip

_JSONLD_XPATH = etree.XPath(
    "//script[translate(@type, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
    " = 'application/ld+json']"
)


def _objects(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _objects(item)
    elif isinstance(node, dict):
        yield node
        if "@graph" in node:
            yield from _objects(node["@graph"])


def _types(obj: dict[str, Any]) -> set[str]:
    raw = obj.get("@type")
    values = raw if isinstance(raw, list) else [raw]
    # "http://schema.org/NewsArticle" and "NewsArticle" are the same type.
    return {v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


def _names(value: Any) -> list[str]:
    """Return names from a string, a {name: …} object or a list of either."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        name = value.get("name")
        return [name] if isinstance(name, str) else []
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    return []


class JsonLdArticle:
    """Typed read access to the fields of one schema.org article object."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def _str(self, key: str) -> str | None:
        value = self.data.get(key)
        if isinstance(value, list):
            value = next((v for v in value if isinstance(v, str)), None)
        if isinstance(value, str):
            value = " ".join(value.split())
            return value or None
        return None

    @property
    def headline(self) -> str | None:
        """Return ``headline`` (or ``name``)."""
        return self._str("headline") or self._str("name")

    @property
    def date_published(self) -> str | None:
        """Return the raw ``datePublished`` string."""
        return self._str("datePublished")

    @property
    def date_modified(self) -> str | None:
        """Return the raw ``dateModified`` string."""
        return self._str("dateModified")

    @property
    def description(self) -> str | None:
        """Return ``description``."""
        return self._str("description")

    @property
    def section(self) -> str | None:
        """Return the first ``articleSection``."""
        return self._str("articleSection")

    @property
    def authors(self) -> list[str]:
        """Return author names (strings, Person objects or lists of them)."""
        return [" ".join(n.split()) for n in _names(self.data.get("author")) if n.strip()]

    @property
    def publisher(self) -> str | None:
        """Return ``publisher.name``."""
        names = _names(self.data.get("publisher"))
        return " ".join(names[0].split()) if names and names[0].strip() else None


def find_article(root: HtmlElement) -> JsonLdArticle | None:
    """Return the first article-typed JSON-LD object in the page, ignoring malformed blocks."""
    for script in _JSONLD_XPATH(root):
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            # strict=False: CMSes leave raw newlines and tabs inside JSON strings.
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        for obj in _objects(data):
            if _types(obj) & ARTICLE_TYPES:
                return JsonLdArticle(obj)
    return None
