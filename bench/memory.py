"""Benchmark (issue #7 f): peak memory of a 10k-article `tracker crawl` (target ≤ 250 MB).

The local news world serves --pages generated articles (a mix of Naver-layout and publisher
pages, with the corpus' exact copies and rewrites) in RSS feeds of --per-feed items. One
`tracker crawl` (the real subprocess, into an empty SQLite archive that `tracker db upgrade`
created beforehand, as earlier runs would have; --first-run leaves the migrating to the
crawl) fetches, parses and stores them all, while this script samples, every --interval
seconds from /proc, the resident memory (RSS) and CPU time of every process of its tree: the
`tracker` CLI (which is the small crawl watcher while the crawl runs), the crawl process
(`python -m crawler news`, with the archive writer's thread), its parse workers (and, with
crawl.store_writer=process, the writer).
Printed: the peak of the sum (the target), each process's peak, and the peak of the summed PSS
(shared pages divided among the processes that share them, so nothing is counted twice).

    .venv/bin/python bench/memory.py [--pages|--n 10000] [--per-feed 1000] [--interval 0.1]
        [--store-writer thread|process] [--first-run]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from _common import (
    REPO,
    article_requests,
    crawl_argv,
    crawl_env,
    crawl_phase_seconds,
    feed_sources,
    load,
    run_counts,
    write_config,
)

from tracker.world.server import NewsWorld

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
SETTLED_AFTER = 8.0  # seconds: a process's imports and set-up are done by then


def children() -> dict[int, list[int]]:
    """Return {parent pid: [child pids]} for every process (from /proc/*/stat)."""
    tree: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                # The command name may hold spaces and parentheses: split after its last ')'.
                fields = stat.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    tree = children()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(tree.get(pid, ()))
    return found


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_KB


def pss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU seconds ``pid`` has used so far."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def label(pid: int, root: int) -> str | None:
    """Return what process ``pid`` is, or None while that cannot be told yet."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        worker = "crawler.poolworker" in cmdline or "spawn_main" in cmdline
        maps = Path(f"/proc/{pid}/maps").read_text() if worker else ""
    except OSError:
        return None
    if pid == root:
        return "tracker crawl (CLI/watcher)"
    if "scrapy crawl" in cmdline or "-m crawler " in cmdline:
        return "crawl process (scrapy)"
    if "resource_tracker" in cmdline:
        return "resource tracker"
    if worker:  # crawler.pool's workers (spawn_main: multiprocessing's, before them)
        # Told apart by what they have loaded: the writer SQLAlchemy (a parse worker never
        # does), a parse worker lxml (which the writer may load too, later).
        if "sqlalchemy" in maps:
            return "archive writer"
        if "lxml" in maps:
            return "parse worker"
        return None
    return cmdline[:40]


@dataclass
class Sampler:
    root: int
    interval: float
    peak_sum: int = 0
    peak_pss: int = 0
    samples: int = 0
    peaks: dict[int, int] = field(default_factory=dict)
    cpu: dict[int, float] = field(default_factory=dict)
    # RSS a few seconds after a process appeared (imports done): what the crawl adds is the rest.
    settled: dict[int, int] = field(default_factory=dict)
    first_seen: dict[int, float] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            total = pss = 0
            for pid in descendants(self.root):
                try:
                    rss = rss_kb(pid)
                    pss += pss_kb(pid)
                    self.cpu[pid] = cpu_seconds(pid)
                except OSError:
                    continue  # it just ended
                total += rss
                self.peaks[pid] = max(self.peaks.get(pid, 0), rss)
                now = time.monotonic()
                seen = self.first_seen.setdefault(pid, now)
                if pid not in self.settled and now - seen >= SETTLED_AFTER:
                    self.settled[pid] = rss
                if pid not in self.settled or pid not in self.labels:
                    # Imports still running: look again until the process has settled.
                    name = label(pid, self.root)
                    if name is not None:
                        self.labels[pid] = name
            self.peak_sum = max(self.peak_sum, total)
            self.peak_pss = max(self.peak_pss, pss)
            self.samples += 1
            self.stop.wait(self.interval)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", "--n", type=int, default=10_000, help="articles to crawl")
    parser.add_argument("--per-feed", type=int, default=1000, help="items per feed URL")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between samples")
    parser.add_argument("--layout", default="mix", choices=("mix", "naver", "publisher"))
    parser.add_argument(
        "--store-writer", choices=("thread", "process"), default="thread", help="crawl.store_writer"
    )
    parser.add_argument(
        "--first-run", action="store_true", help="crawl into a new database (migrated by the crawl)"
    )
    args = parser.parse_args()

    with NewsWorld(generated=args.pages) as world, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        database = work / "tracker.db"
        sources = feed_sources(world.base_url, 0, args.pages, args.per_feed, args.layout)
        config = write_config(work, database, sources, world.port, store_writer=args.store_writer)
        if not args.first_run:
            # A scheduled crawl opens an archive that earlier runs created: migrate it first,
            # unmeasured (the very first run also imports Alembic and runs the migrations).
            subprocess.run(
                [*crawl_argv(config)[:-1], "db", "upgrade"],
                env=crawl_env(),
                cwd=REPO,
                check=True,
                capture_output=True,
            )
        started = time.perf_counter()
        process = subprocess.Popen(
            crawl_argv(config),
            env=crawl_env(),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        sampler = Sampler(process.pid, args.interval)
        thread = threading.Thread(target=sampler.run, daemon=True)
        thread.start()
        _, stderr = process.communicate()
        wall = time.perf_counter() - started
        sampler.stop.set()
        thread.join()
        if process.returncode not in (0, 1):
            raise SystemExit(
                f"tracker crawl failed ({process.returncode}):\n{stderr.decode()[-3000:]}"
            )
        counts = run_counts(database)
        crawl_s = crawl_phase_seconds(database)
        fetched = article_requests(world.requests)
        with sqlite3.connect(database) as connection:
            stored = connection.execute("SELECT count(*) FROM articles").fetchone()[0]

    print(
        f"crawled {fetched} article pages ({args.layout} layout, {len(sources)} feeds) in "
        f"{wall:.1f} s (crawl phase {crawl_s:.1f} s): {counts['new']} new, "
        f"{counts['duplicate']} duplicate, {counts['errors']} errors; {stored} stored; {load()}"
    )
    print(
        "database: "
        + ("new, migrated by this crawl" if args.first_run else "migrated before the crawl")
    )
    print(
        f"{sampler.samples} samples every {args.interval} s; RSS per process, MB "
        f"(start-up: {SETTLED_AFTER:.0f} s after it appeared):"
    )
    print(f"  {'process':28} {'pid':>7} {'start-up':>9} {'peak':>7} {'CPU s':>7}")
    for pid, peak in sorted(sampler.peaks.items(), key=lambda kv: -kv[1]):
        settled = sampler.settled.get(pid)
        settled_text = f"{settled / 1024:9.1f}" if settled else f"{'-':>9}"
        name = sampler.labels.get(pid, "?")
        cpu = sampler.cpu.get(pid, 0.0)
        print(f"  {name:28} {pid:7d} {settled_text} {peak / 1024:7.1f} {cpu:7.1f}")
    print(f"peak of the summed PSS (shared pages counted once): {sampler.peak_pss / 1024:.1f} MB")
    crawl_peak = max(
        (p for pid, p in sampler.peaks.items() if sampler.labels.get(pid, "").startswith("crawl")),
        default=0,
    )
    print(f"peak RSS of the crawl process alone: {crawl_peak / 1024:.1f} MB")
    peak = sampler.peak_sum / 1024
    print(f"peak of the summed RSS of the process tree: {peak:.1f} MB  (target <= 250)")


if __name__ == "__main__":
    main()
