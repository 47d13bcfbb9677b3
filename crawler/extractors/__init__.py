"""Article page objects and the registry that picks one for a URL (and, for mirrors, its HTML).

The names below load on first use (PEP 562): the crawl process imports the exceptions and
helpers of this package's light modules (base, dom, encoding, dates) and must not pay for the
page objects' parsing stack (trafilatura and its dependencies, about 10 MB), which only the
parse workers use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .base import ArticlePage, ExtractionError, NotAnArticle, RetryPage
    from .generic import MIN_BODY_CHARS, GenericArticlePage
    from .msit import MsitViewPage
    from .naver import NaverArticlePage
    from .registry import PAGE_CLASSES, get_page_class, parse_article

_HOME = {
    "MIN_BODY_CHARS": "generic",
    "PAGE_CLASSES": "registry",
    "ArticlePage": "base",
    "ExtractionError": "base",
    "GenericArticlePage": "generic",
    "MsitViewPage": "msit",
    "NaverArticlePage": "naver",
    "NotAnArticle": "base",
    "RetryPage": "base",
    "get_page_class": "registry",
    "parse_article": "registry",
}
__all__ = [
    "MIN_BODY_CHARS",
    "PAGE_CLASSES",
    "ArticlePage",
    "ExtractionError",
    "GenericArticlePage",
    "MsitViewPage",
    "NaverArticlePage",
    "NotAnArticle",
    "RetryPage",
    "get_page_class",
    "parse_article",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
