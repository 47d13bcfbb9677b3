"""The batch store's shortcuts change nothing stored: fast converters, padded IN lists,
signatures unpacked together.

Stored values are compared with what SQLAlchemy itself writes for the same values (an ORM
insert on a second database); duplicates found through padded IN lists are the same as before.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import JSON, LargeBinary

from tracker import archive
from tracker.archive import NearDuplicateSettings, Pending, store_batch
from tracker.article import ParsedArticle
from tracker.articles import prepare_article
from tracker.db import Database, make_engine
from tracker.models import Article, UTCDateTime
from tracker.store import get_or_create_source
from tracker.text import minhash_signature, signature_to_bytes

HOSTS = ("n.news.naver.com",)
KST = timezone(timedelta(hours=9))
DATETIMES = [
    datetime(2026, 1, 15, 10, 0, tzinfo=KST),
    datetime(2026, 1, 15, 10, 0, 0, 1, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))),
    datetime(5, 1, 1, 12, 0, tzinfo=UTC),
]
AUTHORS = [[], ["홍길동"], ["김기자", 'Lee "Jr" \\ \n\u2028 é'], [""]]


def _generic(column_type: object, dialect: object) -> object:
    return column_type.dialect_impl(dialect).bind_processor(dialect)  # type: ignore[attr-defined]


def _dialect() -> object:
    """The dialect of an engine as the tracker makes one (its DBAPI loaded)."""
    return make_engine("sqlite://").dialect


def test_fast_converters_give_what_sqlalchemy_gives() -> None:
    dialect = _dialect()
    for column_type, values in (
        (UTCDateTime(), [None, *DATETIMES]),
        (JSON(), [None, *AUTHORS, ["a", 1], {"k": ["v"]}, [["nested"]]]),
    ):
        generic = _generic(column_type, dialect)
        fast = archive._faster_converter(column_type, dialect, generic)  # type: ignore[arg-type]
        assert fast is not generic and fast is not None
        for value in values:
            assert fast(value) == generic(value), value  # type: ignore[operator]
    # Naive datetimes are still refused, as by the column type itself.
    generic = _generic(UTCDateTime(), dialect)
    fast = archive._faster_converter(UTCDateTime(), dialect, generic)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fast(datetime(2026, 1, 1))  # type: ignore[operator, misc]
    # Bytes need no converting on pysqlite.
    binary = LargeBinary()
    generic = _generic(binary, dialect)
    assert archive._faster_converter(binary, dialect, generic) is None  # type: ignore[arg-type]


def test_a_converter_that_disagrees_is_not_replaced() -> None:
    dialect = _dialect()

    def odd(value: object) -> object:
        return None if value is None else "not what the fast form makes"

    assert archive._faster_converter(UTCDateTime(), dialect, odd) is odd
    assert archive._faster_converter(JSON(), dialect, odd) is odd


def _parsed(index: int, body: str | None = None) -> ParsedArticle:
    return ParsedArticle(
        url=f"https://pub.example/news/{index}",
        title=f"제목 {index}",
        body=body
        or f"기사 {index}번 본문입니다. 독자 AI 파운데이션 모델 평가 {index * 7919} 결과.",
        publisher="가상일보",
        authors=tuple(AUTHORS[index % len(AUTHORS)]),
        published_at=DATETIMES[index % len(DATETIMES)],
        modified_at=None if index % 2 else DATETIMES[(index + 1) % len(DATETIMES)],
    )


def _rows(path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(
            "SELECT canonical_url, authors, published_at, modified_at, crawled_at, minhash,"
            " typeof(minhash) FROM articles ORDER BY id"
        ).fetchall()


def test_stored_values_are_those_sqlalchemy_stores(tmp_path: Path) -> None:
    near = NearDuplicateSettings()
    # Half with the worker's packed signature, half without (computed by the store).
    prepared = [
        prepare_article(_parsed(i), HOSTS, permutations=near.permutations if i % 2 else None)
        for i in range(12)
    ]
    ours, orm = (
        Database(f"sqlite:///{tmp_path / 'ours.db'}"),
        Database(f"sqlite:///{tmp_path / 'orm.db'}"),
    )
    with ours.begin() as session:
        source = get_or_create_source(session, "s", "rss", False).id
        outcomes = store_batch(session, [Pending(a, [source]) for a in prepared], near)
    with ours.begin() as session:
        crawled = {a.id: a.crawled_at for a in session.query(Article)}
        story = {a.id: a.story_id for a in session.query(Article)}
    with orm.begin() as session:
        source = get_or_create_source(session, "s", "rss", False).id
        for article, outcome in zip(prepared, outcomes, strict=True):
            p = article.parsed
            signature = article.signature or signature_to_bytes(
                minhash_signature(article.body, near.permutations)
            )
            session.add(
                Article(
                    id=outcome.article_id,
                    canonical_url=article.canonical_url,
                    content_hash=article.content_hash,
                    title=article.title,
                    body=article.body,
                    publisher=p.publisher,
                    authors=list(p.authors),
                    published_at=p.published_at,
                    modified_at=p.modified_at,
                    first_source_id=source,
                    story_id=story[outcome.article_id],
                    minhash=signature,
                    crawled_at=crawled[outcome.article_id],
                )
            )
    ours.dispose()
    orm.dispose()
    assert [o.status for o in outcomes] == ["new"] * len(prepared)
    assert _rows(tmp_path / "ours.db") == _rows(tmp_path / "orm.db")


def test_padded_in_lists_find_the_same_duplicates(tmp_path: Path) -> None:
    """Batches of many sizes (IN lists padded to other lengths, chunked past _CHUNK): every
    second pass is all duplicates, found by each key."""
    database = Database(f"sqlite:///{tmp_path / 'a.db'}")
    with database.begin() as session:
        source = get_or_create_source(session, "s", "rss", False).id
    start = 0
    for size in (1, 9, 17, 100, 333, 1000):
        articles = [prepare_article(_parsed(start + i), HOSTS) for i in range(size)]
        start += size
        for expected in ("new", "duplicate"):
            with database.begin() as session:
                outcomes = store_batch(session, [Pending(a, [source]) for a in articles])
            assert {o.status for o in outcomes} == {expected}, (size, expected)
    with database.begin() as session:
        db = archive._Cursor(session)
        assert db.pad
        for count in (1, 8, 9, 15, 16, 17, 100, 129, 511, 897, 900, 901):
            values = list(range(count))
            padded = db.padded(values)
            assert set(padded) == set(values) and padded[:count] == values
            assert len(padded) <= max(count, archive._CHUNK)
    database.dispose()


def test_signatures_unpacked_together_or_one_by_one() -> None:
    near = NearDuplicateSettings()
    bodies = [f"본문 {i} 독자 AI 모델 평가 결과 발표 {i * 31}" for i in range(5)]
    for packed_ones in ({0, 1, 2, 3, 4}, {1, 3}, set()):
        new = []
        for i, body in enumerate(bodies):
            article = prepare_article(
                _parsed(i, body=body),
                HOSTS,
                permutations=near.permutations if i in packed_ones else None,
            )
            signature = None
            if article.signature is None:  # as the store computes it
                signature = minhash_signature(article.body, near.permutations)
            new.append(archive._New(Pending(article, [1]), signature))
        expected = np.stack(
            [minhash_signature(n.pending.article.body, near.permutations) for n in new]
        )
        archive._unpack_signatures(new)
        assert (np.stack([item.signature for item in new]) == expected).all()
        assert all((item.signature == row).all() for item, row in zip(new, expected, strict=True))
    archive._unpack_signatures([])  # an empty batch: nothing to unpack
