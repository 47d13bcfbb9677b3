"""Benchmark (issue #7 e): archive writes vs raw `executemany` of the same rows (target ≥ 0.8).

Both sides write --n generated articles (the news world's corpus: a mix of Naver-layout and
publisher pages with its exact copies and rewrites, prepared as the crawler's workers prepare
them — normalized, hashed, MinHash-signed) in batches of --batch, one transaction per batch,
each into its own fresh SQLite database made by the migrations (WAL, synchronous=NORMAL,
foreign keys on, as the tracker opens it):

* ours: what the archive writer does per batch — `store_batch` (dedupe lookups by Naver id,
  canonical URL, every URL and content hash; MinHash LSH story assignment; articles, signatures,
  URLs, sources and band rows) and `clear_fetch_failure`, in one `Database.begin()` transaction;
* raw:  `sqlite3` `executemany` INSERTs of exactly the rows ours has just written — articles
  (final story ids included), article_signatures, article_urls, article_sources, article_bands
  — one transaction per batch.

"The same rows" therefore means the rows a deduplicating store ends up writing: the raw side
is told the answer (which inputs are duplicates, which story each article joins) and only
inserts; every lookup, the story assignment and all Python work are our overhead. Preparing
the articles and reading ours' rows back are not timed; facts extraction (which the writer
does after store_batch) is left out on both sides. Rows/s counts rows of all five tables.

The two sides alternate batch by batch (ours, then raw with the rows ours just wrote), so
machine load falls on both alike; --repeat rounds on fresh databases, the median ratio is
the result. --stored seeds both databases with the same older articles first (through
store_batch), to measure at that archive size.

    .venv/bin/python bench/writes.py [--n 10000] [--batch 100] [--stored 0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import pickle
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _common import load, prepare_generated

from tracker.archive import NearDuplicateSettings, Pending, store_batch
from tracker.articles import PreparedArticle
from tracker.db import Database
from tracker.store import clear_fetch_failure, get_or_create_source

BASE = "http://127.0.0.1:8765"
HOSTS = ("127.0.0.1:8765",)
TABLES = ("articles", "article_signatures", "article_urls", "article_sources", "article_bands")
# The rows one batch wrote, by table: ids (article ids for the id-less tables) in (low, high].
_BY_ID = {
    "articles": ("id", "articles"),
    "article_signatures": ("article_id", "articles"),
    "article_urls": ("id", "article_urls"),
    "article_sources": ("id", "article_sources"),
    "article_bands": ("article_id", "articles"),
}
PRAGMAS = ("foreign_keys=ON", "busy_timeout=30000", "journal_mode=WAL", "synchronous=NORMAL")


def new_database(path: Path) -> int:
    """Create an empty archive (migrations) with the bench's source; return the source id."""
    database = Database(f"sqlite:///{path}")
    with database.begin() as session:
        source_id = get_or_create_source(session, "gen", "rss", False).id
    database.dispose()
    return source_id


def seed(path: Path, batches: Sequence[Sequence[Pending]], near: NearDuplicateSettings) -> None:
    database = Database(f"sqlite:///{path}", migrate=False)
    for batch in batches:
        with database.begin() as session:
            store_batch(session, batch, near)
    database.dispose()


class RowReader:
    """Reads back, untimed, the rows ours wrote since the last call."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path)
        self.inserts = {}
        for table in TABLES:
            columns = [row[1] for row in self.connection.execute(f"PRAGMA table_info({table})")]
            marks = ", ".join("?" for _ in columns)
            self.inserts[table] = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        self.marks = self._marks()

    def _marks(self) -> dict[str, int]:
        # fetchall, not fetchone: a statement left open keeps a read snapshot, which stops
        # WAL checkpoints and would slow down the side being read.
        marks = {}
        for table in ("articles", "article_urls", "article_sources"):
            query = f"SELECT coalesce(max(id), 0) FROM {table}"
            marks[table] = self.connection.execute(query).fetchall()[0][0]
        return marks

    def new_rows(self) -> dict[str, list[tuple[object, ...]]]:
        marks = self._marks()
        rows = {}
        for table, (column, counter) in _BY_ID.items():
            rows[table] = self.connection.execute(
                f"SELECT * FROM {table} WHERE {column} > ? AND {column} <= ? ORDER BY rowid",
                (self.marks[counter], marks[counter]),
            ).fetchall()
        self.marks = marks
        return rows

    def close(self) -> None:
        self.connection.close()


@dataclass
class Round:
    ours: float = 0.0
    raw: float = 0.0
    rows: int = 0


def run_round(
    ours_path: Path,
    raw_path: Path,
    batches: Sequence[Sequence[Pending]],
    near: NearDuplicateSettings,
) -> tuple[Round, dict[str, int]]:
    database = Database(f"sqlite:///{ours_path}", migrate=False)
    reader = RowReader(ours_path)
    raw = sqlite3.connect(raw_path, isolation_level=None)
    for pragma in PRAGMAS:
        raw.execute(f"PRAGMA {pragma}")
    result = Round()
    counts = dict.fromkeys(TABLES, 0)
    for pickled in batches:
        # The writer receives each batch's articles freshly unpickled from the parse workers:
        # unpickling it here (untimed) hands store_batch freshly made objects, as there.
        batch = pickle.loads(pickled)
        # What the writer is given: each page's fetched URL and the listing URLs that led to it.
        fetched = [
            u for p in batch for u, kind in p.article.urls.items() if kind in ("fetched", "listing")
        ]
        started = time.perf_counter()
        with database.begin() as session:
            store_batch(session, batch, near)
            clear_fetch_failure(session, fetched)
        result.ours += time.perf_counter() - started

        # Reading back thousands of rows must not leave the collector a backlog that it then
        # works off inside the next timed store (the writer has no such reader).
        gc.disable()
        rows = reader.new_rows()
        gc.enable()
        started = time.perf_counter()
        raw.execute("BEGIN")
        for table in TABLES:
            if rows[table]:
                raw.executemany(reader.inserts[table], rows[table])
        raw.execute("COMMIT")
        result.raw += time.perf_counter() - started
        for table in TABLES:
            counts[table] += len(rows[table])
    raw.close()
    reader.close()
    database.dispose()
    check_same(ours_path, raw_path)
    result.rows = sum(counts.values())
    return result, counts


def check_same(ours: Path, raw: Path) -> None:
    """Fail loudly if the two databases do not hold the same rows (the comparison's premise)."""
    with sqlite3.connect(ours) as a, sqlite3.connect(raw) as b:
        for table in TABLES:
            query = f"SELECT count(*) FROM {table}"
            if a.execute(query).fetchone() != b.execute(query).fetchone():
                raise SystemExit(f"{table} differs between ours and raw")
        query = "SELECT id, story_id, content_hash FROM articles ORDER BY id"
        if a.execute(query).fetchall() != b.execute(query).fetchall():
            raise SystemExit("articles differ between ours and raw")


def stories(path: Path, first_index: int) -> tuple[int, int]:
    """Return (rewrites grouped with their source, rewrites stored) — a sanity check that the
    measured path still does its job (generated article i % 10 == 8 rewrites i - 2)."""
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT id, story_id, naver_aid, canonical_url FROM articles")
        story_of: dict[int, int] = {}
        for _, story_id, aid, url in rows:
            index = int(aid) - 1_000_000 if aid else int(url.rsplit("/", 1)[1])
            story_of[index] = story_id
    rewrites = [i for i in story_of if i % 10 == 8 and i - 2 >= first_index]
    grouped = sum(story_of[i] == story_of.get(i - 2) for i in rewrites)
    return grouped, len(rewrites)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", "--pages", dest="n", type=int, default=10_000, help="articles")
    parser.add_argument("--batch", type=int, default=100, help="articles per transaction")
    parser.add_argument("--stored", type=int, default=0, help="older articles stored first")
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the median is shown")
    parser.add_argument("--layout", default="mix", choices=("mix", "naver", "publisher"))
    parser.add_argument("--dir", default=None, help="where the databases go (default: a temp dir)")
    args = parser.parse_args()
    near = NearDuplicateSettings()

    def batches_of(chunk: list[PreparedArticle], source_id: int) -> list[list[Pending]]:
        return [
            [Pending(a, [source_id]) for a in chunk[i : i + args.batch]]
            for i in range(0, len(chunk), args.batch)
        ]

    started = time.perf_counter()
    end = args.stored + args.n
    prepared = [a for c in prepare_generated(0, end, BASE, HOSTS, args.layout) for a in c]
    print(f"prepared {end} generated articles in {time.perf_counter() - started:.1f} s")

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        work = Path(tmp)
        template = work / "template.db"
        source_id = new_database(template)
        if args.stored:
            started = time.perf_counter()
            seed(template, batches_of(prepared[: args.stored], source_id), near)
            print(f"seeded {args.stored} older articles in {time.perf_counter() - started:.1f} s")
        batches = [pickle.dumps(b) for b in batches_of(prepared[args.stored :], source_id)]
        del prepared
        rounds: list[Round] = []
        for number in range(args.repeat):
            ours_db, raw_db = work / f"ours{number}.db", work / f"raw{number}.db"
            shutil.copy(template, ours_db)
            shutil.copy(template, raw_db)
            result, counts = run_round(ours_db, raw_db, batches, near)
            rounds.append(result)
            print(
                f"  round {number + 1}: ours {result.ours:6.2f} s, raw {result.raw:6.2f} s, "
                f"ratio {result.raw / result.ours:.2f}",
                flush=True,
            )
            grouped, rewrites = stories(ours_db, args.stored)
            for leftover in work.glob(f"*{number}.db*"):
                leftover.unlink()

    middle = sorted(rounds, key=lambda r: r.raw / r.ours)[len(rounds) // 2]
    print(
        f"\n{args.n} articles in {len(batches)} batches of {args.batch} ({args.layout} layout), "
        f"{args.stored} stored before; {load()}"
    )
    print("rows written per round: " + ", ".join(f"{t} {c}" for t, c in counts.items()))
    print(f"stories: {grouped}/{rewrites} rewrites grouped with their source")
    print(f"median round:{'':26}{'s':>8}{'rows/s':>10}{'articles/s':>12}")
    for name, seconds in (
        ("ours (store_batch, as the writer)", middle.ours),
        ("raw executemany", middle.raw),
    ):
        print(f"  {name:36}{seconds:8.2f}{middle.rows / seconds:10.0f}{args.n / seconds:12.0f}")
    ratios = ", ".join(f"{r.raw / r.ours:.2f}" for r in rounds)
    print(
        f"ratio ours/raw rows/s: {middle.raw / middle.ours:.2f}  (target >= 0.8; rounds: {ratios})"
    )


if __name__ == "__main__":
    main()
