"""Benchmark (issue #7 c): a crawl that finds nothing new, at 100k stored vs at 0 (target ≤ 1.2).

The local news world serves a generated corpus of --n + --pages articles (a mix of
Naver-layout and publisher pages, with the corpus' exact copies and rewrites). The listing is
the newest --pages of them, in RSS feeds of --per-feed items. Two archives (SQLite):

* "0 stored":    holds only what the listing shows — filled by a first `tracker crawl`;
* "100k stored": the same, plus --n older generated articles seeded first through the real
  archive path (`store_batch` on articles prepared as the crawler's workers prepare them, in
  transactions of 10,000), then the same first crawl.

Then, in one run, `tracker crawl` (the real subprocess) over the same listing against each
archive, --repeat times, alternating. Each run reads the feeds anew (a fresh listing URL, so no
304 Not Modified hides the work): every lead is triaged against the archive and recorded as
listed by its source, and nothing is new, so no article page may be fetched — the world counts
the article-page requests it serves (must be 0). Printed: the median times of both archives,
for the crawl phase (spider opened to closed, from the crawl-run records) and the whole
process (start-up included), and their ratios.

    .venv/bin/python bench/incremental.py [--n 100000] [--pages 1000] [--per-feed 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from _common import (
    CrawlTiming,
    article_requests,
    feed_sources,
    load,
    prepare_generated,
    run_counts,
    run_crawl,
    write_config,
)

from tracker.archive import NearDuplicateSettings, Pending, store_batch
from tracker.db import Database
from tracker.store import get_or_create_source
from tracker.world.server import NewsWorld

SEED_BATCH = 1000  # articles per store_batch call
SEED_TRANSACTION = 10_000  # articles per transaction


def seed(database: Path, count: int, base: str, hosts: list[str]) -> tuple[float, float]:
    """Store generated articles 0 … count-1 through store_batch; return (total s, store s)."""
    started = time.perf_counter()
    db = Database(f"sqlite:///{database}")
    with db.begin() as session:
        source_id = get_or_create_source(session, "archive", "rss", False).id
    near = NearDuplicateSettings()
    storing = 0.0
    stored = 0
    pending: list[Pending] = []
    session = db.sessions()

    def store(batch: list[Pending]) -> None:
        nonlocal storing, stored
        t0 = time.perf_counter()
        if not session.in_transaction():
            session.begin()
        store_batch(session, batch, near)
        stored += len(batch)
        if stored % SEED_TRANSACTION == 0:
            session.commit()
        storing += time.perf_counter() - t0

    for chunk in prepare_generated(0, count, base, hosts):
        pending.extend(Pending(article, [source_id]) for article in chunk)
        while len(pending) >= SEED_BATCH:
            store(pending[:SEED_BATCH])
            del pending[:SEED_BATCH]
    if pending:
        store(pending)
    if session.in_transaction():
        session.commit()
    session.close()
    db.dispose()
    return time.perf_counter() - started, storing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="extra articles stored")
    parser.add_argument("--pages", type=int, default=1000, help="articles the listing shows")
    parser.add_argument("--per-feed", type=int, default=1000, help="items per feed URL")
    parser.add_argument("--repeat", type=int, default=3, help="no-new runs of each; medians")
    parser.add_argument("--layout", default="mix", choices=("mix", "naver", "publisher"))
    args = parser.parse_args()

    with NewsWorld(generated=args.n + args.pages) as world, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        hosts = [f"127.0.0.1:{world.port}"]
        small, big = work / "small", work / "big"
        small.mkdir()
        big.mkdir()
        databases = {"0 stored": small / "tracker.db", f"{args.n} stored": big / "tracker.db"}

        seconds, storing = seed(databases[f"{args.n} stored"], args.n, world.base_url, hosts)
        size = databases[f"{args.n} stored"].stat().st_size / 1e6
        print(
            f"seeded {args.n} articles in {seconds:.1f} s ({storing:.1f} s in store_batch), "
            f"database {size:.0f} MB",
            flush=True,
        )

        def crawl(name: str, tag: str) -> tuple[CrawlTiming, int, dict[str, int]]:
            database = databases[name]
            sources = feed_sources(world.base_url, 0, args.pages, args.per_feed, args.layout, tag)
            config = write_config(database.parent, database, sources, world.port)
            world.reset_counts()
            timing = run_crawl(config, database)
            return timing, article_requests(world.requests), run_counts(database)

        for name in databases:
            timing, fetched, counts = crawl(name, "first")
            print(
                f"first crawl into {name + ':':16} {timing.wall:6.2f} s "
                f"(crawl phase {timing.crawl:.2f} s), {fetched} article pages fetched, "
                f"{counts['new']} new",
                flush=True,
            )

        runs: dict[str, list[tuple[CrawlTiming, int, dict[str, int]]]] = {n: [] for n in databases}
        for round_ in range(args.repeat):
            order = list(databases) if round_ % 2 == 0 else list(reversed(databases))
            for name in order:
                runs[name].append(crawl(name, f"r{round_}"))

    print(
        f"\nlisting: the newest {args.pages} generated articles ({args.layout} layout) in "
        f"{-(-args.pages // args.per_feed)} feed(s); runs alternate, medians of {args.repeat}; "
        f"{load()}"
    )
    header = f"{'crawl s':>9}{'whole s':>9}{'listed':>8}{'dup':>7}{'fetched':>9}"
    print(f"{'no-new run against':24}{header}")
    medians = {}
    for name, results in runs.items():
        crawl_s = statistics.median(t.crawl for t, _, _ in results)
        wall_s = statistics.median(t.wall for t, _, _ in results)
        fetched = max(f for _, f, _ in results)
        counts = results[-1][2]
        medians[name] = (crawl_s, wall_s)
        print(
            f"{name:24}{crawl_s:9.2f}{wall_s:9.2f}{counts['listed']:8d}{counts['duplicate']:7d}"
            f"{fetched:9d}"
        )
    (small_crawl, small_wall), (big_crawl, big_wall) = medians.values()
    print(
        f"ratio {args.n} stored / 0 stored: crawl phase {big_crawl / small_crawl:.2f}, "
        f"whole process {big_wall / small_wall:.2f}  (target <= 1.2; article fetches must be 0)"
    )


if __name__ == "__main__":
    main()
