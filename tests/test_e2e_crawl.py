"""End to end: the real `tracker crawl` subprocess against the local news world.

The world (tracker/world) serves a Naver-API-compatible endpoint, publisher feeds (one in
EUC-KR), a Google-News-style search feed, the ministry's feed, Naver-layout and publisher pages
and failure routes on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tracker.db import Database
from tracker.models import Article, ArticleSource, ArticleUrl, CrawlRun, Source
from tracker.world.server import NewsWorld

from .conftest import REPO, write_config

pytestmark = pytest.mark.slow

GOOGLE_QUERY = "%EB%8F%85%ED%8C%8C%EB%AA%A8"  # 독파모


@pytest.fixture(scope="module")
def world() -> Iterator[NewsWorld]:
    with NewsWorld() as running:
        yield running


@pytest.fixture(autouse=True)
def fresh_world(world: NewsWorld) -> None:
    world.set_day(None)
    world.api_mode = "ok"
    world.reset_counts()


def world_sources(base: str, extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    return [
        {
            "name": "naver",
            "type": "naver_api",
            "endpoint": f"{base}/v1/search/news.json",
            "queries": ["독파모", "독자 AI 파운데이션 모델"],
        },
        {
            "name": "gnews",
            "type": "rss",
            "url": f"{base}/rss/search?q={GOOGLE_QUERY}&hl=ko&gl=KR&ceid=KR:ko",
        },
        {
            "name": "msit",
            "type": "rss",
            "url": f"{base}/rss/msit.xml",
            "official": True,
            "fetch_all": True,
        },
        {"name": "techwire", "type": "rss", "url": f"{base}/rss/techwire.xml"},
        {"name": "kyungje", "type": "rss", "url": f"{base}/rss/kyungje.xml"},
        {"name": "ktherald", "type": "rss", "url": f"{base}/atom/ktherald.xml"},
        *(extra or []),
    ]


def make_config(
    tmp_path: Path, world: NewsWorld, extra: list[dict[str, Any]] | None = None, **overrides: Any
) -> Path:
    crawl = {
        "download_timeout": 2,
        "retry_times": 1,
        "naver_hosts": ["n.news.naver.com", f"127.0.0.1:{world.port}"],
    }
    crawl.update(overrides.pop("crawl", {}))
    return write_config(
        tmp_path / "cfg", world_sources(world.base_url, extra), crawl=crawl, **overrides
    )


def run_tracker(
    config: Path,
    *args: str,
    keys: bool = True,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment.pop("TRACKER_DATABASE_URL", None)
    if keys:
        environment["NAVER_CLIENT_ID"] = "test-id"
        environment["NAVER_CLIENT_SECRET"] = "test-secret"
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "tracker", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=config.parent,
    )


def article_fetches(world: NewsWorld) -> int:
    """Requests for article pages (Naver copies, publisher pages, Google redirects)."""
    return sum(
        count
        for path, count in world.requests.items()
        if path.startswith(("/mnews/", "/article/", "/pub/", "/rss/articles/"))
        and not path.rstrip("/").count("/") <= 2
    )


def db_for(config: Path) -> Database:
    return Database(f"sqlite:///{config.parent / 'tracker.db'}")


def test_first_crawl_stores_each_article_once_then_rerun_fetches_no_article(
    tmp_path: Path, world: NewsWorld
) -> None:
    config = make_config(tmp_path, world)
    result = run_tracker(config, "crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "crawl summary" in result.stdout
    db = db_for(config)
    with db.begin() as session:
        articles = list(session.scalars(select(Article)))
        titles = [a.title for a in articles]
        # Every stored article is a distinct world article (no duplicates by title).
        assert len(titles) == len(set(titles))
        visible = {a.title for a in world.visible_articles()}
        assert set(titles) <= {t for t in visible} | {_normalized(t) for t in visible}
        # The same article reached through Naver, the publisher feed and Google News is one row
        # with every URL and source recorded.
        multi = session.execute(
            select(ArticleSource.article_id, func.count())
            .group_by(ArticleSource.article_id)
            .having(func.count() >= 3)
        ).all()
        assert multi, "expected an article listed by at least three sources"
        naver_copies = [a for a in world.visible_articles() if a.on_naver]
        assert naver_copies
        for world_article in naver_copies:
            stored = session.scalar(
                select(Article).where(
                    Article.naver_oid == world_article.oid, Article.naver_aid == world_article.aid
                )
            )
            if stored is None:
                continue
            urls = {u.url for u in stored.urls}
            assert any("/pub/" in u for u in urls), urls
        # The EUC-KR outlet decodes to Hangul, not mojibake.
        kyungje = [a for a in articles if a.publisher and "경제" in a.publisher]
        assert kyungje and all("\ufffd" not in a.body for a in kyungje)
        runs = {r.source.name: r for r in session.scalars(select(CrawlRun))}
        assert {name: run.status for name, run in runs.items()} == dict.fromkeys(runs, "ok")
        assert runs["naver"].new > 0 and runs["naver"].listed >= runs["naver"].new
        first_count = len(articles)
    fetched_first = article_fetches(world)
    assert fetched_first >= first_count

    world.reset_counts()
    again = run_tracker(config, "crawl")
    assert again.returncode == 0, again.stderr
    assert article_fetches(world) == 0, world.requests
    # Listings are repeated; feeds answer 304 to the validators kept from the first run.
    assert world.requests["/v1/search/news.json"] >= 2
    assert any(
        h.get("if-none-match") for _, path, h in world.request_log if path.startswith("/rss/")
    )
    with db.begin() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == first_count
    db.dispose()


def _normalized(title: str) -> str:
    from tracker.text import normalize_text

    return normalize_text(title)


def test_new_day_brings_only_new_articles(tmp_path: Path, world: NewsWorld) -> None:
    config = make_config(tmp_path, world)
    world.set_day(3)
    assert run_tracker(config, "crawl").returncode == 0
    db = db_for(config)
    with db.begin() as session:
        day3 = session.scalar(select(func.count()).select_from(Article))
    world.set_day(4)
    world.reset_counts()
    assert run_tracker(config, "crawl").returncode == 0
    with db.begin() as session:
        day4 = session.scalar(select(func.count()).select_from(Article))
        runs = session.scalars(select(CrawlRun).order_by(CrawlRun.id.desc()).limit(6))
        assert sum(r.new for r in runs) == day4 - day3
    assert day4 > day3
    # Only day-4 articles were fetched: no page of days 1-3 was requested again.
    old_paths = {a.path for a in world.articles if a.day <= 3}
    assert not old_paths & set(world.requests)
    db.dispose()


@pytest.mark.parametrize(
    ("api_mode", "message"),
    [
        ("badjson", "malformed JSON"),
        ("500", "HTTP 500"),
        ("429", "HTTP 429"),
    ],
)
def test_api_failures_are_reported_per_source_and_lose_nothing(
    tmp_path: Path, world: NewsWorld, api_mode: str, message: str
) -> None:
    config = make_config(tmp_path, world)
    assert run_tracker(config, "crawl").returncode == 0
    db = db_for(config)
    with db.begin() as session:
        before = session.scalar(select(func.count()).select_from(Article))
    world.api_mode = api_mode
    result = run_tracker(config, "crawl", "--source", "naver")
    assert result.returncode == 1
    assert "naver: failed:" in result.stderr and message in result.stderr, result.stderr
    with db.begin() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == before
    db.dispose()


def test_wrong_api_keys_fail_with_naver_error(tmp_path: Path, world: NewsWorld) -> None:
    config = make_config(tmp_path, world)
    result = run_tracker(
        config,
        "crawl",
        "--source",
        "naver",
        keys=False,
        env={"NAVER_CLIENT_ID": "wrong", "NAVER_CLIENT_SECRET": "wrong"},
    )
    assert result.returncode == 1
    assert "HTTP 401" in result.stderr and "errorCode 024" in result.stderr


def test_missing_api_keys_skip_the_source_with_one_warning(
    tmp_path: Path, world: NewsWorld
) -> None:
    config = make_config(tmp_path, world)
    result = run_tracker(config, "crawl", "--source", "naver", keys=False)
    assert result.returncode == 0
    assert "naver: skipped: set NAVER_CLIENT_ID and NAVER_CLIENT_SECRET" in result.stderr
    assert world.requests["/v1/search/news.json"] == 0


def test_bad_sources_fail_soft_one_line_each(tmp_path: Path, world: NewsWorld) -> None:
    base = world.base_url
    extra = [
        {"name": "notxml", "type": "rss", "url": f"{base}/fail/notxml.xml"},
        {"name": "missing", "type": "rss", "url": f"{base}/fail/404"},
        {"name": "broken", "type": "rss", "url": f"{base}/fail/500"},
        {"name": "hang", "type": "rss", "url": f"{base}/fail/hang"},
        {"name": "empty", "type": "rss", "url": f"{base}/fail/empty"},
        {"name": "unreachable", "type": "rss", "url": "http://127.0.0.1:9/feed.xml"},
    ]
    config = make_config(tmp_path, world, extra)
    result = run_tracker(config, "crawl")
    assert result.returncode == 1
    lines = {
        line.split(":", 1)[0]: line for line in result.stderr.splitlines() if ": failed:" in line
    }
    assert set(lines) == {"notxml", "missing", "broken", "hang", "empty", "unreachable"}, (
        result.stderr
    )
    assert "not a valid RSS/Atom feed" in lines["notxml"]
    assert "HTTP 404" in lines["missing"]
    assert "HTTP 500" in lines["broken"]
    assert "took longer than 2.0 seconds" in lines["hang"]
    assert "feed is empty" in lines["empty"]
    assert "Connection" in lines["unreachable"] or "refused" in lines["unreachable"]
    db = db_for(config)
    with db.begin() as session:
        # The good sources still stored their articles in the same run.
        assert session.scalar(select(func.count()).select_from(Article)) > 0
        statuses = {r.source.name: r.status for r in session.scalars(select(CrawlRun))}
        assert statuses["naver"] == "ok" and statuses["hang"] == "failed"
    db.dispose()


def test_bad_article_pages_are_errors_of_their_item_only(tmp_path: Path, world: NewsWorld) -> None:
    """A feed whose items point at broken pages: each item fails on its own, the rest is kept."""
    feed = _serve_feed(
        world,
        [
            ("독파모 빈 페이지", "/fail/empty"),
            ("독파모 없는 페이지", "/fail/404"),
            ("독파모 잘못된 문자셋", "/fail/wrongcharset"),
            ("독파모 잘린 페이지", "/fail/broken.html"),
        ],
    )
    try:
        config = make_config(tmp_path, world, [{"name": "odd", "type": "rss", "url": feed}])
        result = run_tracker(config, "crawl", "--source", "odd")
        db = db_for(config)
        with db.begin() as session:
            run = session.scalar(select(CrawlRun).join(Source).where(Source.name == "odd"))
            assert run is not None
            assert run.status == "partial"
            assert run.errors == 2, run.messages
            messages = " ".join(run.messages)
            assert "/fail/404: HTTP 404" in messages
            assert "/fail/empty" in messages
            stored = list(session.scalars(select(Article)))
            # The mislabelled cp949 page and the truncated page still give readable articles.
            assert len(stored) == 2
            assert all("\ufffd" not in a.body and "독" in a.body + a.title for a in stored)
        db.dispose()
        assert result.returncode == 1
    finally:
        feed_server.shutdown()


feed_server: ThreadingHTTPServer


def _serve_feed(world: NewsWorld, items: list[tuple[str, str]]) -> str:
    """Serve one RSS feed whose items link to world URLs; return its URL."""
    global feed_server
    entries = "".join(
        f"<item><title>{title}</title><link>{world.base_url}{path}</link></item>"
        for title, path in items
    )
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>odd</title>'
        f"{entries}</channel></rss>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    feed_server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=feed_server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{feed_server.server_address[1]}/feed.xml"


def test_proxy_environment_is_honoured(tmp_path: Path, world: NewsWorld) -> None:
    """With http_proxy set, a request for a host outside no_proxy goes through the proxy."""
    seen: list[str] = []
    feed = (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>p</title>'
        "<item><title>독파모 프록시</title><link>http://feeds.example.invalid/a/1</link></item>"
        "</channel></rss>"
    ).encode()

    class Proxy(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200 if self.path.endswith(".xml") else 404)
            self.send_header("Content-Type", "application/rss+xml")
            payload = feed if self.path.endswith(".xml") else b""
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        config = make_config(
            tmp_path,
            world,
            [{"name": "proxied", "type": "rss", "url": "http://feeds.example.invalid/f.xml"}],
        )
        proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
        run_tracker(
            config,
            "crawl",
            "--source",
            "proxied",
            "--source",
            "msit",
            env={"http_proxy": proxy_url, "no_proxy": "127.0.0.1,localhost"},
        )
    finally:
        proxy.shutdown()
    # Proxied requests carry the absolute URL in the request line.
    assert "http://feeds.example.invalid/f.xml" in seen
    assert "http://feeds.example.invalid/a/1" in seen
    # no_proxy: the local world's feed was fetched directly, never through the proxy.
    assert not any("127.0.0.1" in path for path in seen)
    assert world.requests["/rss/msit.xml"] == 1


def test_scrapy_crawl_works_from_the_repo_root(tmp_path: Path, world: NewsWorld) -> None:
    config = make_config(tmp_path, world)
    environment = dict(os.environ, TRACKER_CONFIG=str(config))
    environment.pop("TRACKER_DATABASE_URL", None)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "news",
            "-a",
            "sources=msit",
            "-s",
            "LOG_LEVEL=WARNING",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        env=environment,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    db = db_for(config)
    with db.begin() as session:
        runs = list(session.scalars(select(CrawlRun)))
        assert [r.source.name for r in runs] == ["msit"] and runs[0].status == "ok"
        assert session.scalar(select(func.count()).select_from(ArticleUrl)) > 0
    db.dispose()


def test_crawl_progress_events_are_json_lines(tmp_path: Path, world: NewsWorld) -> None:
    from tracker.config import load_config
    from tracker.runner import run_crawl

    config = load_config(make_config(tmp_path, world))
    os.environ["TRACKER_HOME"] = str(tmp_path)
    events: list[dict[str, Any]] = []
    result = run_crawl(config, ["msit"], on_event=events.append, log_dir=tmp_path)
    assert result.returncode == 0
    assert events[0] == {"event": "start", "sources": ["msit"]}
    assert any(e["event"] == "count" and e["counter"] == "listed" for e in events)
    assert events[-1]["event"] == "finished" and events[-1]["status"] == "ok"
    json.dumps(events)


def test_facts_are_extracted_during_the_crawl_and_reextract_reproduces_them(
    tmp_path: Path, world: NewsWorld
) -> None:
    config = make_config(tmp_path, world)
    world.set_day(4)
    assert run_tracker(config, "crawl").returncode == 0
    result = run_tracker(config, "facts", "--json", "--type", "stage_outcome")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    asserted_out = {
        f["subject"]
        for f in facts
        if f["modality"] == "asserted" and f["values"]["status"] == "eliminated"
    }
    # Day 4's official results eliminate two teams; day 3's rumour names one of them. Nothing
    # from day 2's speculation ("누가 탈락할지") is an asserted elimination of anyone else.
    assert asserted_out == {"네이버클라우드", "NC AI"}, facts
    assert all(f["sentence"] and f["extractor_version"] for f in facts)
    advanced = {
        f["subject"]
        for f in facts
        if f["values"]["status"] == "advanced" and f["modality"] == "asserted"
    }
    assert {"LG AI연구원", "SK텔레콤", "업스테이지"} <= advanced
    everything = json.loads(run_tracker(config, "facts", "--json", "--limit", "10000").stdout)
    again = run_tracker(config, "reextract")
    assert again.returncode == 0 and f"{len(everything)} now" in again.stdout, again.stdout
    after = json.loads(run_tracker(config, "facts", "--json", "--limit", "10000").stdout)
    key = lambda f: (f["article_id"], f["type"], f["subject"], f["start"], json.dumps(f["values"]))  # noqa: E731
    assert sorted(map(key, after)) == sorted(map(key, everything))


def test_writer_thread_and_writer_process_store_the_same(tmp_path: Path, world: NewsWorld) -> None:
    """crawl.store_writer: the archive writer as a thread (the default) or as its own process
    stores the same articles, stories and facts."""
    world.set_day(4)
    stored = {}
    for kind in ("thread", "process"):
        config = make_config(tmp_path / kind, world, crawl={"store_writer": kind})
        result = run_tracker(config, "crawl")
        assert result.returncode == 0, result.stdout + result.stderr
        facts = json.loads(run_tracker(config, "facts", "--json", "--limit", "10000").stdout)
        with db_for(config).begin() as session:
            stories: dict[int | None, set[str]] = {}
            for article in session.scalars(select(Article)):
                stories.setdefault(article.story_id, set()).add(article.content_hash)
        # Which copy of an article arrives first (and so which title is kept) and which
        # article of a story comes first may differ between runs: compare the content, the
        # story groups and what the facts are about.
        groups = sorted(sorted(members) for members in stories.values())
        stored[kind] = (groups, {(f["type"], f["subject"]) for f in facts})
    assert stored["thread"][0] and stored["thread"][1]
    assert stored["thread"] == stored["process"]


def test_crawl_into_postgresql(tmp_path: Path, world: NewsWorld, postgres_url: str) -> None:
    """The same crawl with PostgreSQL as the store: stored once, re-run fetches no article."""
    config = make_config(tmp_path, world)
    world.set_day(4)
    env = {"TRACKER_DATABASE_URL": postgres_url}
    first = run_tracker(config, "crawl", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    db = Database(postgres_url)
    with db.begin() as session:
        count = session.scalar(select(func.count()).select_from(Article))
        titles = list(session.scalars(select(Article.title)))
        assert count and len(titles) == len(set(titles))
    world.reset_counts()
    again = run_tracker(config, "crawl", env=env)
    assert again.returncode == 0, again.stderr
    assert article_fetches(world) == 0
    with db.begin() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == count
    facts = json.loads(run_tracker(config, "facts", "--json", env=env).stdout)
    assert any(f["modality"] == "asserted" for f in facts)
    db.dispose()


def test_msit_board_source_reads_releases_and_their_pdfs(tmp_path: Path, world: NewsWorld) -> None:
    """The ministry's board: list rows → view pages → PDF text; official; re-run fetches none."""
    world.set_day(5)
    board = {
        "name": "board",
        "type": "msit_board",
        "url": f"{world.base_url}/bbs/list.do?sCode=user&mPid=208&mId=307",
        "pages": 3,
    }
    config = make_config(tmp_path, world, [board])
    result = run_tracker(config, "crawl", "--source", "board")
    assert result.returncode == 0, result.stdout + result.stderr
    db = db_for(config)
    with db.begin() as session:
        stored = list(session.scalars(select(Article)))
        results = [a for a in stored if "1차 단계평가 결과" in a.title]
        assert results, [a.title for a in stored]
        # The scores are only in that release's PDF attachment.
        assert "72.6" in results[0].body
        assert all(a.publisher == "과학기술정보통신부" for a in stored)
        source = session.scalar(select(Source).where(Source.name == "board"))
        assert source is not None and source.official
    facts = json.loads(run_tracker(config, "facts", "--json", "--type", "score").stdout)
    assert any(f["subject"] == "NC AI" and f["values"]["value"] == 72.6 for f in facts)
    world.reset_counts()
    assert run_tracker(config, "crawl", "--source", "board").returncode == 0
    assert not [p for p in world.requests if p.startswith(("/bbs/view.do", "/ssm/file"))]
    db.dispose()
