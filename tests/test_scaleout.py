"""Scale-out: several `tracker crawl --run-key KEY` processes share one crawl through Redis.

The end-to-end test runs a single-process crawl of a local news world as the reference, then
three real crawl processes sharing one frontier (Redis) and one PostgreSQL database, and checks
that no page was requested twice, that the same articles were stored with the same sources,
and that the work was really shared. The other tests pin the frontier's Redis protocol.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
import urllib.request
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import scrapy
from sqlalchemy import func, select

from crawler.frontier import (
    Frontier,
    FrontierDupeFilter,
    FrontierQueue,
    Link,
    attach_late_links,
)
from tracker.archive import store_article
from tracker.article import ParsedArticle
from tracker.articles import prepare_article
from tracker.config import FrontierConfig
from tracker.db import Database
from tracker.models import (
    Article,
    ArticleSource,
    ArticleUrl,
    CrawlRun,
    FetchFailure,
    ListingState,
    Source,
)
from tracker.store import get_or_create_source
from tracker.world.catalog import normalize_path
from tracker.world.server import NewsWorld

from .conftest import require_service, write_config
from .test_e2e_crawl import world_sources as storyline_sources

REDIS_URL = os.environ.get("TRACKER_TEST_REDIS", "redis://127.0.0.1:6379/0")
GEN_SOURCES = frozenset({"gen-a", "gen-b", "gen-naver", "gen-api"})
LISTING_PATHS = ("/v1/search/", "/gen/v1/search/", "/gen/feed.xml", "/rss/search", "/atom/")


def _redis_problem() -> str | None:
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        client.ping()
        client.close()
    except (redis.RedisError, OSError) as exc:
        return str(exc).splitlines()[0]
    return None


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the test Redis; its keys are deleted afterwards."""
    import redis

    require_service(f"Redis at {REDIS_URL}", _redis_problem())
    prefix = f"tracker-test-{uuid.uuid4().hex[:8]}"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)
    client.close()


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def world() -> Iterator[NewsWorld]:
    with NewsWorld(generated=300) as running:
        yield running


def world_sources(base: str) -> list[dict[str, Any]]:
    """The storyline's sources plus generated feeds and an API listing overlapping articles."""
    gen = f"{base}/gen/feed.xml"
    generated: list[dict[str, Any]] = [
        # Generated articles 299…100 and 199…0: a hundred listed by both.
        {"name": "gen-a", "type": "rss", "url": f"{gen}?offset=0&limit=200", "fetch_all": True},
        {"name": "gen-b", "type": "rss", "url": f"{gen}?offset=100&limit=200", "fetch_all": True},
        # Naver-layout copies of 149…0, and the API over all 300 (Naver link + publisher link).
        {
            "name": "gen-naver",
            "type": "rss",
            "url": f"{gen}?offset=150&limit=150&layout=naver",
            "fetch_all": True,
        },
        {
            "name": "gen-api",
            "type": "naver_api",
            "endpoint": f"{base}/gen/v1/search/news.json",
            "queries": ["독파모"],
        },
    ]
    return storyline_sources(base, generated)


def make_config(directory: Path, world: NewsWorld, prefix: str | None = None) -> Path:
    crawl: dict[str, Any] = {
        "download_timeout": 15,
        "retry_times": 1,
        # Three crawls share two cores here: parse inline rather than in one more process each.
        "parse_workers": 0,
        "naver_hosts": ["n.news.naver.com", f"127.0.0.1:{world.port}"],
    }
    if prefix is not None:
        crawl["frontier"] = {"redis_url": REDIS_URL, "key_prefix": prefix}
    return write_config(directory, world_sources(world.base_url), crawl=crawl)


def tracker_env(database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ, NAVER_CLIENT_ID="test-id", NAVER_CLIENT_SECRET="test-secret")
    env.pop("TRACKER_DATABASE_URL", None)
    if database_url:
        env["TRACKER_DATABASE_URL"] = database_url
    return env


def start_crawl(config: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracker", "-q", "--config", str(config), "crawl", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=config.parent,
    )


def finish(processes: list[subprocess.Popen[str]]) -> list[tuple[int, str]]:
    results = []
    for process in processes:
        out, err = process.communicate(timeout=280)
        results.append((process.returncode, out + err))
    return results


def requested(world: NewsWorld) -> Counter[str]:
    """GET requests per page (tracking parameters dropped, so two links to one page are one)."""
    return Counter(normalize_path(target) for method, target, _ in world.request_log)


def is_listing(target: str) -> bool:
    path = target.split("?", 1)[0]
    return path.startswith(LISTING_PATHS) or (path.startswith("/rss/") and path.endswith(".xml"))


def is_redirect(target: str) -> bool:
    return target.startswith("/rss/articles/")


@dataclass(frozen=True)
class Stored:
    """A stored article: its title, the sources that listed it and every URL it is known by."""

    title: str
    sources: frozenset[str]
    urls: frozenset[str]


def stored(db: Database) -> tuple[list[Stored], set[tuple[str, str]]]:
    """Return the stored articles and the saved listing states (source, listing key)."""
    with db.begin() as session:
        sources: dict[int, set[str]] = defaultdict(set)
        for article_id, name in session.execute(
            select(ArticleSource.article_id, Source.name).join(
                Source, Source.id == ArticleSource.source_id
            )
        ):
            sources[article_id].add(name)
        urls: dict[int, set[str]] = defaultdict(set)
        for article_id, url in session.execute(select(ArticleUrl.article_id, ArticleUrl.url)):
            urls[article_id].add(url)
        articles = [
            Stored(title, frozenset(sources[article_id]), frozenset(urls[article_id]))
            for article_id, title in session.execute(select(Article.id, Article.title))
        ]
        states = {
            (name, url)
            for name, url in session.execute(
                select(Source.name, ListingState.url).join(
                    Source, Source.id == ListingState.source_id
                )
            )
        }
    return articles, states


def match_articles(reference: list[Stored], shared: list[Stored]) -> list[tuple[Stored, Stored]]:
    """Pair each reference article with the one shared-crawl article sharing a URL with it."""
    by_url = {url: article for article in shared for url in article.urls}
    pairs = []
    for article in reference:
        matches = {by_url[url] for url in article.urls if url in by_url}
        assert len(matches) == 1, (article, matches)
        pairs.append((article, matches.pop()))
    return pairs


GEN_PAGE = re.compile(r"/gen/(?:naver|publisher)/(\d+)$")


def gen_sources(article: Stored, api_hits: set[int]) -> frozenset[str]:
    """Return the generated sources that list the generated documents of ``article``."""
    expected = set()
    for url in article.urls:
        match = GEN_PAGE.search(url)
        if match is None:
            continue
        index = int(match.group(1))
        expected |= {
            name
            for name, listed in (
                ("gen-a", 100 <= index <= 299),
                ("gen-b", index <= 199),
                ("gen-naver", index <= 149),
                ("gen-api", index in api_hits),
            )
            if listed
        }
    return frozenset(expected)


def api_hits(world: NewsWorld) -> set[int]:
    """Return the generated documents the gen-api source's query finds."""
    hits: set[int] = set()
    for start in range(1, 1000, 100):
        request = urllib.request.Request(
            f"{world.base_url}/gen/v1/search/news.json?query=%EB%8F%85%ED%8C%8C%EB%AA%A8"
            f"&display=100&start={start}&sort=date",
            headers={"X-Naver-Client-Id": "test-id", "X-Naver-Client-Secret": "test-secret"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            items = json.load(response)["items"]
        hits |= {int(item["link"].rsplit("/", 1)[1]) for item in items}
        if len(items) < 100:
            return hits
    return hits


@pytest.mark.slow
def test_three_processes_share_one_crawl(
    tmp_path: Path, world: NewsWorld, postgres_url: str, redis_prefix: str
) -> None:
    import redis

    # The reference: one process, Scrapy's own scheduler, its own SQLite database.
    world.reset_counts()
    single_config = make_config(tmp_path / "single", world)
    single = start_crawl(single_config, tracker_env())
    [(code, output)] = finish([single])
    assert code == 0, output[-3000:]
    single_db = Database(f"sqlite:///{tmp_path / 'single' / 'tracker.db'}")
    reference, expected_states = stored(single_db)
    single_db.dispose()
    assert len(reference) > 250

    # Three processes joining one crawl, one PostgreSQL database.
    world.reset_counts()
    config = make_config(tmp_path / "shared", world, redis_prefix)
    env = tracker_env(postgres_url)
    run_key = f"t-{uuid.uuid4().hex[:8]}"
    results = finish([start_crawl(config, env, "--run-key", run_key) for _ in range(3)])
    for code, output in results:
        assert code == 0, output[-3000:]
        assert "Traceback" not in output

    # Every page was requested once: article pages, and listings once per crawl, not once per
    # process. (A single process requests a page twice when a Google News link and the
    # publisher's feed lead to it; here the redirect is merged into the first request.)
    counts = requested(world)
    twice = {target: n for target, n in counts.items() if n > 1}
    assert not twice, twice
    pages = {t for t in counts if not is_listing(t)}
    listings = {t for t in counts if is_listing(t)}
    assert len(pages) > 300 and len(listings) >= 10

    # The same articles as the single process stored, each with (at least) the same sources:
    # a single process loses a listing that arrives while its article is between fetch and
    # store; here it is merged at the fetch or attached when the crawl ends.
    db = Database(postgres_url)
    articles, states = stored(db)
    # (Titles may differ: of two copies of a story, the first stored gives the article's.)
    pairs = match_articles(reference, articles)
    assert len(articles) == len(reference) == len({id(article) for _, article in pairs})
    for single_article, article in pairs:
        assert article.sources >= single_article.sources, (single_article, article)
    # And exactly the sources that list it, for the generated corpus, where that is known.
    hits = api_hits(world)
    for article in articles:
        assert article.sources & GEN_SOURCES == gen_sources(article, hits), article
    assert states == expected_states
    with db.begin() as session:
        total = session.scalar(select(func.count()).select_from(Article))
        for column in (Article.content_hash, Article.canonical_url):
            assert session.scalar(select(func.count(func.distinct(column)))) == total
        naver = session.execute(
            select(Article.naver_oid, Article.naver_aid).where(Article.naver_oid.is_not(None))
        ).all()
        assert len(naver) == len(set(naver))
        # The work was shared: each process recorded its own runs and fetched a part.
        fetched = dict(
            session.execute(
                select(CrawlRun.run_group, func.sum(CrawlRun.fetched)).group_by(CrawlRun.run_group)
            ).all()
        )
        # Each feed was read by exactly one process (API pages may be read by several).
        listed_by = Counter(
            name
            for name, listed in session.execute(
                select(Source.name, CrawlRun.listed).join(Source, Source.id == CrawlRun.source_id)
            )
            if listed
        )
    db.dispose()
    assert len(fetched) == 3
    assert sum(1 for n in fetched.values() if n) >= 2, fetched
    article_pages = [t for t in pages if not is_redirect(t)]
    assert sum(fetched.values()) == len(article_pages)
    feeds = {s["name"] for s in world_sources(world.base_url) if s["type"] == "rss"}
    assert {name: listed_by[name] for name in feeds} == dict.fromkeys(feeds, 1), listed_by

    # The last process out deleted the crawl's keys, keeping only the "over" marker.
    client = redis.Redis.from_url(REDIS_URL)
    left = {key.decode() for key in client.scan_iter(f"{redis_prefix}:*")}
    assert left == {f"{redis_prefix}:{run_key}:done"}
    assert client.ttl(f"{redis_prefix}:{run_key}:done") > 0
    client.close()

    # A process joining the finished crawl does nothing.
    world.reset_counts()
    [(code, output)] = finish([start_crawl(config, env, "--run-key", run_key)])
    assert code == 0, output[-3000:]
    assert "was already over" in output
    assert not world.request_log

    # A new crawl (new key) fetches no article page: the listing states were saved.
    world.reset_counts()
    again = f"t-{uuid.uuid4().hex[:8]}"
    results = finish([start_crawl(config, env, "--run-key", again) for _ in range(2)])
    assert [code for code, _ in results] == [0, 0], results
    assert not [t for t in requested(world) if not is_listing(t)]
    assert any(
        headers.get("if-none-match")
        for _, target, headers in world.request_log
        if target.startswith("/rss/")
    )


@pytest.mark.slow
def test_ministry_board_and_its_pdfs_across_two_processes(
    tmp_path: Path, world: NewsWorld, postgres_url: str, redis_prefix: str
) -> None:
    """List page → view page → PDF: each step may run in another process than the last."""
    board = {
        "name": "board",
        "type": "msit_board",
        "url": f"{world.base_url}/bbs/list.do?sCode=user&mPid=208&mId=307",
        "pages": 3,
    }
    crawl = {
        "download_timeout": 15,
        "parse_workers": 0,
        "frontier": {"redis_url": REDIS_URL, "key_prefix": redis_prefix},
    }
    config = write_config(tmp_path / "board", [board], crawl=crawl)
    world.set_day(5)
    world.reset_counts()
    try:
        env = tracker_env(postgres_url)
        results = finish([start_crawl(config, env, "--run-key", "board") for _ in range(2)])
    finally:
        world.set_day(None)
    assert [code for code, _ in results] == [0, 0], results
    counts = requested(world)
    assert counts and max(counts.values()) == 1, counts
    views = [t for t in counts if t.startswith("/bbs/view.do")]
    assert views and any(t.startswith("/ssm/file/") for t in counts)
    db = Database(postgres_url)
    with db.begin() as session:
        releases = list(session.scalars(select(Article)))
        # Every view page gave a release, or was dropped for want of a keyword.
        filtered = session.scalar(
            select(func.count()).select_from(FetchFailure).where(FetchFailure.kind == "filtered")
        )
        assert len(releases) >= 2 and len(releases) + filtered == len(views)
        results_release = [a for a in releases if "1차 단계평가 결과" in a.title]
        # The scores are only in that release's PDF attachment.
        assert results_release and "72.6" in results_release[0].body
        sources = set(session.scalars(select(Source.name).join(ArticleSource)))
        assert sources == {"board"}
    db.dispose()


# --------------------------------------------------------------------------- the CLI


def run_cli(config: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = subprocess.run(
        [sys.executable, "-m", "tracker", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=env or tracker_env(),
        cwd=config.parent,
    )
    return result.returncode, result.stdout + result.stderr


def test_unreachable_frontier_is_one_line_and_exit_1(tmp_path: Path) -> None:
    config = write_config(tmp_path, [{"name": "f", "type": "rss", "url": "http://127.0.0.1:9/"}])
    env = tracker_env("postgresql+psycopg://postgres@127.0.0.1:9/none")
    code, output = run_cli(
        config, "crawl", "--run-key", "k1", "--frontier", "redis://127.0.0.1:9/0", env=env
    )
    assert code == 1
    [line] = output.strip().splitlines()
    assert line.startswith("error: frontier redis://127.0.0.1:9/0 is unreachable: "), output


@pytest.mark.parametrize(
    ("args", "database", "message"),
    [
        (["--frontier", "redis://127.0.0.1:6379/0"], "pg", "--frontier needs --run-key"),
        (["--run-key", "k1"], "pg", "--run-key needs a frontier"),
        (["--run-key", "bad key"], "pg", "Invalid value for --run-key"),
        (["--run-key", "k1", "--frontier", "http://x/"], "pg", "expected a redis://"),
        (["--run-key", "k1", "--frontier", "redis://127.0.0.1:6379/0"], None, "PostgreSQL"),
    ],
)
def test_frontier_usage_errors_exit_2(
    tmp_path: Path, args: list[str], database: str | None, message: str
) -> None:
    config = write_config(tmp_path, [{"name": "f", "type": "rss", "url": "http://127.0.0.1:9/"}])
    env = tracker_env("postgresql+psycopg://postgres@127.0.0.1:9/none" if database else None)
    code, output = run_cli(config, "crawl", *args, env=env)
    assert code == 2 and message in output, output
    assert "Traceback" not in output


def test_frontier_config_block_is_validated(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        [{"name": "f", "type": "rss", "url": "http://127.0.0.1:9/"}],
        crawl={"frontier": {"redis_url": "http://127.0.0.1/", "colour": "red"}},
    )
    code, output = run_cli(config, "sources")
    assert code == 2
    assert f"{config}: crawl.frontier.redis_url: Value error, expected a redis://" in output
    assert f"{config}: crawl.frontier.colour: unknown key" in output


# --------------------------------------------------------------------------- the protocol


def frontier(prefix: str, run_key: str = "k") -> Frontier:
    return Frontier(
        REDIS_URL, run_key, FrontierConfig(redis_url=REDIS_URL, key_prefix=prefix, lease=5)
    )


def test_claims_link_later_listings_to_the_first(redis_prefix: str) -> None:
    a, b = frontier(redis_prefix), frontier(redis_prefix)
    assert a.claim("https://p.example/1", Link("feed", ("https://p.example/1",))) is None
    # Another process lists the same URL: it is linked to the owner, not requested again.
    assert b.claim("https://p.example/1", Link("api", ("https://p.example/1", "n"))) == (
        "https://p.example/1"
    )
    # Whoever fetches the owner gets every listing so far; the seal is repeatable (a retry).
    assert b.seal("https://p.example/1") == [Link("api", ("https://p.example/1", "n"))]
    assert a.seal("https://p.example/1") == b.seal("https://p.example/1")
    # A listing after the fetch is kept for the last process.
    assert a.claim("https://p.example/1", Link("late", ("x",))) == "https://p.example/1"
    assert a.outcome().late == [("https://p.example/1", Link("late", ("x",)))]


def test_a_redirect_onto_a_claimed_url_merges_into_its_owner(redis_prefix: str) -> None:
    f = frontier(redis_prefix)
    assert f.claim("https://g.example/t", Link("gnews", ("https://g.example/t",))) is None
    assert f.claim("https://g.example/t", Link("other", ("https://g.example/t",))) is not None
    assert f.claim("https://p.example/1", Link("feed", ("https://p.example/1",))) is None
    # The Google link redirects to the publisher page another request owns: merged into it,
    # with what was linked to it.
    link = Link("gnews", ("https://g.example/t",))
    assert f.follow("https://g.example/t", "https://p.example/1", link) == "https://p.example/1"
    assert {x.source for x in f.seal("https://p.example/1")} == {"gnews", "other"}
    # Later listings of the merged URL reach the owner too.
    assert f.claim("https://g.example/t", Link("more", ())) == "https://p.example/1"
    # A redirect onto an unclaimed URL claims it for the redirected request.
    assert f.claim("https://g.example/u", Link("gnews", ())) is None
    assert f.follow("https://g.example/u", "https://p.example/2", Link("gnews", ())) is None
    assert f.claim("https://p.example/2", Link("feed", ())) == "https://g.example/u"


def test_processes_end_together_and_the_last_one_ends_the_crawl(redis_prefix: str) -> None:
    a, b = frontier(redis_prefix), frontier(redis_prefix)
    assert a.join() and b.join()
    a.server.zadd(a.key("requests"), {b"request": 0})
    assert a.idle() == "work"
    assert b.pop() == b"request"  # b is busy with it
    assert a.idle() == "wait"
    assert b.idle() == "done" and a.idle() == "done"
    assert a.leave() is False  # b is still there
    b.publish([("feed", 1, "https://p.example/feed.xml", "etag", None)], ["api"])
    assert b.leave() is True
    outcome = b.outcome()
    assert outcome.listings == {("feed", 1, "https://p.example/feed.xml"): ("etag", None)}
    assert outcome.dirty == {"api"} and not outcome.vanished
    b.clear()
    # The crawl is over: joining it does nothing.
    assert frontier(redis_prefix).join() is False
    for f in (a, b):
        f.close()


def test_a_vanished_process_does_not_hold_the_crawl(redis_prefix: str) -> None:
    a, gone = frontier(redis_prefix), frontier(redis_prefix)
    assert a.join() and gone.join()
    gone.server.delete(gone.worker_key)  # its lease ran out
    assert a.idle() == "done"
    assert a.leave() is True
    assert a.outcome().vanished == {gone.worker}


class _Spider(scrapy.Spider):
    name = "s"

    def parse_page(self, response: Any) -> None:
        pass


def test_queued_requests_keep_spider_callbacks_and_no_secrets(
    redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    spider = _Spider()
    queue = FrontierQueue(server, spider, f"{redis_prefix}:q")
    request = scrapy.Request(
        "https://api.example/search",
        callback=spider.parse_page,
        headers={"X-Secret": "s3cret", "Accept": "a"},
        meta={"env_headers": {"X-Secret": "TEST_SECRET"}, "source": "api"},
        cb_kwargs={"link": Link("api", ("u",))},
    )
    queue.push(request)
    [raw] = server.zrange(f"{redis_prefix}:q", 0, 0)
    assert b"s3cret" not in raw
    assert pickle.loads(raw)["callback"] == "parse_page"
    monkeypatch.setenv("TEST_SECRET", "from-env")
    popped = queue.pop()
    assert popped is not None and popped.callback == spider.parse_page
    assert popped.headers["X-Secret"] == b"from-env" and popped.headers["Accept"] == b"a"
    assert popped.cb_kwargs == {"link": Link("api", ("u",))}
    server.close()


def test_a_listing_is_fetched_once_per_source_and_crawl(redis_prefix: str) -> None:
    import redis

    server = redis.Redis.from_url(REDIS_URL)
    seen = FrontierDupeFilter(server, key=f"{redis_prefix}:df").request_seen
    feed = "https://p.example/feed.xml"
    assert not seen(scrapy.Request(feed, meta={"source": "a"}))
    assert seen(scrapy.Request(feed, meta={"source": "a"}))  # another process listed it
    # Another source with the same feed URL reads it too, as in a single process.
    assert not seen(scrapy.Request(feed, meta={"source": "b"}))
    server.close()


def test_late_listings_are_attached_to_the_stored_article(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'late.db'}")
    parsed = ParsedArticle(url="https://p.example/1", title="독파모", body="독파모 본문입니다.")
    with db.begin() as session:
        feed = get_or_create_source(session, "feed", "rss", False).id
        api = get_or_create_source(session, "api", "naver_api", False).id
        article_id = store_article(session, prepare_article(parsed, ()), feed).article_id
    late = [
        ("https://p.example/1", Link("api", ("https://p.example/1?utm_source=x", "https://a/2"))),
        ("https://p.example/missing", Link("api", ("https://p.example/missing",))),
    ]
    with db.begin() as session:
        attached = attach_late_links(session, late, {"feed": feed, "api": api}, ())
    assert attached == 1
    with db.begin() as session:
        pairs = set(session.execute(select(ArticleSource.article_id, ArticleSource.source_id)))
        urls = set(
            session.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == article_id))
        )
    assert pairs == {(article_id, feed), (article_id, api)}
    assert "https://a/2" in urls
    db.dispose()
