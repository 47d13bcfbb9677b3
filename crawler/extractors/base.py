"""Page-object base class and the errors page objects raise for pages that are not articles."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar, Self

from tracker.article import ParsedArticle

from .dom import HtmlElement, parse_document
from .encoding import DecodedHtml, decode_html, is_cp949_mojibake

if TYPE_CHECKING:
    from scrapy.http import Response

__all__ = ["ArticlePage", "ExtractionError", "NotAnArticle", "RetryPage"]


class ExtractionError(Exception):
    """A page could not be turned into an article; ``url`` and ``reason`` say which and why."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def __reduce__(self) -> tuple[type[ExtractionError], tuple[str, str]]:
        # Picklable with both arguments, so errors cross the parser worker-process boundary.
        return (type(self), (self.url, self.reason))


class NotAnArticle(ExtractionError):
    """The page holds no article: a listing or section page, an empty shell, card news."""


class RetryPage(ExtractionError):
    """The page is transiently broken (empty 200 body, portal error page): fetch it again."""


class ArticlePage(ABC):
    """A pure page object: built from URL, raw body bytes and headers; ``to_article()`` reads it.

    No network, settings, database or logging. The body is decoded here (see
    ``encoding.decode_html``) because charset handling is part of reading a Korean page.
    Subclasses expose each field as a property so tests can inspect fields one by one.
    """

    extractor: ClassVar[str] = ""

    def __init__(
        self,
        url: str,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        decoded: DecodedHtml | None = None,
    ) -> None:
        self.url = url
        self.headers: dict[str, str] = dict(headers or {})
        # isspace() rather than strip(): the same test without copying the whole body.
        if not body or body.isspace():
            raise RetryPage(url, "empty response body: the server sent no HTML")
        # ``decoded`` lets parse_article() reuse the text it already decoded for sniffing.
        self.decoded = decoded if decoded is not None else decode_html(body, headers)
        text = self.decoded.text
        if not text or text.isspace():
            raise RetryPage(url, "response body is only whitespace after decoding")

    @classmethod
    def from_response(cls, response: Response) -> Self:
        """Return a page object for a downloaded ``scrapy.http.Response``."""
        headers = {str(k): str(v) for k, v in response.headers.to_unicode_dict().items()}
        return cls(response.url, response.body, headers)

    @property
    def text(self) -> str:
        """Return the decoded HTML text."""
        return self.decoded.text

    def _parse(self, text: str) -> HtmlElement:
        try:
            return parse_document(text)
        except ValueError as exc:
            raise NotAnArticle(self.url, f"no HTML elements in the body ({exc})") from exc

    def _reject_garbled(self, title: str, body: str) -> None:
        """Raise RetryPage when the text is UTF-8 that was once misread as CP949."""
        if is_cp949_mojibake(f"{title}\n{body}"):
            raise RetryPage(
                self.url,
                "title/body are mojibake (UTF-8 bytes that were decoded as CP949 before this "
                f"copy was made; decoded as {self.decoded.encoding} via {self.decoded.source}); "
                "the Hangul is lossy and cannot be repaired, fetch the page again",
            )

    @abstractmethod
    def to_article(self) -> ParsedArticle:
        """Return the article, or raise NotAnArticle / RetryPage."""
