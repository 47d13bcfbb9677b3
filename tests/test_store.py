"""Storage: dedupe by Naver id, canonical URL, URL alias and content hash; near-duplicate stories.

Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tracker import archive
from tracker.archive import (
    LeadKeys,
    NearDuplicateSettings,
    Pending,
    store_article,
    store_batch,
    triage_leads,
)
from tracker.article import ParsedArticle
from tracker.articles import prepare_article
from tracker.db import Database
from tracker.models import (
    Article,
    ArticleBand,
    ArticleSignature,
    ArticleSource,
    ArticleUrl,
    FetchFailure,
    Source,
)
from tracker.store import (
    clear_fetch_failure,
    failure_key,
    get_or_create_source,
    record_fetch_failure,
)
from tracker.text import band_hashes, minhash_signature
from tracker.urls import canonical_url

HOSTS = ("n.news.naver.com", "news.naver.com")
KST = timezone(timedelta(hours=9))
BODY = (
    "과학기술정보통신부는 독자 AI 파운데이션 모델 1차 단계평가 결과를 공개했다. 다섯 개 정예팀 가운데 "
    "네 팀이 다음 단계로 올라갔고 한 팀은 기준을 넘지 못했다. 정부는 추가 공모로 빈자리를 채울 계획이다. "
    "평가는 벤치마크 점수와 전문가 평가, 사용자 평가를 합산하는 방식으로 진행됐다."
)


def parsed(url: str, body: str = BODY, **kw: object) -> ParsedArticle:
    return ParsedArticle(
        url=url,
        title="정예팀 1차 평가 결과",
        body=body,
        publisher="가상일보",
        published_at=datetime(2026, 1, 15, 10, 0, tzinfo=KST),
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    yield database
    database.dispose()


def _source(db: Database, name: str = "feed") -> int:
    with db.begin() as session:
        return get_or_create_source(session, name, "rss", False).id


def test_new_then_duplicate_by_url_alias_and_sources_recorded(db: Database) -> None:
    feed, api = _source(db, "feed"), _source(db, "api")
    naver = parsed(
        "https://n.news.naver.com/mnews/article/001/0000000001?sid=105",
        original_url="https://pub.example/news/1?utm_source=naver",
        naver_oid="001",
        naver_aid="0000000001",
    )
    with db.begin() as session:
        first = store_article(session, prepare_article(naver, HOSTS), api)
    assert first.status == "new" and first.story_id == first.article_id
    # The publisher's own page, reached later through its feed: same article, no second row.
    publisher = parsed("https://pub.example/news/1", body=BODY + " 추가 문장.")
    with db.begin() as session:
        second = store_article(session, prepare_article(publisher, HOSTS), feed)
        assert second.status == "duplicate" and second.reason == "url"
        assert second.article_id == first.article_id
        assert session.scalar(select(func.count()).select_from(Article)) == 1
        sources = session.scalars(
            select(ArticleSource.source_id).where(ArticleSource.article_id == first.article_id)
        )
        assert set(sources) == {feed, api}
        urls = set(session.scalars(select(ArticleUrl.url)))
        assert "https://pub.example/news/1" in urls
        assert "https://n.news.naver.com/mnews/article/001/0000000001" in urls


def test_duplicate_by_content_hash_under_unrelated_url(db: Database) -> None:
    source = _source(db)
    with db.begin() as session:
        store_article(session, prepare_article(parsed("https://a.example/1"), HOSTS), source)
    copy = parsed("https://b.example/other-path", body="(서울=가상뉴스) 김가상 기자 = " + BODY)
    with db.begin() as session:
        outcome = store_article(session, prepare_article(copy, HOSTS), source)
        assert outcome.status == "duplicate" and outcome.reason == "content_hash"
        [triage] = triage_leads(session, [LeadKeys(["https://b.example/other-path"])], 3, "k")
        assert triage.known_article_id == outcome.article_id


def test_duplicate_by_naver_id_from_legacy_url(db: Database) -> None:
    source = _source(db)
    modern = parsed("https://n.news.naver.com/mnews/article/009/0000000123")
    legacy = parsed(
        "https://news.naver.com/main/read.naver?oid=009&aid=0000000123", body=BODY + " 수정."
    )
    with db.begin() as session:
        store_article(session, prepare_article(modern, HOSTS), source)
        outcome = store_article(session, prepare_article(legacy, HOSTS), source)
    assert outcome.reason == "naver_id"


def test_rewritten_wire_copy_joins_the_same_story(db: Database) -> None:
    source = _source(db)
    rewrite = BODY.replace("공개했다", "발표했다").replace("계획이다", "방침이다")
    unrelated = "통신사 한 곳이 새 요금제를 내놨다. 데이터 제공량을 늘리고 가격은 그대로 뒀다. " * 4
    with db.begin() as session:
        first = store_article(
            session, prepare_article(parsed("https://a.example/1"), HOSTS), source
        )
        second = store_article(
            session, prepare_article(parsed("https://b.example/2", body=rewrite), HOSTS), source
        )
        third = store_article(
            session, prepare_article(parsed("https://c.example/3", body=unrelated), HOSTS), source
        )
    assert second.status == "new" and second.story_id == first.article_id
    assert third.status == "new" and third.story_id == third.article_id


def test_unique_constraints_are_the_guarantee(db: Database) -> None:
    with pytest.raises(IntegrityError), db.begin() as session:
        for i in range(2):
            session.add(
                Article(
                    canonical_url=f"https://x.example/{i}",
                    content_hash="f" * 64,
                    title="t",
                    body="b",
                )
            )
    with pytest.raises(IntegrityError), db.begin() as session:
        for i in range(2):
            session.add(
                Article(
                    canonical_url=f"https://y.example/{i}",
                    content_hash=str(i) * 64,
                    naver_oid="001",
                    naver_aid="0000000009",
                    title="t",
                    body="b",
                )
            )


def test_datetimes_round_trip_as_aware_utc(db: Database) -> None:
    source = _source(db)
    with db.begin() as session:
        outcome = store_article(
            session, prepare_article(parsed("https://a.example/t"), HOSTS), source
        )
    with db.begin() as session:
        article = session.get(Article, outcome.article_id)
        assert article is not None
        assert article.published_at == datetime(2026, 1, 15, 1, 0, tzinfo=UTC)


def test_failed_and_filtered_urls_are_skipped_until_limit_or_keyword_change(db: Database) -> None:
    with db.begin() as session:
        for _ in range(2):
            record_fetch_failure(session, "https://dead.example/x?utm_source=a", "HTTP 404", True)
        assert skip(session, "https://dead.example/x", "k1") is None
        record_fetch_failure(session, "https://dead.example/x", "HTTP 404", True)
        assert skip(session, "https://dead.example/x", "k1") == "failed"
        record_fetch_failure(session, "https://off.example/y", "k1", True, kind="filtered")
        assert skip(session, "https://off.example/y", "k1") == "filtered"
        assert skip(session, "https://off.example/y", "k2") is None


def skip(session: object, url: str, filter_key: str) -> str | None:
    return triage_leads(session, [LeadKeys([url])], 3, filter_key)[0].skip  # type: ignore[arg-type]


def test_batch_dedupes_within_itself_and_against_the_database(db: Database) -> None:
    source, other = _source(db, "feed"), _source(db, "api")
    first = prepare_article(parsed("https://a.example/1"), HOSTS)
    same_hash = prepare_article(
        parsed("https://b.example/2", body="[가상일보 김가상 기자] " + BODY), HOSTS
    )
    naver = prepare_article(
        parsed("https://n.news.naver.com/mnews/article/001/0000000007", body=BODY + " 다른 문장."),
        HOSTS,
    )
    naver_again = prepare_article(
        parsed(
            "https://news.naver.com/main/read.naver?oid=001&aid=0000000007", body=BODY + " 또 다른."
        ),
        HOSTS,
    )
    with db.begin() as session:
        outcomes = store_batch(
            session,
            [
                Pending(first, [source]),
                Pending(same_hash, [other]),
                Pending(naver, [source]),
                Pending(naver_again, [other]),
            ],
        )
    assert [o.status for o in outcomes] == ["new", "duplicate", "new", "duplicate"]
    assert outcomes[1].article_id == outcomes[0].article_id and outcomes[1].reason == "content_hash"
    assert outcomes[3].article_id == outcomes[2].article_id and outcomes[3].reason == "naver_id"
    # The wire copy and the Naver article are one story: near-duplicates within the batch.
    assert outcomes[2].story_id == outcomes[0].article_id
    with db.begin() as session:
        again = store_batch(session, [Pending(first, [other]), Pending(naver, [other])])
        assert [o.status for o in again] == ["duplicate", "duplicate"]
        pairs = set(session.execute(select(ArticleSource.article_id, ArticleSource.source_id)))
        assert pairs == {
            (outcomes[0].article_id, source),
            (outcomes[0].article_id, other),
            (outcomes[2].article_id, source),
            (outcomes[2].article_id, other),
        }


def test_lsh_buckets_stop_growing_at_the_limit_and_rewrites_still_join(db: Database) -> None:
    source = _source(db)
    near = NearDuplicateSettings(bucket_limit=2)
    # Near-identical bodies: most of their LSH bands are equal, so buckets fill up.
    variants = [
        prepare_article(parsed(f"https://v{i}.example/{i}", body=f"{BODY} 덧붙인 문장 {i}."), HOSTS)
        for i in range(5)
    ]
    with db.begin() as session:
        outcomes = store_batch(session, [Pending(v, [source]) for v in variants[:3]], near)
    with db.begin() as session:
        outcomes += store_batch(session, [Pending(v, [source]) for v in variants[3:]], near)
        sizes = session.execute(
            select(func.count()).select_from(ArticleBand).group_by(ArticleBand.hash)
        ).scalars()
        assert max(sizes) == 2
        signatures = dict(
            session.execute(select(ArticleSignature.article_id, ArticleSignature.story_id)).all()
        )
    assert [o.status for o in outcomes] == ["new"] * 5
    # Every later variant found the first one: through the members kept in the full buckets.
    assert {o.story_id for o in outcomes} == {outcomes[0].article_id}
    assert signatures == {o.article_id: o.story_id for o in outcomes}


def test_batch_sees_objects_pending_in_its_session_and_clears_failures(db: Database) -> None:
    with db.begin() as session:
        source = Source(name="fresh", type="rss", official=False)
        session.add(source)
        record_fetch_failure(session, "https://a.example/1?utm_source=x", "HTTP 500", False)
        session.flush()
        # Not flushed: the failure below and nothing else; the store must see both anyway.
        record_fetch_failure(session, "https://b.example/2", "HTTP 500", False)
        store_article(session, prepare_article(parsed("https://b.example/2"), HOSTS), source.id)
        clear_fetch_failure(session, ["https://a.example/1", "https://b.example/2#top"])
        assert session.scalar(select(func.count()).select_from(FetchFailure)) == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://n.news.naver.com/mnews/article/001/0000000001",
        "http://127.0.0.1:8765/gen/publisher/12",
        "https://pub.example/news/2026/기사-1",
        "https://Pub.Example/news/1",
        "https://pub.example/news/1/",
        "https://pub.example//news/1",
        "https://pub.example:443/news/1",
        "http://pub.example:80/news/1",
        "http://pub.example:443/news/1",
        "https://pub.example:0443/news/1",
        "https://pub.example/news?id=1&utm_source=x",
        "https://pub.example/news/1#comments",
        "https://pub.example",
        "https://pub.example./news/1",
        "https://user@pub.example/news/1",
        " https://pub.example/news/1 ",
        "HTTPS://pub.example/news/1",
    ],
)
def test_failure_key_is_the_canonical_url(url: str) -> None:
    assert failure_key(url) == canonical_url(url)


def test_concurrent_writers_store_each_article_once(database_url: str) -> None:
    """Two processes' writers racing on the same articles: one row per article, whatever the
    interleaving (SQLite: the batch's write lock; PostgreSQL: the unique constraints, and the
    writer's retry of a batch that lost the race)."""
    setup = Database(database_url)
    source = _source(setup)
    setup.dispose()
    articles = [
        prepare_article(
            parsed(f"https://race.example/{i}", body=f"{BODY} 경주 {i}번째 문장."), HOSTS
        )
        for i in range(40)
    ]
    errors: list[BaseException] = []
    outcomes: list[list[str]] = []

    def writer(order: list[int]) -> None:
        database = Database(database_url, migrate=False)
        try:
            for start in range(0, len(order), 10):
                batch = [Pending(articles[i], [source]) for i in order[start : start + 10]]
                for attempt in range(5):  # as crawler/writer.py retries a lost race
                    try:
                        with database.begin() as session:
                            outcomes.append([o.status for o in store_batch(session, batch)])
                        break
                    except IntegrityError:
                        if attempt == 4:
                            raise
        except BaseException as exc:
            errors.append(exc)
        finally:
            database.dispose()

    threads = [
        threading.Thread(target=writer, args=(list(range(40)),)),
        threading.Thread(target=writer, args=(list(reversed(range(40))),)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    statuses = [s for batch in outcomes for s in batch]
    assert statuses.count("new") == 40 and statuses.count("duplicate") == 40
    check = Database(database_url, migrate=False)
    with check.begin() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 40
        assert session.scalar(select(func.count()).select_from(ArticleSignature)) == 40
        ids = session.scalars(select(Article.id)).all()
        assert len(set(ids)) == 40
    check.dispose()


def test_a_failing_batch_raises_sqlalchemy_errors(db: Database) -> None:
    """The batch's statements run on the DBAPI cursor; their errors must still arrive as
    SQLAlchemy's, which the writer catches (IntegrityError: retry; others: report)."""
    article = prepare_article(parsed("https://a.example/fk"), HOSTS)
    with pytest.raises(IntegrityError), db.begin() as session:
        store_article(session, article, source_id=999_999)  # no such source
    with db.begin() as session:
        assert session.scalar(select(func.count()).select_from(Article)) == 0


def test_band_matrix_is_band_hashes_and_falls_back_when_it_is_not_linear() -> None:
    signatures = [minhash_signature(f"{BODY} 변형 {i}번", 128) for i in range(30)]
    for rows in (6, 4, 7):
        expected = np.array([band_hashes(s, rows) for s in signatures], dtype=np.int64)
        assert (archive._band_matrix(signatures, rows) == expected).all()
    # Coefficients that no longer match band_hashes: the first row's check catches it.
    coefficients, offsets = archive._band_maps[(128, 6)]
    archive._band_maps[(128, 6)] = (coefficients + np.uint64(1), offsets)
    try:
        expected = np.array([band_hashes(s, 6) for s in signatures], dtype=np.int64)
        assert (archive._band_matrix(signatures, 6) == expected).all()
        assert archive._band_maps[(128, 6)] is None
    finally:
        archive._band_maps.pop((128, 6), None)
