"""Evaluate fact extraction on tests/facts_eval: P/R/F1, every error, speed vs page parsing.

Run from the repository root:

    .venv/bin/python bench/facts_eval.py            # dev + holdout sets, with timings
    .venv/bin/python bench/facts_eval.py --kiwi     # also measure kiwipiepy sentence splitting
    .venv/bin/python bench/facts_eval.py --set holdout --no-errors

Page-parse CPU: every eval article is rendered into a Naver-layout article page (head meta tags,
header/navigation, #title_area, ._ARTICLE_DATE_TIME, article#dic_area, byline, copyright,
related-article and ranking lists, footer) and parsed with crawler.extractors.parse_article when
that module exists; otherwise with lxml.html.fromstring + text_content (the output says which).
"""

from __future__ import annotations

import argparse
import html
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tracker.facts import EXTRACTOR_VERSION, FACT_TYPES, MODALITIES, Fact, extract_facts  # noqa: E402
from tracker.facts.entities import Entities, load_entities  # noqa: E402
from tracker.facts.evaluate import (  # noqa: E402
    TARGET_OTHER_F1,
    TARGET_STAGE_PRECISION,
    TARGET_STAGE_RECALL,
    Counts,
    EvalArticle,
    Report,
    evaluate,
    load_eval_set,
)
from tracker.facts.extract import run  # noqa: E402
from tracker.facts.segment import build_sentences, split_sentences  # noqa: E402

EVAL_DIR = REPO / "tests" / "facts_eval"
SETS = {
    "dev": EVAL_DIR,
    "holdout": EVAL_DIR / "holdout",
    "blind": EVAL_DIR / "blind",
    "blind2": EVAL_DIR / "blind2",
}

_NAV = "".join(
    f'<li class="Nlist_item"><a href="https://news.naver.com/section/{n}" '
    f'class="Nitem_link"><span class="Nitem_link_menu">{name}</span></a></li>'
    for n, name in enumerate(
        ["정치", "경제", "사회", "생활/문화", "IT/과학", "세계", "랭킹", "신문보기"], 100
    )
)
_RELATED = "".join(
    f'<li class="rankingnews_item"><a href="https://n.news.naver.com/article/998/{n:010d}" '
    f'class="rankingnews_link"><div class="rankingnews_thumb">'
    f'<img src="https://imgnews.pstatic.net/image/998/{n}.jpg" width="70" height="70" alt="">'
    f'</div><div class="rankingnews_text"><strong class="rankingnews_title">'
    f"관련 기사 제목 {n}번: 인공지능 산업 동향과 전망</strong>"
    f'<span class="rankingnews_time">{n % 23 + 1}시간전</span></div></a></li>'
    for n in range(1, 31)
)
_PAGE = """<!DOCTYPE html>
<html lang="ko" data-useragent="Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=1106">
<title>{title} : 네이버 뉴스</title>
<meta property="og:url" content="{url}">
<meta property="og:title" content="{title}">
<meta property="og:type" content="article">
<meta property="og:image" content="https://imgnews.pstatic.net/image/999/{aid}.jpg">
<meta property="og:description" content="{description}">
<meta property="og:article:author" content="{publisher} | 네이버">
<meta name="twitter:creator" content="{publisher}">
<meta name="description" content="{description}">
<link rel="stylesheet" type="text/css"
 href="https://ssl.pstatic.net/static.news/pc/css/article.css">
<script type="text/javascript">var g_ssc = "news.v3"; window.__NEWS_CONFIG = {{"oid": "999",
"aid": "{aid}", "sid": "105", "isMobile": false, "commentCount": 0}};</script>
</head>
<body>
<div id="u_skip"><a href="#ct">본문 바로가기</a></div>
<div id="wrap" class="end_page">
<header class="Nlnb"><div class="Nlnb_inner">
<a href="https://news.naver.com" class="Nlogo">NAVER 뉴스</a>
<ul class="Nlist">{nav}</ul></div></header>
<div id="ct_wrap" class="ct_wrap"><div class="ct_scroll_wrapper">
<div id="ct" class="newsct" role="main">
<div class="media_end_head go_trans">
<div class="media_end_head_top">
<a href="https://media.naver.com/press/999" class="media_end_head_top_logo">
<img src="https://mimgnews.pstatic.net/image/upload/office_logo/999.png"
 class="media_end_head_top_logo_img light_type" alt="{publisher}" title="{publisher}"></a>
</div>
<div class="media_end_head_title">
<h2 id="title_area" class="media_end_head_headline"><span>{title}</span></h2></div>
<div class="media_end_head_info nv_notrans"><div class="media_end_head_journalist">
<a href="https://media.naver.com/journalist/999/1" class="media_end_head_journalist_box">
<em class="media_end_head_journalist_name">홍길동 기자</em></a></div>
<div class="media_end_head_info_datestamp"><div class="media_end_head_info_datestamp_bunch">
<span class="media_end_head_info_datestamp_term">입력</span>
<span class="media_end_head_info_datestamp_time _ARTICLE_DATE_TIME"
 data-date-time="{stamp}">{visible}</span></div>
<a href="https://example.com/news/{aid}" class="media_end_head_origin_link"
 target="_blank">기사원문</a></div></div>
</div>
<div id="contents" class="newsct_body">
<div id="newsct_article" class="newsct_article _article_body">
<article id="dic_area" class="go_trans _article_content">{paragraphs}</article></div>
<div class="byline"><p class="byline_p">
<span class="byline_s">홍길동 기자 (reporter@example.com)</span></p></div>
<div class="copyright"><div class="c_inner"><p class="c_text">
Copyright ⓒ {publisher}. All rights reserved. 무단 전재 및 재배포 금지.</p></div></div>
<div class="media_end_categorize"><em class="media_end_categorize_item">IT/과학</em></div>
</div>
<div class="section_component"><h3 class="ranking_title">많이 본 뉴스</h3>
<ul class="rankingnews_list">{related}</ul></div>
</div></div></div>
<footer class="Nfooter"><div class="Nfooter_inner">
<p class="Nfooter_notice">각 기사의 저작권은 해당 언론사에 있습니다.</p>
<address class="Nfooter_address">© NAVER Corp.</address></div></footer>
</div>
</body>
</html>"""


def world_page_parse_cpu(
    articles: list[EvalArticle], parse: Callable[[str, bytes, dict[str, str]], object], repeat: int
) -> tuple[float, float] | None:
    """Return (CPU s per page, mean bytes) parsing the articles rendered by the test world's
    Naver template, which carries the real page's navigation, scripts and footer."""
    try:
        from tracker.world.pages import PageDoc, render_naver
    except ImportError:
        return None
    pages = []
    for index, article in enumerate(articles):
        published = article.published_at or datetime(2026, 1, 1, tzinfo=UTC)
        doc = PageDoc(
            title=article.title,
            paragraphs=tuple(p for p in article.body.split("\n") if p.strip()),
            press="가상일보",
            published_at=published,
            modified_at=None,
            author="김가상",
            email="kim@example.com",
            section="IT/과학",
            sid=105,
            seed=index,
            oid="999",
            aid=f"{index + 1:010d}",
        )
        html = render_naver(
            doc,
            press_home="https://example.com",
            origin_url="https://example.com/a",
            linked=[],
            now=published,
        )
        url = f"https://n.news.naver.com/mnews/article/999/{index + 1:010d}"
        pages.append((url, html.encode("utf-8"), {"Content-Type": "text/html; charset=UTF-8"}))

    def parse_all() -> None:
        for url, body, headers in pages:
            parse(url, body, headers)

    return cpu_time(parse_all, repeat) / len(pages), statistics.mean(len(b) for _, b, _ in pages)


def render_naver_page(article: EvalArticle, index: int) -> tuple[str, bytes, dict[str, str]]:
    """Return (url, body bytes, headers) of a Naver-layout page holding ``article``."""
    aid = f"{index + 1:010d}"
    url = f"https://n.news.naver.com/mnews/article/999/{aid}"
    hour = article.published_at.hour
    visible = article.published_at.strftime("%Y.%m.%d. ") + (
        f"{'오후' if hour >= 12 else '오전'} {hour % 12 or 12}:{article.published_at:%M}"
    )
    page = _PAGE.format(
        title=html.escape(article.title),
        url=url,
        aid=aid,
        description=html.escape(article.body[:150]),
        publisher=html.escape(article.publisher),
        nav=_NAV,
        related=_RELATED,
        stamp=article.published_at.strftime("%Y-%m-%d %H:%M:%S"),
        visible=visible,
        paragraphs="<br><br>".join(html.escape(line) for line in article.body.split("\n")),
    )
    return url, page.encode("utf-8"), {"Content-Type": "text/html; charset=UTF-8"}


def page_parser() -> tuple[str, Callable[[str, bytes, dict[str, str]], object]]:
    """Return (description, parse function) for page-parse timing."""
    try:
        from crawler.extractors import parse_article
    except ImportError:
        import lxml.html

        def fallback(url: str, body: bytes, headers: dict[str, str]) -> object:
            return lxml.html.fromstring(body).text_content()

        return "lxml.html.fromstring + text_content (crawler.extractors not importable)", fallback
    return "crawler.extractors.parse_article", parse_article


REAL_PAGES = {
    # Saved current-layout Naver article pages (see ../shared/real-samples/SOURCES.md); read at
    # run time only, for scale, and skipped when the folder is absent.
    "nnews_mnews_421-0008770777_news1_2026-02-12.html": "https://n.news.naver.com/mnews/article/421/0008770777",
    "nnews_article_437-0000483987_jtbc_2026-03-21.html": "https://n.news.naver.com/article/437/0000483987",
}


def real_page_parse_cpu(
    parse: Callable[[str, bytes, dict[str, str]], object], repeat: int
) -> tuple[float, int] | None:
    """Return (median CPU seconds per page, pages) for the saved real Naver pages, if present."""
    folder = REPO.parent / "shared" / "real-samples" / "naver_article"
    pages = [
        (url, (folder / name).read_bytes())
        for name, url in REAL_PAGES.items()
        if (folder / name).is_file()
    ]
    if not pages:
        return None
    headers = {"Content-Type": "text/html; charset=UTF-8"}

    def parse_all() -> None:
        for url, body in pages:
            parse(url, body, headers)

    return cpu_time(parse_all, repeat) / len(pages), len(pages)


def cpu_time(function: Callable[[], object], repeat: int) -> float:
    """Return the median CPU seconds of ``repeat`` calls to ``function``."""
    samples = []
    for _ in range(repeat):
        started = time.process_time()
        function()
        samples.append(time.process_time() - started)
    return statistics.median(samples)


def kiwi_extractor() -> Callable[[str, str, datetime | None, Entities, str | None], list[Fact]]:
    """Return extract_facts with Korean sentences split by kiwipiepy instead of the regexes."""
    from kiwipiepy import Kiwi

    kiwi = Kiwi()

    def splitter(text: str, language: str, title_end: int):  # type: ignore[no-untyped-def]
        if language != "ko":
            return split_sentences(text, language, title_end)
        spans: list[tuple[int, int]] = []
        offset = 0
        for line in text.split("\n"):
            if line.strip():
                for sentence in kiwi.split_into_sents(line):
                    spans.append((offset + sentence.start, offset + sentence.end))
            offset += len(line) + 1
        return build_sentences(text, spans, language, title_end)

    def extractor(
        title: str, body: str, published: datetime | None, entities: Entities, language: str | None
    ) -> list[Fact]:
        return run(title, body, published, entities, language, splitter)

    return extractor


def print_table(title: str, rows: dict[str, Counts], order: tuple[str, ...]) -> None:
    print(f"\n{title}")
    print(f"  {'':15} {'P':>6} {'R':>6} {'F1':>6} {'TP':>5} {'FP':>4} {'FN':>4}")
    for key in order:
        counts = rows.get(key)
        if counts is None:
            continue
        print(
            f"  {key:15} {counts.precision:6.3f} {counts.recall:6.3f} {counts.f1:6.3f} "
            f"{counts.tp:5d} {counts.fp:4d} {counts.fn:4d}"
        )


def print_report(name: str, report: Report, errors: bool) -> None:
    print(f"\n=== {name}: {report.articles} articles, {report.labels} labelled facts ===")
    print_table("by fact type", report.by_type, FACT_TYPES)
    print_table("by modality", report.by_modality, MODALITIES)
    total = report.total
    print(f"\n  all facts: P={total.precision:.3f} R={total.recall:.3f} F1={total.f1:.3f}")
    print(f"  false asserted eliminations: {report.asserted_false_eliminations}")
    stage = report.by_type.get("stage_outcome", Counts())
    print("\ntargets")
    print(
        f"  stage_outcome precision {stage.precision:.3f} >= {TARGET_STAGE_PRECISION}: "
        f"{'ok' if stage.precision >= TARGET_STAGE_PRECISION else 'MISSED'}"
    )
    print(
        f"  stage_outcome recall    {stage.recall:.3f} >= {TARGET_STAGE_RECALL}: "
        f"{'ok' if stage.recall >= TARGET_STAGE_RECALL else 'MISSED'}"
    )
    for kind in FACT_TYPES[1:]:
        f1 = report.by_type.get(kind, Counts()).f1
        verdict = "ok" if f1 >= TARGET_OTHER_F1 else "MISSED"
        print(f"  {kind:13} F1 {f1:.3f} >= {TARGET_OTHER_F1}: {verdict}")
    if errors:
        print(f"\nerrors ({len(report.errors)})")
        for error in report.errors:
            values = ", ".join(f"{k}={v}" for k, v in error.values.items() if k != "team")
            print(
                f"  [{error.article}] {error.kind} {error.type} {error.subject} ({values}) "
                f"{error.modality}\n      | {error.sentence}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=[*SETS, "all"], default="all")
    parser.add_argument("--repeat", type=int, default=7, help="timing repetitions (median)")
    parser.add_argument("--kiwi", action="store_true", help="also measure kiwipiepy splitting")
    parser.add_argument("--no-errors", action="store_true", help="do not list errors")
    args = parser.parse_args()

    entities = load_entities(REPO / "config" / "entities.yaml")
    names = [n for n in SETS if (args.set in (n, "all")) and (SETS[n] / "articles").is_dir()]
    sets = {name: load_eval_set(SETS[name]) for name in names}
    articles = [a for name in names for a in sets[name]]
    print(
        f"extractor {EXTRACTOR_VERSION}; sets: {', '.join(f'{n} ({len(sets[n])})' for n in names)}"
    )

    for name in names:
        print_report(name, evaluate(sets[name], entities, extract_facts), errors=False)
    combined = evaluate(articles, entities, extract_facts)
    print_report("all sets combined", combined, errors=not args.no_errors)

    # -- speed -----------------------------------------------------------------------------------
    extract_facts(articles[0].title, articles[0].body, articles[0].published_at, entities)

    def extract_all() -> None:
        for a in articles:
            extract_facts(a.title, a.body, a.published_at, entities, a.language)

    extract_cpu = cpu_time(extract_all, args.repeat)
    description, parse = page_parser()
    pages = [render_naver_page(a, i) for i, a in enumerate(articles)]
    mismatched = 0
    for article, (url, body, headers) in zip(articles, pages, strict=True):
        parsed = parse(url, body, headers)
        parsed_title = getattr(parsed, "title", None)
        if parsed_title is not None and parsed_title.strip() != article.title.strip():
            mismatched += 1

    def parse_all() -> None:
        for url, body, headers in pages:
            parse(url, body, headers)

    parse_cpu = cpu_time(parse_all, args.repeat)
    size = statistics.mean(len(body) for _, body, _ in pages)
    print("\nspeed (CPU time, median of", args.repeat, "runs)")
    print(
        f"  extraction: {len(articles) / extract_cpu:8.0f} articles/s "
        f"({extract_cpu / len(articles) * 1000:.3f} ms/article)"
    )
    print(
        f"  page parse: {len(articles) / parse_cpu:8.0f} pages/s "
        f"({parse_cpu / len(articles) * 1000:.3f} ms/page, mean page {size / 1024:.1f} KiB) "
        f"with {description}"
    )
    if mismatched:
        print(f"  note: {mismatched} parsed titles differ from the source titles")
    real = real_page_parse_cpu(parse, args.repeat) if description.startswith("crawler") else None
    if real is not None:
        per_page, count = real
        print(
            f"  for scale: {count} saved real Naver article pages (~230 KiB each) parse in "
            f"{per_page * 1000:.3f} ms/page; extraction / real-page parse = "
            f"{extract_cpu / len(articles) / per_page:.2f}"
        )
    minimal_ratio = extract_cpu / parse_cpu
    print(f"  extraction / minimal-page parse = {minimal_ratio:.2f}")
    world = world_page_parse_cpu(articles, parse, args.repeat)
    if world is not None:
        per_page, size = world
        ratio = extract_cpu / len(articles) / per_page
        print(
            f"  pages in the test world's Naver layout (real page chrome, mean {size / 1024:.1f} "
            f"KiB) parse in {per_page * 1000:.3f} ms/page"
        )
        basis = "world-layout page parse"
    else:
        ratio, basis = minimal_ratio, "minimal-page parse"
    # The target is judged on pages with the real layout's chrome: the minimal page above is an
    # unrealistically small lower bound (real Naver pages are ~230 KiB).
    print(
        f"  extraction CPU / {basis} CPU = {ratio:.2f} (target <= 1): "
        f"{'ok' if ratio <= 1 else 'MISSED'}"
    )

    if args.kiwi:
        extractor = kiwi_extractor()
        kiwi_report = evaluate(articles, entities, extractor)

        def kiwi_all() -> None:
            for a in articles:
                extractor(a.title, a.body, a.published_at, entities, a.language)

        kiwi_cpu = cpu_time(kiwi_all, max(3, args.repeat // 2))
        print("\nkiwipiepy sentence splitting instead of the regex splitter")
        for label, report, cpu in (
            ("regex", combined, extract_cpu),
            ("kiwipiepy", kiwi_report, kiwi_cpu),
        ):
            stage = report.by_type.get("stage_outcome", Counts())
            print(
                f"  {label:10} all-facts F1 {report.total.f1:.3f}  stage_outcome "
                f"P {stage.precision:.3f} R {stage.recall:.3f}  "
                f"{cpu / len(articles) * 1000:.3f} ms/article"
            )
        if args.no_errors is False:
            extra = [e for e in kiwi_report.errors if e not in combined.errors]
            for error in extra:
                print(
                    f"    kiwi-only {error.kind} [{error.article}] {error.type} "
                    f"{error.subject} | {error.sentence}"
                )

    failures = combined.failures()
    if ratio > 1:
        failures.append(f"CPU ratio {ratio:.2f} > 1")
    print("\nresult:", "all targets met" if not failures else "; ".join(failures))
    return 0 if not failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
