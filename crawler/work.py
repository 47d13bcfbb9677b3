"""CPU-heavy per-page work (parse feeds and pages, normalize, hash, MinHash) in worker processes.

Twisted's reactor runs on one thread; parsing a page and hashing its body there would make every
download wait for it. The work is a pure function of the response, so it runs in a process pool
(crawler.pool; processes, not threads: the GIL would serialize threads) and the reactor only
awaits the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crawler.extractors.msit import merge_attachment_text
from crawler.pdftext import pdf_text
from tracker.article import ParsedArticle
from tracker.articles import PreparedArticle, prepare_article


def load_parsers() -> None:
    """Import the page objects' parsing stack (a worker initializer).

    The crawl process imports this module for PageJob and the functions it sends, but never
    parses a page itself (apart from a rare inline fallback): it must not carry trafilatura and
    its dependencies. A worker loads them when it starts, while the first listing downloads.
    """
    import crawler.extractors.registry  # noqa: F401


@dataclass(frozen=True, slots=True)
class PageJob:
    """Everything needed to turn one fetched page into a prepared article."""

    url: str
    body: bytes
    headers: Mapping[str, str]
    naver_hosts: Sequence[str]
    seen_urls: Sequence[str]
    permutations: int


def process_page(job: PageJob) -> PreparedArticle:
    """Return the page's article, normalized, hashed and signed; raise ExtractionError if none."""
    return prepare_parsed(parse_page(job), job)


def parse_page(job: PageJob) -> ParsedArticle:
    """Return the page's article without preparing it (its attachments are still to come)."""
    from crawler.extractors.registry import parse_article  # see load_parsers

    return parse_article(job.url, job.body, job.headers)


def prepare_parsed(parsed: ParsedArticle, job: PageJob) -> PreparedArticle:
    """Return ``parsed`` normalized, hashed and signed, with the job's URLs."""
    return prepare_article(parsed, job.naver_hosts, job.seen_urls, job.permutations)


def prepare_with_pdf(parsed: ParsedArticle, pdf: bytes, job: PageJob) -> PreparedArticle:
    """Return the article with its PDF attachment's new paragraphs appended, prepared.

    Raises PdfTextError when the PDF cannot be read (the caller decides to keep the page text).
    """
    return prepare_parsed(merge_attachment_text(parsed, pdf_text(pdf)), job)
