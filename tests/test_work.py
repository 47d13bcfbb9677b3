"""Worker processes: parsing and storing give the same results in a pool as inline."""

from __future__ import annotations

import asyncio
import pickle
from pathlib import Path

import pytest

from crawler.extractors.base import NotAnArticle, RetryPage
from crawler.pool import WorkerPool
from crawler.work import PageJob, process_page
from crawler.writer import WriteFailed, close_writer, open_writer, write_batch
from tracker.archive import NearDuplicateSettings, Pending
from tracker.db import Database
from tracker.store import get_or_create_source

FIXTURE = Path(__file__).parent / "fixtures" / "pages" / "NaverArticlePage" / "mnews_current"


def job(body: bytes) -> PageJob:
    return PageJob(
        url="https://n.news.naver.com/mnews/article/001/0000000001",
        body=body,
        headers={"Content-Type": "text/html; charset=utf-8"},
        naver_hosts=("n.news.naver.com",),
        seen_urls=("https://pub.example/1",),
        permutations=128,
    )


def test_extraction_errors_survive_pickling() -> None:
    error = pickle.loads(pickle.dumps(NotAnArticle("https://x/1", "listing page")))
    assert isinstance(error, NotAnArticle) and error.url == "https://x/1"
    assert error.reason == "listing page"


def test_pool_and_inline_give_the_same_article_and_errors() -> None:
    body = (FIXTURE / "input.html").read_bytes()
    inline = WorkerPool(0)
    pool = WorkerPool(1)
    try:
        here = asyncio.run(inline.run(process_page, job(body)))
        there = asyncio.run(pool.run(process_page, job(body)))
        assert here == there
        assert here.signature is not None and len(here.signature) == 128 * 8
        assert "https://pub.example/1" in here.urls
        with pytest.raises(RetryPage):
            asyncio.run(pool.run(process_page, job(b"   ")))
    finally:
        pool.close()


def test_writer_stores_a_batch_and_reports_database_errors(tmp_path: Path) -> None:
    from crawler.extractors import parse_article
    from tracker.articles import prepare_article

    url = f"sqlite:///{tmp_path / 'w.db'}"
    database = Database(url)
    with database.begin() as session:
        source = get_or_create_source(session, "s", "rss", False).id
    body = (FIXTURE / "input.html").read_bytes()
    article = prepare_article(parse_article(job(body).url, body, None), ("n.news.naver.com",))
    open_writer(url, str(Path(__file__).resolve().parents[1] / "config" / "entities.yaml"))
    try:
        outcomes = write_batch([Pending(article, [source])], NearDuplicateSettings(), [])
        assert [o.status for o in outcomes] == ["new"]
        again = write_batch([Pending(article, [source])], NearDuplicateSettings(), [])
        assert [o.status for o in again] == ["duplicate"]
        with pytest.raises(WriteFailed, match="after 3 attempts: FOREIGN KEY"):
            write_batch([Pending(article, [999])], NearDuplicateSettings(), [])
    finally:
        close_writer()
        database.dispose()


def square_or_fail(value: int) -> int:
    """A pool task: fails for negative numbers, with an exception that does not pickle."""
    if value == -1:
        raise ValueError("minus one")
    if value < -1:
        error = ValueError("unpicklable")
        error.payload = lambda: None  # type: ignore[attr-defined]
        raise error
    return value * value


def test_batched_calls_each_get_their_own_outcome() -> None:
    """Concurrent calls go to the worker in batches; results, errors and order stay per call."""
    pool = WorkerPool(1, max_batch=8)
    assert pool._executor is not None
    submit, batches = pool._executor.submit, []

    def counting_submit(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        batches.append(len(args[0]) if args else 0)
        return submit(func, *args, **kwargs)

    pool._executor.submit = counting_submit  # type: ignore[method-assign]

    async def many() -> list[object]:
        return await asyncio.gather(
            *(pool.run(square_or_fail, v) for v in [*range(40), -1, 7, -5, 3]),
            return_exceptions=True,
        )

    try:
        outcomes = asyncio.run(many())
    finally:
        pool.close()
    assert outcomes[:40] == [v * v for v in range(40)]
    # Two batches go out at once; the other calls wait and leave together, up to 8 a batch.
    assert sum(batches) == 44 and max(batches) == 8 and len(batches) <= 2 + 42 // 8 + 1
    failed, seven, stand_in, three = outcomes[40:]
    assert isinstance(failed, ValueError) and str(failed) == "minus one"
    # The worker's traceback comes along, so a log shows where it failed.
    assert "square_or_fail" in str(failed.__cause__)
    assert (seven, three) == (49, 9)
    # An exception that cannot cross the process boundary costs only its own call.
    assert isinstance(stand_in, RuntimeError) and "ValueError: unpicklable" in str(stand_in)


def test_inline_pool_raises_directly() -> None:
    with pytest.raises(ValueError, match="minus one"):
        asyncio.run(WorkerPool(0).run(square_or_fail, -1))


def _remember_thread(names: list[str]) -> None:
    """A thread-pool initializer: records which thread it ran in."""
    import threading

    names.append(threading.current_thread().name)


def _thread_name() -> str:
    import threading

    return threading.current_thread().name


def test_thread_pool_runs_in_its_own_thread_and_keeps_exceptions() -> None:
    """The archive writer's pool: one thread, its initializer run there, batches as in a pool
    of processes, and exceptions that need not pickle arrive unchanged."""
    started: list[str] = []
    pool = WorkerPool(1, _remember_thread, (started,), max_batch=8, threads=True)

    async def many() -> list[object]:
        return await asyncio.gather(
            *(pool.run(square_or_fail, v) for v in [*range(20), -5]),
            pool.run(_thread_name),
            return_exceptions=True,
        )

    try:
        outcomes = asyncio.run(many())
    finally:
        pool.close()
    assert outcomes[:20] == [v * v for v in range(20)]
    unpicklable, name = outcomes[20:]
    assert isinstance(unpicklable, ValueError) and str(unpicklable) == "unpicklable"
    assert "square_or_fail" in str(unpicklable.__cause__)
    assert started == [name] and str(name).startswith("tracker-worker")


def test_crawl_process_does_not_import_the_parsing_stack() -> None:
    """The crawl process only downloads: the page objects' libraries (trafilatura, feedparser,
    BeautifulSoup) load in the parse workers, not with the spider, pipelines and extensions."""
    import subprocess
    import sys

    code = (
        "import sys, crawler.spiders.news, crawler.pipelines.store, crawler.pipelines.keywords, "
        "crawler.extensions, crawler.addon, crawler.writer\n"
        "print(' '.join(m for m in ('trafilatura', 'feedparser', 'bs4', 'justext', 'pypdf') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        check=True,
    )
    assert result.stdout.strip() == ""
