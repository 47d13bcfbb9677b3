"""Benchmark (issue #7 d): near-duplicate grouping cost vs extraction cost, and grouping quality.

Cost per article, on the same pages, measured in one run: every step runs over all pages in
turn, --rounds times, and the per-page median is used (slow outliers from other processes on
the shared machine drop out on both sides alike):

* extraction = ``NaverArticlePage(url, body).to_article()`` + ``normalize_body`` (what a parse
  worker does before signing);
* grouping   = ``minhash_signature`` + ``band_hashes`` on the normalized body (shingling,
  signature, LSH band keys: the rest of the worker's near-duplicate work);
* before     = the same with the scheme stored before migration 0004 (datasketch k-permutation
  MinHash over crc32 word hashes, blake2b band keys), for comparison;
* archive    = the band lookup, candidate comparison and band insert of ``tracker.archive``
  (``_assign_stories``, timed while ``store_batch`` stores the generated pages in batches of
  100 into a SQLite file). Reported separately: it runs in the archive writer against the
  database, not where pages are parsed, and it is I/O-bound rather than hashing.

Target: grouping / extraction ≤ 5%. Also shown, not judged: the same two steps run page by
page as a worker runs them ("inline"); on a loaded machine that inflates the short step most
(see ``measure_costs``).

Quality, before and after, on what has known answers:

* the generated corpus (tracker/world/generator.py): ``i % 10 == 8`` is a light rewrite of
  ``i - 2`` and must join its story; ``i % 10 == 7`` is an exact copy of ``i - 1``, which the
  archive dedupes by content hash before any signature, so it is left out; no other pair
  should be grouped. Grouping is simulated as the archive does it (candidates share an LSH
  band, the best candidate at estimated Jaccard ≥ threshold gives the story), and the same
  corpus is stored for real through ``store_batch`` with the new scheme;
* the rewrite and unrelated cases of tests/test_text.py, tests/test_store.py and
  tests/test_migrations.py;
* the storyline of the local news world (its wire copies form one story).

    .venv/bin/python bench/neardup.py [--pages 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "bench")]

from extract_speed import load_pages, stated_url  # noqa: E402

import tracker.archive as archive  # noqa: E402
from crawler.extractors import NaverArticlePage  # noqa: E402
from tracker.archive import NearDuplicateSettings, Pending, store_batch  # noqa: E402
from tracker.articles import prepare_article  # noqa: E402
from tracker.db import MIGRATIONS_DIR, Database  # noqa: E402
from tracker.models import Article  # noqa: E402
from tracker.store import get_or_create_source  # noqa: E402
from tracker.text import (  # noqa: E402
    SIGNATURE_SCHEME,
    band_hashes,
    content_hash,
    minhash_signature,
    normalize_body,
    shingle_hashes,
)
from tracker.world.catalog import Catalog  # noqa: E402
from tracker.world.server import NewsWorld  # noqa: E402

NEAR = NearDuplicateSettings()
HOSTS = ("n.news.naver.com", "news.naver.com")


@dataclass(frozen=True)
class Scheme:
    name: str
    signature: Callable[[str, int], np.ndarray]
    bands: Callable[[np.ndarray, int], list[int]]

    def group_keys(self, body: str) -> tuple[np.ndarray, list[int]]:
        signature = self.signature(body, NEAR.permutations)
        return signature, self.bands(signature, NEAR.band_rows)


def _legacy_scheme() -> Scheme:
    """The scheme before migration 0004, frozen in that migration (its downgrade needs it)."""
    from alembic.script import ScriptDirectory

    module = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision("0004").module
    return Scheme("datasketch", module.legacy_signature, module.legacy_bands)


AFTER = Scheme(SIGNATURE_SCHEME, minhash_signature, band_hashes)


@dataclass
class Page:
    group: str
    name: str
    url: str
    html: bytes
    headers: dict[str, str]
    body: str = ""  # normalized, filled by the first extraction


def generated_pages(count: int) -> list[Page]:
    """Fetch /gen/naver/0..count-1 from a local news world once; timing happens offline."""
    pages = []
    with NewsWorld(generated=count) as world:
        for index in range(count):
            with urllib.request.urlopen(world.url(f"/gen/naver/{index}"), timeout=30) as response:
                html = response.read()
            pages.append(Page("generated", str(index), stated_url(html), html, {}))
    return pages


def other_pages() -> list[Page]:
    return [
        Page(page.name.split("/")[0], page.name.split("/", 1)[1], page.url, page.body, page.headers)
        for page in load_pages()
    ]


def extract(page: Page) -> str:
    article = NaverArticlePage(page.url, page.html, page.headers).to_article()
    return normalize_body(article.body)


def measure_costs(pages: Sequence[Page], legacy: Scheme, rounds: int) -> dict[str, np.ndarray]:
    """Return per-page median seconds of each step, timed two ways.

    ``extract``, ``after``, ``before``: each step over every page in turn, round after round
    (the steps' own CPU cost: what the target is about). ``extract_inline``, ``after_inline``:
    extraction then signing page by page, as a parse worker runs them. On a loaded machine the
    second way charges the short signing step for the caches other processes emptied while
    the long parse step was descheduled (a 1.5 ms busy loop instead of the parse has the same
    effect), so it is shown, not judged.
    """
    for page in pages:  # warm-up: imports, XPath compilation, lookup tables, datasketch
        page.body = extract(page)
        AFTER.group_keys(page.body)
        legacy.group_keys(page.body)
    clock = time.perf_counter
    steps: dict[str, Callable[[Page], object]] = {
        "extract": extract,
        "after": lambda page: AFTER.group_keys(page.body),
        "before": lambda page: legacy.group_keys(page.body),
    }
    samples = {name: np.zeros((rounds, len(pages))) for name in [*steps, "extract_inline"]}
    samples["after_inline"] = np.zeros((rounds, len(pages)))
    for r in range(rounds):
        for name, step in steps.items():
            for i, page in enumerate(pages):
                start = clock()
                step(page)
                samples[name][r, i] = clock() - start
        for i, page in enumerate(pages):
            t0 = clock()
            body = extract(page)
            t1 = clock()
            AFTER.group_keys(body)
            samples["extract_inline"][r, i] = t1 - t0
            samples["after_inline"][r, i] = clock() - t1
    return {name: np.median(values, axis=0) for name, values in samples.items()}


def archive_cost(pages: Sequence[Page]) -> tuple[float, float, int, dict[int, int]]:
    """Store the pages through store_batch in batches of 100.

    Return (band ms per new article, store ms per page, new articles, stories); ``stories``
    maps the generated index of every stored article to the index of its story's article.
    """
    timed: list[float] = []
    original = archive._assign_stories

    def assign(*args: Any, **kwargs: Any) -> dict[int, int]:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            timed.append(time.perf_counter() - start)

    prepared = []
    for page in pages:
        parsed = NaverArticlePage(page.url, page.html, page.headers).to_article()
        prepared.append(prepare_article(parsed, HOSTS, permutations=NEAR.permutations))
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with database.begin() as session:
            source = get_or_create_source(session, "bench", "rss", False).id
        archive._assign_stories = assign  # type: ignore[assignment]
        try:
            start = time.perf_counter()
            for offset in range(0, len(prepared), 100):
                with database.begin() as session:
                    batch = [Pending(a, [source]) for a in prepared[offset : offset + 100]]
                    store_batch(session, batch, NEAR)
            stored_s = time.perf_counter() - start
        finally:
            archive._assign_stories = original  # type: ignore[assignment]
        index_of = {a.canonical_url: int(p.name) for a, p in zip(prepared, pages, strict=True)}
        with database.begin() as session:
            rows = session.execute(
                Article.__table__.select().with_only_columns(
                    Article.id, Article.canonical_url, Article.story_id
                )
            ).all()
        database.dispose()
    by_id = {row.id: index_of[row.canonical_url] for row in rows}
    stories = {by_id[row.id]: by_id[row.story_id] for row in rows}
    new = len(rows)
    return sum(timed) / new * 1e3, stored_s / len(prepared) * 1e3, new, stories


# -- quality ---------------------------------------------------------------------------------


def _shingles(body: str) -> set[int]:
    # The shingle set is the same under both schemes (word 3-grams of the case-folded text).
    return set(shingle_hashes(body).tolist())


def _jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / len(a | b) if a | b else 1.0


@dataclass(frozen=True)
class Grouping:
    found: int  # rewrite pairs that ended in one story
    wanted: int
    false_pairs: int  # pairs sharing a story that are not a rewrite pair
    wrong_joins: int  # articles that joined a story the rewrite truth does not allow
    candidates: float  # LSH candidates per article
    rewrite_error: tuple[float, float]  # estimated - exact Jaccard on rewrite pairs: mean, sd
    other_error: tuple[float, float]  # the same on a fixed sample of other pairs


def _error(
    signatures: np.ndarray, sets: Sequence[set[int]], pairs: Sequence[tuple[int, int]]
) -> tuple[float, float]:
    errors = np.array(
        [
            float((signatures[a] == signatures[b]).mean()) - _jaccard(sets[a], sets[b])
            for a, b in pairs
        ]
    )
    return (float(errors.mean()), float(errors.std())) if len(errors) else (0.0, 0.0)


def simulate(scheme: Scheme, indexes: Sequence[int], bodies: dict[int, str]) -> Grouping:
    """Group the generated corpus in order, as tracker.archive._assign_stories does.

    Not modelled: the archive's cap on members per LSH bucket (``bucket_limit``), which only
    matters for buckets shared by dozens of articles.
    """
    signatures = np.array([scheme.group_keys(bodies[i])[0] for i in indexes])
    bands = np.array([scheme.bands(s, NEAR.band_rows) for s in signatures])
    sets = [_shingles(bodies[i]) for i in indexes]
    story: list[int] = []
    candidates = wrong_joins = 0
    for j, index in enumerate(indexes):
        others = np.flatnonzero((bands[:j] == bands[j]).any(axis=1))
        candidates += len(others)
        similarity = (signatures[others] == signatures[j]).mean(axis=1)
        best = int(np.argmax(similarity)) if len(others) else -1
        if best >= 0 and similarity[best] >= NEAR.threshold:
            story.append(story[others[best]])
            wrong_joins += not (index % 10 == 8 and story[-1] == index - 2)
        else:
            story.append(index)
    truth = {(i - 2, i) for i in indexes if i % 10 == 8}
    members: dict[int, list[int]] = {}
    for index, s in zip(indexes, story, strict=True):
        members.setdefault(s, []).append(index)
    pairs = {(a, b) for m in members.values() for x, a in enumerate(m) for b in m[x + 1 :]}
    position = {index: p for p, index in enumerate(indexes)}
    rewrite_pairs = [(position[a], position[b]) for a, b in truth if a in position]
    rng = np.random.default_rng(7)  # the same sample for both schemes
    sample = [
        (int(a), int(b))
        for a, b in rng.integers(0, len(indexes), (3000, 2))
        if a != b and (min(indexes[a], indexes[b]), max(indexes[a], indexes[b])) not in truth
    ]
    return Grouping(
        found=len(pairs & truth),
        wanted=len(truth),
        false_pairs=len(pairs - truth),
        wrong_joins=wrong_joins,
        candidates=candidates / len(indexes),
        rewrite_error=_error(signatures, sets, rewrite_pairs),
        other_error=_error(signatures, sets, sample),
    )


def test_cases() -> list[tuple[str, str, str, bool]]:
    """(name, first, second, same story?) from the tests' near-duplicate cases."""
    sys.path.insert(0, str(REPO))
    from tests import test_migrations, test_store, test_text

    store_rewrite = test_store.BODY.replace("공개했다", "발표했다").replace("계획이다", "방침이다")
    store_unrelated = (
        "통신사 한 곳이 새 요금제를 내놨다. 데이터 제공량을 늘리고 가격은 그대로 뒀다. " * 4
    )
    return [
        ("test_text rewrite", test_text.REWRITE_BASE, test_text.REWRITE, True),
        ("test_text other story", test_text.REWRITE_BASE, test_text.OTHER_STORY, False),
        ("test_store rewrite", test_store.BODY, store_rewrite, True),
        ("test_store unrelated", test_store.BODY, store_unrelated, False),
        ("test_store batch copy", test_store.BODY, test_store.BODY + " 다른 문장.", True),
        ("test_migrations rewrite", test_migrations.ORIGINAL, test_migrations.REWRITE, True),
    ]


def grouped(scheme: Scheme, first: str, second: str) -> tuple[float, bool, bool]:
    a, band_a = scheme.group_keys(normalize_body(first))
    b, band_b = scheme.group_keys(normalize_body(second))
    estimate = float((a == b).mean())
    candidate = any(x == y for x, y in zip(band_a, band_b, strict=True))
    return estimate, candidate, candidate and estimate >= NEAR.threshold


def storyline_groups(scheme: Scheme) -> set[frozenset[str]]:
    """Group the news world's storyline articles in publication order; return the groups."""
    articles = sorted(Catalog().articles, key=lambda a: (a.published_at, a.id))
    by_hash: dict[str, str] = {}
    story: dict[str, str] = {}
    keys: list[tuple[str, np.ndarray, list[int]]] = []
    for article in articles:
        body = normalize_body(article.body)
        digest = content_hash(body)
        if digest in by_hash:  # the same article to the archive
            story[article.id] = story[by_hash[digest]]
            continue
        by_hash[digest] = article.id
        signature, bands = scheme.group_keys(body)
        best: tuple[float, str] | None = None
        for other, other_signature, other_bands in keys:
            if any(x == y for x, y in zip(bands, other_bands, strict=True)):
                estimate = float((signature == other_signature).mean())
                if estimate >= NEAR.threshold and (best is None or estimate > best[0]):
                    best = (estimate, other)
        story[article.id] = story[best[1]] if best else article.id
        keys.append((article.id, signature, bands))
    groups: dict[str, set[str]] = {}
    for article_id, s in story.items():
        groups.setdefault(s, set()).add(article_id)
    return {frozenset(g) for g in groups.values()}


# -- report ----------------------------------------------------------------------------------


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000, help="generated Naver pages")
    parser.add_argument("--rounds", type=int, default=5, help="timings per page (median used)")
    args = parser.parse_args()

    print(f"# near-duplicate grouping vs extraction ({_load()} at start)")
    print(
        f"settings: {NEAR.permutations} values, {NEAR.permutations // NEAR.band_rows} bands of "
        f"{NEAR.band_rows}, threshold {NEAR.threshold}; scheme after: {SIGNATURE_SCHEME}, "
        "before: datasketch (k permutations)"
    )
    legacy = _legacy_scheme()
    pages = generated_pages(args.pages) + other_pages()
    costs = measure_costs(pages, legacy, args.rounds)

    print()
    header = f"{'group':<10} {'pages':>5} {'extract µs':>10} {'group µs':>9} {'ratio':>6}"
    print(
        f"{header} {'before µs':>10} {'ratio':>6} | {'inline: extract':>15} {'group':>6} "
        f"{'ratio':>6}   (per article, medians of {args.rounds})"
    )
    groups = ["generated", "fixture", "real"]
    for group in [*groups, "ALL"]:
        mask = np.array([group in ("ALL", p.group) for p in pages])
        if not mask.any():
            continue
        ext, aft, bef, ext_in, aft_in = (
            costs[k][mask].mean() * 1e6
            for k in ("extract", "after", "before", "extract_inline", "after_inline")
        )
        print(
            f"{group:<10} {mask.sum():5d} {ext:10.1f} {aft:9.1f} {aft / ext:6.1%} "
            f"{bef:10.1f} {bef / ext:6.1%} | {ext_in:15.1f} {aft_in:6.1f} {aft_in / ext_in:6.1%}"
        )
    total = {k: v.sum() for k, v in costs.items()}
    ratio = total["after"] / total["extract"]
    verdict = "holds" if ratio <= 0.05 else "NOT met"
    print(
        f"target grouping ≤ 5% of extraction: {ratio:.1%} → {verdict} "
        f"(before: {total['before'] / total['extract']:.1%}; "
        f"grouping {total['before'] / total['after']:.1f}× cheaper; "
        f"inline: {total['after_inline'] / total['extract_inline']:.1%})"
    )

    generated = [p for p in pages if p.group == "generated"]
    band_ms, store_ms, new, stories = archive_cost(generated)
    extract_ms = costs["extract"][: len(generated)].mean() * 1e3
    print(
        f"archive (SQLite, batches of 100, {new} new articles): band lookup + compare + insert "
        f"{band_ms * 1e3:.0f} µs/article = {band_ms / extract_ms:.1%} of extraction "
        f"(whole store_batch {store_ms * 1e3:.0f} µs/article; archive writer, not in the target)"
    )

    print()
    print("## grouping quality (before → after)")
    bodies = {int(p.name): p.body for p in generated}
    indexes = [i for i in sorted(bodies) if i % 10 != 7]  # exact copies: same content hash
    copies = [i for i in bodies if i % 10 == 7]
    same_hash = sum(content_hash(bodies[i]) == content_hash(bodies[i - 1]) for i in copies)
    print(
        f"generated corpus: {len(indexes)} articles signed, {len(copies)} exact copies left to "
        f"the content hash ({same_hash} of {len(copies)} hash equal)"
    )
    exact = [
        _jaccard(_shingles(bodies[i - 2]), _shingles(bodies[i])) for i in indexes if i % 10 == 8
    ]
    if exact:
        print(
            f"  exact Jaccard of the {len(exact)} rewrite pairs: min {min(exact):.3f}, "
            f"median {statistics.median(exact):.3f}"
        )
    print(
        f"  {'scheme':<11} {'rewrites grouped':>17} {'false pairs':>11} {'wrong joins':>11} "
        f"{'candidates/article':>18}   estimate − exact J: rewrites, 3000 other pairs"
    )
    for scheme in (legacy, AFTER):
        q = simulate(scheme, indexes, bodies)
        print(
            f"  {scheme.name:<11} {q.found:>8}/{q.wanted:<8} {q.false_pairs:>11} "
            f"{q.wrong_joins:>11} {q.candidates:>18.2f}   "
            f"{q.rewrite_error[0]:+.4f} ± {q.rewrite_error[1]:.4f}, "
            f"{q.other_error[0]:+.4f} ± {q.other_error[1]:.4f}"
        )
    rewrites_stored = [i for i in stories if i % 10 == 8]
    joined = sum(stories[i] == stories.get(i - 2) for i in rewrites_stored)
    alone = sum(1 for i, s in stories.items() if i % 10 not in (7, 8) and s != i)
    print(
        f"  archive ({SIGNATURE_SCHEME}, store_batch): {joined}/{len(rewrites_stored)} rewrites "
        f"in their original's story; {alone} originals wrongly joined another story"
    )

    print("tests' cases (exact J; estimate, candidate, grouped — before → after):")
    for name, first, second, same in test_cases():
        exact_j = _jaccard(_shingles(normalize_body(first)), _shingles(normalize_body(second)))
        cells = []
        for scheme in (legacy, AFTER):
            estimate, candidate, together = grouped(scheme, first, second)
            ok = "ok" if together == same else "WRONG"
            cells.append(f"{estimate:.3f} {'cand' if candidate else '-'} {ok}")
        print(f"  {name:<24} J {exact_j:.3f}: {cells[0]:<16} → {cells[1]}")

    before_groups, after_groups = storyline_groups(legacy), storyline_groups(AFTER)
    multi = sorted(sorted(g) for g in after_groups if len(g) > 1)
    print(
        f"news world storyline: {len(after_groups)} stories, identical before and after: "
        f"{before_groups == after_groups}; multi-article stories: {multi}"
    )
    print(f"({_load()} at end)")


if __name__ == "__main__":
    main()
