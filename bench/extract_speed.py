"""Benchmark: Naver page object vs trafilatura.extract(fast=True) on Naver pages, speed and F1."""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import trafilatura

from crawler.extractors import ExtractionError, NaverArticlePage
from crawler.extractors.encoding import decode_html

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "pages" / "NaverArticlePage"
REAL = ROOT / ".." / "shared" / "real-samples" / "naver_article"
# Real samples are saved without their URL; these are the URLs the pages state (og:url).
REAL_URLS = {
    "nnews_mnews_421-0008770777": "https://n.news.naver.com/mnews/article/421/0008770777?sid=110",
    "nnews_article_437-0000483987": "https://n.news.naver.com/article/437/0000483987",
    "legacy_news_read.nhn_421-0005081591": (
        "https://news.naver.com/main/read.nhn?mode=LSD&mid=sec&oid=421&aid=0005081591&sid1=001"
    ),
}


@dataclass(frozen=True)
class Page:
    """One benchmark input."""

    name: str
    url: str
    body: bytes
    headers: dict[str, str]


def load_pages() -> list[Page]:
    """Return the Naver fixture pages that are articles, plus the real samples if present."""
    pages = []
    for case in sorted(FIXTURES.iterdir()):
        if "raises" in json.loads((case / "expected.json").read_text(encoding="utf-8")):
            continue
        meta = json.loads((case / "meta.json").read_text(encoding="utf-8"))
        body = (case / "input.html").read_bytes()
        pages.append(Page(f"fixture/{case.name}", meta["url"], body, meta.get("headers", {})))
    if REAL.is_dir():
        for path in sorted(REAL.iterdir()):
            url = next((u for key, u in REAL_URLS.items() if path.name.startswith(key)), None)
            if url is not None:  # the UTF-16 mojibake edge case is not an article
                pages.append(Page(f"real/{path.name[:40]}", url, path.read_bytes(), {}))
    return pages


def time_per_call(fn: Callable[[], object], seconds: float) -> float:
    """Return the mean seconds per call of ``fn``, repeating it for about ``seconds``."""
    fn()  # warm-up: imports, lxml/XPath compilation, trafilatura's lazy setup
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return elapsed / calls


def token_f1(ours: str, theirs: str) -> float:
    """Return the bag-of-whitespace-tokens F1 between two texts."""
    a, b = Counter(ours.split()), Counter(theirs.split())
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def main() -> None:
    """Run the benchmark and print one line per page plus totals."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time budget per page and tool")
    args = parser.parse_args()

    pages = load_pages()
    print(f"{'page':<48} {'ours ms':>8} {'traf ms':>8} {'ratio':>7} {'F1':>6}")
    total_ours = total_traf = 0.0
    scores = []
    for page in pages:
        try:
            body = NaverArticlePage(page.url, page.body, page.headers).to_article().body
        except ExtractionError as exc:
            print(f"{page.name:<48} skipped: {exc.reason}")
            continue
        # trafilatura gets the already-decoded text, so only our side pays for decoding.
        html = decode_html(page.body, page.headers).text
        theirs = trafilatura.extract(html, fast=True) or ""

        def ours_call(page: Page = page) -> object:
            return NaverArticlePage(page.url, page.body, page.headers).to_article()

        def traf_call(html: str = html) -> object:
            return trafilatura.extract(html, fast=True)

        ours_s = time_per_call(ours_call, args.seconds)
        traf_s = time_per_call(traf_call, args.seconds)
        f1 = token_f1(body, theirs)
        total_ours += ours_s
        total_traf += traf_s
        scores.append(f1)
        print(
            f"{page.name:<48} {ours_s * 1e3:8.3f} {traf_s * 1e3:8.3f} "
            f"{traf_s / ours_s:6.1f}x {f1:6.3f}"
        )
    if scores:
        print(
            f"{'TOTAL (' + str(len(scores)) + ' pages)':<48} {total_ours * 1e3:8.3f} "
            f"{total_traf * 1e3:8.3f} {total_traf / total_ours:6.1f}x "
            f"{sum(scores) / len(scores):6.3f}"
        )


if __name__ == "__main__":
    main()
