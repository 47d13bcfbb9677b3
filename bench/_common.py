"""Shared helpers of the bench/ scripts: generated articles as the crawler would prepare them,
tracker configs and crawl subprocesses against the local news world, machine load."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tracker.article import ParsedArticle  # noqa: E402
from tracker.articles import PreparedArticle, prepare_article  # noqa: E402
from tracker.text import minhash_signature, signature_to_bytes  # noqa: E402
from tracker.world.generator import GenDoc, gen_layout, make_doc  # noqa: E402

KEYWORDS = ["독파모", "독자 AI 파운데이션 모델", "국가대표 AI", "정예팀"]
PERMUTATIONS = 128
FEED_MAX = 5000  # the world's limit per feed URL (routes.GEN_FEED_MAX)


def load() -> str:
    """Return the 1/5/15-minute load averages, for reporting next to the figures."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def gen_url(base: str, kind: str, index: int) -> str:
    """Return the URL of generated article ``index``'s ``naver`` or ``publisher`` page."""
    return f"{base}/gen/{kind}/{index}"


def gen_parsed(doc: GenDoc, base: str, kind: str) -> ParsedArticle:
    """Return what the page objects read from generated article ``doc``'s ``kind`` page.

    The fields that identify an article (URL, Naver id, 기사원문 link, title, body) are the
    ones the extractors produce (checked against real pages in tests/test_world.py);
    the rest is close enough for storage benchmarks.
    """
    common: dict[str, Any] = {
        "url": gen_url(base, kind, doc.index),
        "title": doc.title,
        "body": doc.body,
        "publisher": doc.press,
        "authors": (doc.author.removesuffix(" 기자"),),
        "published_at": doc.published_at,
        "language": "ko",
    }
    if kind == "naver":
        return ParsedArticle(
            **common,
            original_url=gen_url(base, "publisher", doc.index),
            naver_oid=doc.oid,
            naver_aid=doc.aid,
            section="105",
            extractor="naver",
        )
    return ParsedArticle(
        **common,
        section="IT/과학",
        description=doc.paragraphs[0][:200],
        extractor="generic",
    )


@dataclass(frozen=True, slots=True)
class PrepareJob:
    start: int
    stop: int
    base: str
    naver_hosts: tuple[str, ...]
    layout: str
    permutations: int


def _prepare_range(job: PrepareJob) -> list[PreparedArticle]:
    prepared = []
    signatures: dict[str, bytes] = {}  # exact copies share a body: sign it once
    for index in range(job.start, job.stop):
        kind = gen_layout(index, job.layout)
        parsed = gen_parsed(make_doc(index), job.base, kind)
        article = prepare_article(parsed, job.naver_hosts, (parsed.url,))
        signature = signatures.get(article.content_hash)
        if signature is None:
            signature = signature_to_bytes(minhash_signature(article.body, job.permutations))
            signatures[article.content_hash] = signature
        prepared.append(replace(article, signature=signature))
    return prepared


def prepare_generated(
    start: int,
    stop: int,
    base: str,
    naver_hosts: Sequence[str],
    layout: str = "mix",
    processes: int | None = None,
    chunk: int = 2000,
) -> Iterator[list[PreparedArticle]]:
    """Yield generated articles ``start … stop-1`` prepared as the crawler's workers prepare
    them (normalized, hashed, MinHash-signed), in order, in chunks computed by ``processes``
    processes; at most two chunks per process are in flight, so memory stays bounded."""
    jobs = [
        PrepareJob(s, min(stop, s + chunk), base, tuple(naver_hosts), layout, PERMUTATIONS)
        for s in range(start, stop, chunk)
    ]
    workers = processes if processes is not None else os.cpu_count() or 1
    if workers <= 1:
        yield from map(_prepare_range, jobs)
        return
    with ProcessPoolExecutor(workers) as pool:
        pending: deque[Future[list[PreparedArticle]]] = deque()
        for job in jobs:
            pending.append(pool.submit(_prepare_range, job))
            if len(pending) >= 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def feed_sources(
    base: str, offset: int, count: int, per_feed: int = 1000, layout: str = "mix", tag: str = ""
) -> list[dict[str, Any]]:
    """Return RSS sources that together list ``count`` generated articles from ``offset``
    (newest first), ``per_feed`` per feed URL. ``tag`` makes the URLs new listing keys (the
    world ignores it), so a run reads them instead of getting 304 Not Modified."""
    per_feed = min(per_feed, FEED_MAX)
    sources = []
    for number, first in enumerate(range(offset, offset + count, per_feed)):
        limit = min(per_feed, offset + count - first)
        url = f"{base}/gen/feed.xml?offset={first}&limit={limit}&layout={layout}"
        if tag:
            url += f"&run={tag}"
        sources.append({"name": f"gen{number:03d}", "type": "rss", "url": url, "fetch_all": True})
    return sources


def write_config(
    work: Path,
    database: Path,
    sources: list[dict[str, Any]],
    port: int,
    **crawl: Any,
) -> Path:
    """Write a tracker config for a crawl of the local world; return its path.

    The world is one host, where a real crawl spreads over many publishers: requests per
    domain are allowed up to the overall concurrency (as bench/crawl.py does), else the
    default 4 per domain would make every benchmark a measure of the world's latency.
    """
    (work / "entities.yaml").write_bytes((REPO / "config" / "entities.yaml").read_bytes())
    concurrency = crawl.pop("concurrent_requests", 16)
    config = {
        "database": {"url": f"sqlite:///{database}"},
        "keywords": {"any": KEYWORDS},
        "crawl": {
            "naver_hosts": [f"127.0.0.1:{port}"],
            "concurrent_requests": concurrency,
            "concurrent_requests_per_domain": concurrency,
            **crawl,
        },
        "alerts": {"enabled": False},
        "sources": sources,
    }
    path = work / "tracker.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


def crawl_env() -> dict[str, str]:
    """Return the environment of a `tracker crawl` subprocess against the local world."""
    env = dict(os.environ)
    env.pop("TRACKER_DATABASE_URL", None)
    env.pop("TRACKER_CONFIG", None)
    env["no_proxy"] = "127.0.0.1,localhost"
    return env


def crawl_argv(config: Path) -> list[str]:
    return [sys.executable, "-m", "tracker", "-q", "--config", str(config), "crawl"]


@dataclass(frozen=True, slots=True)
class CrawlTiming:
    wall: float  # the whole `tracker crawl` process, start-up included
    crawl: float  # spider opened to closed (the crawl-run records)


def run_crawl(config: Path, database: Path) -> CrawlTiming:
    """Run `tracker crawl` once; return its wall time and its crawl-phase time."""
    before = _last_run_id(database)
    started = time.perf_counter()
    result = subprocess.run(crawl_argv(config), env=crawl_env(), cwd=REPO, capture_output=True)
    wall = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.stderr.write(result.stdout.decode()[-3000:] + result.stderr.decode()[-3000:])
        raise SystemExit(f"tracker crawl failed with {result.returncode}")
    return CrawlTiming(wall, crawl_phase_seconds(database, after_id=before))


def _last_run_id(database: Path) -> int:
    if not database.exists():
        return 0
    with sqlite3.connect(database) as connection:
        try:
            return int(
                connection.execute("SELECT coalesce(max(id), 0) FROM crawl_runs").fetchone()[0]
            )
        except sqlite3.OperationalError:  # no schema yet
            return 0


def crawl_phase_seconds(database: Path, after_id: int = 0) -> float:
    """Return the last crawl's duration (spider open to close) from its crawl-run records."""
    with sqlite3.connect(database) as connection:
        started, finished = connection.execute(
            "SELECT min(started_at), max(finished_at) FROM crawl_runs WHERE id > ?", (after_id,)
        ).fetchone()
    return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()


def run_counts(database: Path) -> dict[str, int]:
    """Return the last crawl's counters summed over its sources."""
    with sqlite3.connect(database) as connection:
        group = connection.execute(
            "SELECT run_group FROM crawl_runs ORDER BY id DESC LIMIT 1"
        ).fetchone()[0]
        row = connection.execute(
            "SELECT sum(listed), sum(fetched), sum(new), sum(duplicate), sum(errors) "
            "FROM crawl_runs WHERE run_group = ?",
            (group,),
        ).fetchone()
    return dict(
        zip(("listed", "fetched", "new", "duplicate", "errors"), map(int, row), strict=True)
    )


def article_requests(requests: dict[str, int]) -> int:
    """Return how many article pages (Naver layout or publisher) the world served."""
    return sum(
        c for path, c in requests.items() if path.startswith(("/gen/naver/", "/gen/publisher/"))
    )
