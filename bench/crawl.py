"""Benchmark: the full `tracker crawl` pipeline vs a bare Scrapy spider on the same local pages.

Serves N generated pages from the local news world (127.0.0.1), then, in one run:

* bare:  a minimal Scrapy spider that reads the same feed and fetches every page (no parsing,
         no storage) — the ceiling for fetching with Scrapy on this machine;
* full:  `tracker crawl` (subprocess, feed listing → Naver page object → normalize → keyword
         filter → dedupe → SQLite) into an empty database.

Each is run --repeat times (medians shown). Pages/s is measured over the crawl phase (spider
opened to spider closed: Scrapy's own elapsed time for the bare spider, the tracker's crawl-run
record for the full pipeline) and, for reference, over the whole process including start-up
(Python, imports, migrations check, worker spawn).

``--layout`` picks the pages: ``naver`` (the Naver page object; target: crawl-phase ratio
full/bare ≥ 0.5), ``publisher`` (publisher pages, read by the generic trafilatura-based
extractor; target ≥ 0.15) or ``mix`` (alternating; no target).

    .venv/bin/python bench/crawl.py [--pages 2000] [--layout naver] [--concurrency 16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.world.server import NewsWorld  # noqa: E402

BARE_SPIDER = textwrap.dedent(
    """
    import scrapy
    from xml.etree import ElementTree

    class BareSpider(scrapy.Spider):
        name = "bare"

        def __init__(self, feed, **kwargs):
            super().__init__(**kwargs)
            self.feed = feed

        async def start(self):
            yield scrapy.Request(self.feed, callback=self.parse_feed)

        def parse_feed(self, response):
            for link in ElementTree.fromstring(response.body).iter("link"):
                if link.text and "/gen/" in link.text:
                    yield scrapy.Request(link.text, callback=self.parse_page)

        def parse_page(self, response):
            self.crawler.stats.inc_value("bare/pages")
    """
)


def run_timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    """Run a process; return its wall time and its stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    print(
        f"  {argv[3]:<10} wall {elapsed:6.2f} s, CPU of the process tree {cpu:6.2f} s",
        file=sys.stderr,
    )
    if result.returncode not in (0, 1):
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"{argv[:4]} failed with {result.returncode}")
    return elapsed, result.stderr


TARGETS = {"naver": 0.5, "publisher": 0.15}


def warm_cache(feed: str) -> None:
    """Fetch the feed and every page it links once, so neither timed run pays for rendering."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.request import urlopen
    from xml.etree import ElementTree

    def fetch(url: str) -> bytes:
        with urlopen(url, timeout=30) as response:
            return bytes(response.read())

    links = [link.text for link in ElementTree.fromstring(fetch(feed)).iter("link")]
    with ThreadPoolExecutor(8) as pool:
        pages = [u for u in links if u and ("/gen/naver/" in u or "/gen/publisher/" in u)]
        list(pool.map(fetch, pages))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--layout", choices=("naver", "publisher", "mix"), default="naver")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--parse-workers", type=int, default=None, help="crawl.parse_workers")
    parser.add_argument(
        "--store-writer", choices=("thread", "process"), default="thread", help="crawl.store_writer"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians are shown")
    args = parser.parse_args()
    n = args.pages

    with NewsWorld(generated=n) as world, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        feed = f"{world.base_url}/gen/feed.xml?offset=0&limit={n}&layout={args.layout}"
        # Warm the world's render cache so both runs are served at the same speed.
        warm_cache(feed)

        env = dict(os.environ)
        env.pop("TRACKER_DATABASE_URL", None)
        env["no_proxy"] = "127.0.0.1,localhost"

        spider_file = work / "bare_spider.py"
        spider_file.write_text(BARE_SPIDER, encoding="utf-8")
        bare_argv = [
            sys.executable, "-m", "scrapy", "runspider", str(spider_file), "-a", f"feed={feed}",
            "-s", f"CONCURRENT_REQUESTS={args.concurrency}",
            "-s", f"CONCURRENT_REQUESTS_PER_DOMAIN={args.concurrency}",
            "-s", "LOG_LEVEL=INFO", "-s", "TELNETCONSOLE_ENABLED=False",
        ]  # fmt: skip
        bare_env = dict(env, SCRAPY_SETTINGS_MODULE="")

        (work / "entities.yaml").write_bytes((REPO / "config" / "entities.yaml").read_bytes())
        config_path = work / "tracker.yaml"
        database = work / "bench.db"
        config = {
            "database": {"url": f"sqlite:///{database}"},
            "keywords": {"any": ["독파모", "독자 AI 파운데이션 모델", "국가대표 AI", "정예팀"]},
            "crawl": {
                "concurrent_requests": args.concurrency,
                "concurrent_requests_per_domain": args.concurrency,
                "naver_hosts": [f"127.0.0.1:{world.port}"],
                **({} if args.parse_workers is None else {"parse_workers": args.parse_workers}),
                "store_writer": args.store_writer,
            },
            "sources": [{"name": "gen", "type": "rss", "url": feed, "fetch_all": True}],
        }
        config_path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        full_argv = [sys.executable, "-m", "tracker", "-q", "--config", str(config_path), "crawl"]

        bare: list[Run] = []
        full: list[Run] = []
        for _ in range(args.repeat):
            world.reset_counts()
            wall, stderr = run_timed(bare_argv, bare_env, work)
            bare.append(Run(fetched(world), wall, scrapy_elapsed(stderr)))

            for leftover in work.glob("bench.db*"):
                leftover.unlink()
            world.reset_counts()
            wall, _ = run_timed(full_argv, env, REPO)
            full.append(Run(fetched(world), wall, crawl_run_seconds(database)))
        stored, stories = archive_counts(database)

    b, f = median_run(bare), median_run(full)
    print(f"pages served: {n} ({args.layout} layout); runs: {args.repeat} each (medians shown)")
    print(f"{'':30}{'pages':>7}{'crawl s':>9}{'pages/s':>9}{'wall s':>9}{'pages/s':>9}")
    for name, run in (("bare Scrapy spider", b), ("full `tracker crawl` pipeline", f)):
        print(
            f"{name:30}{run.pages:7d}{run.crawl:9.2f}{run.pages / run.crawl:9.1f}"
            f"{run.wall:9.2f}{run.pages / run.wall:9.1f}"
        )
    print(f"stored articles: {stored} (exact copies dropped), {stories} stories (rewrites grouped)")
    crawl_ratio = (f.pages / f.crawl) / (b.pages / b.crawl)
    wall_ratio = (f.pages / f.wall) / (b.pages / b.wall)
    target = TARGETS.get(args.layout)
    print(
        f"ratio full/bare, crawl phase (spider open to close): {crawl_ratio:.2f}"
        + (f"  (target >= {target})" if target else "")
    )
    print(f"ratio full/bare, whole processes (start-up included): {wall_ratio:.2f}")


@dataclass(frozen=True)
class Run:
    pages: int
    wall: float
    crawl: float


def median_run(runs: list[Run]) -> Run:
    """Return the run with the median crawl-phase time."""
    return sorted(runs, key=lambda r: r.crawl)[len(runs) // 2]


def fetched(world: NewsWorld) -> int:
    return sum(
        c for p, c in world.requests.items() if p.startswith(("/gen/naver/", "/gen/publisher/"))
    )


def scrapy_elapsed(stderr: str) -> float:
    """Return Scrapy's elapsed_time_seconds stat (spider open to close) from its INFO log."""
    match = re.search(r"'elapsed_time_seconds': ([0-9.]+)", stderr)
    if not match:
        raise SystemExit("the bare spider printed no stats:\n" + stderr[-2000:])
    return float(match.group(1))


def crawl_run_seconds(database: Path) -> float:
    """Return the crawl run's duration (spider open to close) recorded by the tracker."""
    with sqlite3.connect(database) as connection:
        started, finished = connection.execute(
            "SELECT min(started_at), max(finished_at) FROM crawl_runs"
        ).fetchone()
    return (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()


def archive_counts(database: Path) -> tuple[int, int]:
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT count(*) FROM articles").fetchone()[0]
        stories = connection.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone()[0]
    return int(stored), int(stories)


if __name__ == "__main__":
    main()
