"""CPU-heavy per-page work (parse feeds and pages, normalize, hash, MinHash) in worker processes.

Twisted's reactor runs on one thread; parsing a page and hashing its body there would make every
download wait for it. The work is a pure function of the response, so it runs in a process pool
(processes, not threads: the GIL would serialize threads) and the reactor only awaits the result.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from crawler.extractors import parse_article
from crawler.extractors.msit import merge_attachment_text
from crawler.pdftext import pdf_text
from tracker.article import ParsedArticle
from tracker.articles import PreparedArticle, prepare_article

P = ParamSpec("P")
R = TypeVar("R")


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
    return parse_article(job.url, job.body, job.headers)


def prepare_parsed(parsed: ParsedArticle, job: PageJob) -> PreparedArticle:
    """Return ``parsed`` normalized, hashed and signed, with the job's URLs."""
    return prepare_article(parsed, job.naver_hosts, job.seen_urls, job.permutations)


def prepare_with_pdf(parsed: ParsedArticle, pdf: bytes, job: PageJob) -> PreparedArticle:
    """Return the article with its PDF attachment's new paragraphs appended, prepared.

    Raises PdfTextError when the PDF cannot be read (the caller decides to keep the page text).
    """
    return prepare_parsed(merge_attachment_text(parsed, pdf_text(pdf)), job)


def _init_worker(initializer: Callable[..., None] | None, initargs: tuple[object, ...]) -> None:
    # The crawl process decides when to stop (SIGTERM → clean close); workers must not die
    # first on a terminal's Ctrl-C and break the pool under the spider.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


def default_workers() -> int:
    """Return one fewer worker than CPUs, at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


class WorkerPool:
    """Runs pure functions inline (workers=0) or in a pool of spawned worker processes."""

    def __init__(
        self,
        workers: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[object, ...] = (),
    ) -> None:
        self.workers = workers
        self._executor: Executor | None = None
        if initializer is not None and workers == 0:
            initializer(*initargs)
        if workers > 0:
            self._executor = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(initializer, initargs),
            )

    async def run(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Return ``func(*args)``, computed in a worker when there is a pool.

        ``func`` must be a pure, module-level function (it is pickled by name).
        """
        if self._executor is None:
            return func(*args, **kwargs)
        future = self._executor.submit(func, *args, **kwargs)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the workers (waits for jobs in progress)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
