"""Store articles once, in batches: dedupe keys, near-duplicate stories, URL and source links.

Functions take a session and never commit. Lookups before inserting make the common case cheap;
the unique constraints (canonical URL, Naver oid/aid, content hash, URL, article×source) are the
guarantee: when another process inserts the same article between our lookup and our insert, the
insert raises IntegrityError and the caller retries the batch in a new transaction, where the
other process's row is then found as a duplicate. (A batch takes a lock before its lookups —
SQLite's write lock, a PostgreSQL advisory lock — so between writers that use this module the
race cannot happen; the constraints still hold against anything else.)

Storing a batch is the writer's inner loop: 100 articles are ~2,600 rows, most of them LSH band
rows. Its statements go to the session's DBAPI cursor as ``executemany`` of plain tuples, each
value converted by its model column's own type (statements compiled once per dialect): the ORM
unit of work and Core's per-row parameter handling cost several times what the database itself
spends on these rows (bench/writes.py).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from json.encoder import encode_basestring_ascii as _json_encode_ascii
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import JSON, LargeBinary, Table, insert, select, tuple_
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from tracker.models import (
    Article,
    ArticleBand,
    ArticleSignature,
    ArticleSource,
    ArticleUrl,
    Base,
    FetchFailure,
    UTCDateTime,
    utcnow,
)
from tracker.store import dbapi_errors
from tracker.urls import canonical_url, naver_canonical_url

if TYPE_CHECKING:
    import numpy as np

    from tracker.articles import PreparedArticle

# numpy and tracker.text (MinHash) are imported where stories are assigned: processes that
# only triage listings or use insert_ignore (the CLI, through the alert outbox) then never
# load numpy, ~15 MB of resident memory each.

logger = logging.getLogger(__name__)

# IN (...) lists stay under SQLite's oldest variable limit (999) and PostgreSQL's (65535).
_CHUNK = 900
# PostgreSQL advisory lock key of storing a batch (tracker.db's migration lock is 0x646F6B70).
_PG_STORE_LOCK = 0x646F6B71


@dataclass(frozen=True, slots=True)
class NearDuplicateSettings:
    threshold: float = 0.7
    permutations: int = 128
    band_rows: int = 6
    # An LSH bucket (band value) shared by this many articles takes no more members: a value
    # that common says little (boilerplate), and capping it keeps the candidates of a new
    # article, and the work of storing it, bounded however large the archive grows. Its
    # members stay candidates; a later article is still found through its other bands.
    bucket_limit: int = 32


@dataclass(frozen=True, slots=True)
class StoreOutcome:
    """What storing one article did: ``new`` or ``duplicate`` (of which article, by which key)."""

    status: Literal["new", "duplicate"]
    article_id: int
    reason: str
    story_id: int | None = None


@dataclass(frozen=True, slots=True)
class Pending:
    """One article to store and every source that listed it."""

    article: PreparedArticle
    source_ids: Sequence[int]


@dataclass(frozen=True, slots=True)
class LeadKeys:
    """What a listing says about a lead: the URLs it gave and the Naver id they imply."""

    urls: Sequence[str]
    naver_id: tuple[str, str] | None = None


@dataclass(frozen=True, slots=True)
class LeadTriage:
    """Whether a lead needs fetching: the known article, or why not to fetch it again."""

    known_article_id: int | None = None
    skip: str | None = None  # "filtered" | "failed"


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def insert_ignore(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows``, silently skipping those that violate a unique constraint."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(model).on_conflict_do_nothing(), list(rows))
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(model).on_conflict_do_nothing(), list(rows))
    else:  # pragma: no cover - other engines take the slow, portable path
        from sqlalchemy.exc import IntegrityError

        for row in rows:
            try:
                with session.begin_nested():
                    session.add(model(**row))
            except IntegrityError:
                continue


# -- the batch's direct line to the database ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Insert:
    """An INSERT compiled for one dialect, with the columns' own value converters."""

    sql: str
    positional: bool
    # Positional paramstyle: the index of each parameter in the caller's ``columns`` (None when
    # they are already in order).
    order: tuple[int, ...] | None
    converters: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, converter)


_inserts: dict[tuple[str, str, str, tuple[str, ...], bool], _Insert] = {}
_inserts_lock = threading.Lock()


def _compiled_insert(
    dialect: Dialect, table: Table, columns: tuple[str, ...], ignore: bool
) -> _Insert:
    key = (dialect.name, dialect.driver, table.name, columns, ignore)
    found = _inserts.get(key)
    if found is not None:
        return found
    statement: Any = insert(table)
    if ignore:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            statement = pg_insert(table).on_conflict_do_nothing()
        elif dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            statement = sqlite_insert(table).on_conflict_do_nothing()
        else:  # pragma: no cover - the archive supports SQLite and PostgreSQL
            raise NotImplementedError(f"insert-or-ignore on {dialect.name}")
    compiled = statement.compile(dialect=dialect, column_keys=list(columns))
    order: tuple[int, ...] | None = None
    if compiled.positional:
        order = tuple(columns.index(name) for name in compiled.positiontup or ())
        if order == tuple(range(len(columns))):
            order = None
    converters = []
    for index, name in enumerate(columns):
        column_type = table.c[name].type
        convert = column_type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            convert = _faster_converter(column_type, dialect, convert)
        if convert is not None:
            converters.append((index, convert))
    found = _Insert(str(compiled), bool(compiled.positional), order, tuple(converters))
    with _inserts_lock:
        _inserts[key] = found
    return found


def _faster_converter(
    column_type: Any, dialect: Dialect, generic: Callable[[Any], Any]
) -> Callable[[Any], Any] | None:
    """Return a cheaper function that gives what ``generic`` (a column's bind processor) gives.

    A batch converts a few hundred datetimes and author lists, and SQLAlchemy's converters
    (two Python calls and a ``%`` format with a dict per datetime; json.dumps setting up its
    encoder per list) cost more than the database spends on those values. Each fast form is
    checked against ``generic`` on sample values when the statement is compiled and only used
    when it agrees; values it is not made for go to ``generic``. None: no converting needed.
    """
    fast: Callable[[Any], Any] | None
    samples: list[Any]
    if dialect.name != "sqlite" or dialect.driver != "pysqlite":
        return generic
    if isinstance(column_type, UTCDateTime):

        def fast(value: Any) -> Any:
            if value is None:
                return None
            if type(value) is not datetime or value.tzinfo is None:
                return generic(value)
            # What UTCDateTime then SQLite's DATETIME (its default storage format) make of it.
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        seoul = timezone(timedelta(hours=9))
        samples = [
            None,
            datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
            datetime(2025, 12, 31, 23, 59, 59, 999999, tzinfo=seoul),
            datetime(5, 6, 7, 8, 9, 10, 11, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
        ]
    elif isinstance(column_type, JSON):
        encode = _json_encode_ascii

        def fast(value: Any) -> Any:
            if type(value) is list:
                try:
                    # json.dumps' default output for a list of strings (others raise).
                    return "[" + ", ".join(map(encode, value)) + "]"
                except TypeError:
                    pass
            return generic(value)

        samples = [None, [], ["홍길동"], ['a"b\\c\n\u2028', "é", ""], ["a", 1], {"a": [1]}]
    elif isinstance(column_type, LargeBinary):
        # pysqlite binds bytes as a BLOB as it binds the memoryview SQLAlchemy wraps them in.
        fast = None
        samples = [b"", b"\x00\xff" * 8]
    else:
        return generic
    for sample in samples:
        expected = generic(sample)
        got = sample if fast is None else fast(sample)
        if type(got) is not type(expected) and not isinstance(expected, memoryview):
            return generic
        if got != expected:
            return generic
    return fast


class _Cursor:
    """The session connection's DBAPI cursor, for a batch's many-row statements."""

    def __init__(self, session: Session) -> None:
        # Raw statements do not see ORM objects still pending in this session.
        session.flush()
        connection = session.connection()
        self.dialect = connection.dialect
        self.cursor = connection.connection.cursor()
        self.mark = "?" if self.dialect.paramstyle == "qmark" else "%s"
        # SQLite compiles every statement text it has not seen (pysqlite keeps the last 128
        # compiled): IN lists are padded to a few lengths so that batches reuse them.
        self.pad = self.dialect.name == "sqlite"

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """Return the rows (tuples) of ``sql``, its driver errors raised as SQLAlchemy's."""
        if not isinstance(params, (tuple, list)):
            params = tuple(params)
        with dbapi_errors(self.dialect, sql):
            self.cursor.execute(sql, params)
            return self.cursor.fetchall()

    def select_in(self, sql: str, values: Sequence[Any]) -> list[Any]:
        """Return the rows (tuples) of ``sql``, whose ``{}`` is an IN list, over every value."""
        rows: list[Any] = []
        for chunk in _chunks(values):
            chunk = self.padded(chunk)
            rows.extend(self.query(sql.format(self.marks(len(chunk))), chunk))
        return rows

    def padded(self, values: Sequence[Any]) -> Sequence[Any]:
        """Return an IN list of at most _CHUNK values padded, on SQLite, to one of 8 lengths
        per power of two with repeats of its first value (which change no IN test's result).

        Compiling a statement with hundreds of placeholders costs ~0.25 ms per 900, most of
        what running it against warm pages costs; padded, a batch's IN lists mostly have
        lengths whose statements pysqlite has already compiled (its cache holds 128).
        """
        count = len(values)
        if not self.pad or count <= 8 or count > _CHUNK:
            return values
        step = 1 << (count.bit_length() - 4)
        size = min(-(-count // step) * step, _CHUNK)
        return [*values, *([values[0]] * (size - count))] if size > count else values

    def marks(self, count: int) -> str:
        """Return ``count`` parameter placeholders, comma-separated."""
        return ", ".join([self.mark] * count)

    def insert(
        self,
        model: type[Base],
        columns: tuple[str, ...],
        rows: Iterable[Any],
        ignore: bool = False,
    ) -> None:
        """Insert ``rows`` (values in ``columns`` order), skipping conflicts when ``ignore``.

        Values are converted by their columns' types (datetimes, JSON …), in place when a row
        is a list. Rows that need no converting may come from an iterator: they are made as
        they are inserted.
        """
        table = model.__table__
        assert isinstance(table, Table)
        compiled = _compiled_insert(self.dialect, table, columns, ignore)
        if compiled.converters or not compiled.positional or compiled.order is not None:
            rows = [row if isinstance(row, list) else list(row) for row in rows]
            if not rows:
                return
        for index, convert in compiled.converters:
            # Rows of a batch share values (its timestamp): convert each distinct one once.
            last_in: Any = object()
            last_out: Any = None
            for values in rows:
                value = values[index]
                if value is not last_in:
                    last_in, last_out = value, convert(value)
                values[index] = last_out
        params: Iterable[Any] = rows
        if not compiled.positional:
            params = [dict(zip(columns, values, strict=True)) for values in rows]
        elif compiled.order is not None:
            order = compiled.order
            params = [tuple(values[i] for i in order) for values in rows]
        with dbapi_errors(self.dialect, compiled.sql):
            self.cursor.executemany(compiled.sql, params)

    def lock_for_writing(self) -> None:
        """Make batches of concurrent writers (scale-out crawls) take turns, until commit.

        SQLite: take its write lock now (a write statement that changes nothing still takes
        it), so our lookups and reserved ids stay true. PostgreSQL: a transaction-level
        advisory lock; without it, two batches inserting the same keys in different orders
        deadlock, and one that loses a race has to be retried.
        """
        if self.dialect.name == "sqlite":
            self.query("DELETE FROM articles WHERE 0")
        elif self.dialect.name == "postgresql":
            self.query("SELECT pg_advisory_xact_lock(%s)", (_PG_STORE_LOCK,))

    def reserve_ids(self, count: int) -> list[int]:
        """Return ``count`` new article ids (PostgreSQL: from the sequence; else max + 1 …)."""
        if count == 0:
            return []
        if self.dialect.name == "postgresql":
            rows = self.query(
                "SELECT nextval(pg_get_serial_sequence('articles', 'id'))"
                " FROM generate_series(1, %s)",
                (count,),
            )
            return sorted(int(row[0]) for row in rows)
        [(last,)] = self.query("SELECT coalesce(max(id), 0) FROM articles")
        return list(range(int(last) + 1, int(last) + 1 + count))


# -- dedupe keys ------------------------------------------------------------------------------


class _KnownKeys:
    """Dedupe keys already stored, loaded in a few IN queries for a whole batch."""

    def __init__(self, db: _Cursor, articles: Sequence[PreparedArticle]) -> None:
        naver_ids = {a.naver_id for a in articles if a.naver_id}
        oids = sorted({oid for oid, _ in naver_ids})
        aids = sorted({aid for _, aid in naver_ids})
        canonicals = list({a.canonical_url for a in articles})
        urls = list({u for a in articles for u in a.urls})
        hashes = list({a.content_hash for a in articles})
        self.by_naver: dict[tuple[str, str], int] = {}
        self.by_canonical: dict[str, int] = {}
        self.by_url: dict[str, int] = {}
        self.by_hash: dict[str, int] = {}
        # (SELECT of kind k, its IN lists); the Naver id's two IN lists both use its unique
        # index, and pairs not asked for are dropped below.
        parts = [
            ("SELECT 0, canonical_url, id FROM articles WHERE canonical_url IN ({})", [canonicals]),
            ("SELECT 1, url, article_id FROM article_urls WHERE url IN ({})", [urls]),
            ("SELECT 2, content_hash, id FROM articles WHERE content_hash IN ({})", [hashes]),
            (
                "SELECT 3, naver_oid || '/' || naver_aid, id FROM articles "
                "WHERE naver_oid IN ({}) AND naver_aid IN ({})",
                [oids, aids],
            ),
        ]
        parts = [(sql, [db.padded(v) for v in lists]) for sql, lists in parts if all(lists)]
        if sum(len(v) for _, lists in parts for v in lists) <= _CHUNK:
            # A batch's usual size: one statement instead of four.
            statements = [
                (" UNION ALL ".join(sql for sql, _ in parts), [v for _, ls in parts for v in ls])
            ]
        else:
            statements = [(sql, lists) for sql, lists in parts]
        for sql, lists in statements:
            for kind, key, article_id in self._query(db, sql, lists):
                if kind == 3:
                    oid, aid = key.split("/")
                    if (oid, aid) in naver_ids:
                        self.by_naver[(oid, aid)] = article_id
                else:
                    (self.by_canonical, self.by_url, self.by_hash)[kind][key] = article_id

    @staticmethod
    def _query(db: _Cursor, sql: str, lists: list[list[str]]) -> list[Any]:
        """Run ``sql`` with its IN lists; one list too long for a statement goes in chunks."""
        if len(lists) == 1:
            return db.select_in(sql, lists[0])
        if sum(len(v) for v in lists) <= _CHUNK:
            params = [value for values in lists for value in values]
            return db.query(sql.format(*(db.marks(len(v)) for v in lists)), params)
        # Only the Naver part has two lists (oids: a few presses; aids: one per article).
        rows: list[Any] = []
        oids, aids = lists
        half = _CHUNK // 2
        for o in range(0, len(oids), half):
            for a in range(0, len(aids), half):
                some_oids, some_aids = oids[o : o + half], aids[a : a + half]
                marks = (db.marks(len(some_oids)), db.marks(len(some_aids)))
                rows += db.query(sql.format(*marks), [*some_oids, *some_aids])
        return rows

    def match(self, article: PreparedArticle) -> tuple[int, str] | None:
        if article.naver_id and article.naver_id in self.by_naver:
            return self.by_naver[article.naver_id], "naver_id"
        if article.canonical_url in self.by_canonical:
            return self.by_canonical[article.canonical_url], "canonical_url"
        for url in article.urls:
            if url in self.by_url:
                return self.by_url[url], "url"
        if article.content_hash in self.by_hash:
            return self.by_hash[article.content_hash], "content_hash"
        return None

    def add(self, article: PreparedArticle, article_id: int) -> None:
        if article.naver_id:
            self.by_naver[article.naver_id] = article_id
        self.by_canonical[article.canonical_url] = article_id
        for url in article.urls:
            self.by_url.setdefault(url, article_id)
        self.by_hash[article.content_hash] = article_id


def _lookup(session: Session, key: Any, value: Any, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        found.update({k: v for k, v in session.execute(select(key, value).where(key.in_(chunk)))})
    return found


def _lookup_naver(session: Session, ids: Sequence[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Return the stored article id of each known Naver (oid, aid)."""
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(ids):
        rows = session.execute(
            select(Article.naver_oid, Article.naver_aid, Article.id).where(
                tuple_(Article.naver_oid, Article.naver_aid).in_(chunk)
            )
        )
        found.update({(oid, aid): id_ for oid, aid, id_ in rows})
    return found


# -- storing a batch --------------------------------------------------------------------------

_ARTICLE_COLUMNS = (
    "id",
    "canonical_url",
    "naver_oid",
    "naver_aid",
    "content_hash",
    "title",
    "body",
    "publisher",
    "authors",
    "published_at",
    "modified_at",
    "section",
    "language",
    "description",
    "original_url",
    "extractor",
    "first_source_id",
    "story_id",
    "minhash",
    "crawled_at",
)
_URL_COLUMNS = ("url", "kind", "article_id", "first_seen_at")
_SOURCE_COLUMNS = ("article_id", "source_id", "first_seen_at")
_SIGNATURE_COLUMNS = ("article_id", "story_id", "minhash")
_BAND_COLUMNS = ("article_id", "band", "hash")


@dataclass(slots=True)
class _New:
    """A new article of the batch: its reserved id once known, its signature and story."""

    pending: Pending
    signature: np.ndarray | None
    article_id: int = 0
    story_id: int = 0
    packed: bytes = b""


def store_batch(
    session: Session, batch: Sequence[Pending], near: NearDuplicateSettings | None = None
) -> list[StoreOutcome]:
    """Store a batch of articles, each once; return one outcome per input, in order.

    An article is a duplicate when its Naver id, canonical URL, any of its URLs or its content
    hash is already stored (or earlier in the batch). Its URLs and sources are then recorded
    against the stored article. New articles get a story (near-duplicate group) via MinHash LSH.
    """
    if not batch:
        return []
    # A batch allocates thousands of short-lived rows and makes no reference cycles, so the
    # cyclic collector has nothing to find here; its passes over them (and over the batch the
    # writer just unpickled) cost ~5% of storing it. Refcounting still frees everything.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _store_batch(session, batch, near or NearDuplicateSettings())
    finally:
        if collecting:
            gc.enable()


def _store_batch(
    session: Session, batch: Sequence[Pending], near: NearDuplicateSettings
) -> list[StoreOutcome]:
    from tracker.text import minhash_signature, signature_to_bytes

    db = _Cursor(session)
    db.lock_for_writing()
    known = _KnownKeys(db, [p.article for p in batch])
    # Per input: the stored article's id (>0), or -(1 + position in ``new``); and the reason.
    resolved: list[tuple[int, str]] = []
    new: list[_New] = []
    for pending in batch:
        match = known.match(pending.article)
        if match is not None:
            resolved.append(match)
            continue
        # Signatures the worker computed are unpacked below, all in one array.
        signature = None
        if pending.article.signature is None:
            signature = minhash_signature(pending.article.body, near.permutations)
        new.append(_New(pending, signature))
        placeholder = -len(new)
        known.add(pending.article, placeholder)
        resolved.append((placeholder, "new"))

    for item, article_id in zip(new, db.reserve_ids(len(new)), strict=True):
        item.article_id = article_id
    _unpack_signatures(new)
    stories = _assign_stories(session, [(n.article_id, n.signature) for n in new], near, db=db)
    now = utcnow()
    article_rows = []
    signature_rows = []
    for item in new:
        item.story_id = stories.story_of[item.article_id]
        # The worker's packed signature when there is one: the same bytes, no repacking.
        item.packed = item.pending.article.signature or signature_to_bytes(item.signature)
        article_rows.append(_article_row(item, now))
        signature_rows.append([item.article_id, item.story_id, item.packed])
    db.insert(Article, _ARTICLE_COLUMNS, article_rows)
    db.insert(ArticleSignature, _SIGNATURE_COLUMNS, signature_rows)
    db.insert(ArticleBand, _BAND_COLUMNS, stories.band_rows)

    ids = [target if target > 0 else new[-target - 1].article_id for target, _ in resolved]
    story_of = {n.article_id: n.story_id for n in new}
    story_of.update(_stored_stories(db, sorted({i for i in ids if i not in story_of})))
    # URLs the lookup found stored (under the batch's lock) would only be ignored again.
    stored_urls = {url for url, article_id in known.by_url.items() if article_id > 0}
    url_rows: dict[str, list[Any]] = {}
    source_rows: dict[tuple[int, int], list[Any]] = {}
    outcomes: list[StoreOutcome] = []
    for pending, (_, reason), article_id in zip(batch, resolved, ids, strict=True):
        fresh = reason == "new"
        for url, kind in pending.article.urls.items():
            # A duplicate's own canonical URL is an alias of the stored article.
            kind = kind if fresh or kind != "canonical" else "alias"
            if url not in url_rows and url not in stored_urls:
                url_rows[url] = [url, kind, article_id, now]
        for source_id in pending.source_ids:
            if (article_id, source_id) not in source_rows:
                source_rows[(article_id, source_id)] = [article_id, source_id, now]
        status: Literal["new", "duplicate"] = "new" if fresh else "duplicate"
        outcomes.append(StoreOutcome(status, article_id, reason, story_of.get(article_id)))
    db.insert(ArticleUrl, _URL_COLUMNS, list(url_rows.values()), ignore=True)
    db.insert(ArticleSource, _SOURCE_COLUMNS, list(source_rows.values()), ignore=True)
    return outcomes


def _unpack_signatures(new: Sequence[_New]) -> None:
    """Set the signature of each new article whose worker sent it packed.

    When all were sent (the usual case), they are unpacked together: one array from their
    joined bytes, whose rows are views, rather than an array per article.
    """
    from tracker.text import signature_from_bytes

    packed = [item.pending.article.signature for item in new]
    if packed and all(packed) and len({len(p) for p in packed if p}) == 1:
        matrix = signature_from_bytes(b"".join(p for p in packed if p)).reshape(len(new), -1)
        for item, row in zip(new, matrix, strict=True):
            item.signature = row
        return
    for item, data in zip(new, packed, strict=True):
        if item.signature is None and data is not None:
            item.signature = signature_from_bytes(data)


def _article_row(item: _New, now: Any) -> list[Any]:
    article = item.pending.article
    parsed = article.parsed
    return [
        item.article_id,
        article.canonical_url,
        article.naver_id[0] if article.naver_id else None,
        article.naver_id[1] if article.naver_id else None,
        article.content_hash,
        article.title,
        article.body,
        parsed.publisher,
        list(parsed.authors),
        parsed.published_at,
        parsed.modified_at,
        parsed.section,
        parsed.language,
        parsed.description,
        parsed.original_url,
        parsed.extractor,
        item.pending.source_ids[0],
        item.story_id,
        item.packed,
        now,
    ]


def _stored_stories(db: _Cursor, ids: Sequence[int]) -> dict[int, int | None]:
    """Return the story of stored articles (duplicates' outcomes), narrow table first."""
    found: dict[int, int | None] = dict(
        db.select_in(
            "SELECT article_id, story_id FROM article_signatures WHERE article_id IN ({})", ids
        )
    )
    rest = [i for i in ids if i not in found]  # stored without a signature
    if rest:
        found.update(db.select_in("SELECT id, story_id FROM articles WHERE id IN ({})", rest))
    return found


def store_article(
    session: Session,
    article: PreparedArticle,
    source_id: int,
    near: NearDuplicateSettings | None = None,
) -> StoreOutcome:
    """Store one article (see store_batch)."""
    return store_batch(session, [Pending(article, [source_id])], near)[0]


@dataclass(slots=True)
class Stories:
    """Each new article's story, and the LSH band rows to insert once the articles exist."""

    story_of: dict[int, int] = field(default_factory=dict)
    # Band rows as three columns: the rows are made one at a time while they are inserted (a
    # batch has thousands; materialized, they only fed the garbage collector).
    band_columns: tuple[list[int], list[int], list[int]] = ([], [], [])

    @property
    def band_rows(self) -> Iterator[tuple[int, int, int]]:
        return zip(*self.band_columns, strict=True)


def _assign_stories(
    session: Session,
    new: Sequence[tuple[int, np.ndarray]],
    near: NearDuplicateSettings,
    db: _Cursor | None = None,
) -> Stories:
    """Return each new article's story and the band rows that index it.

    Candidates are articles sharing at least one band hash (an indexed query, so memory does not
    grow with the archive); a candidate joins when the estimated Jaccard similarity reaches the
    threshold. Articles of the same batch are candidates of each other, in order. A bucket
    holding ``near.bucket_limit`` articles takes no more (see NearDuplicateSettings).
    """
    import numpy as np

    from tracker.text import signature_from_bytes

    result = Stories()
    if not new:
        return result
    db = db or _Cursor(session)
    count = len(new)
    keys = _band_matrix([sig for _, sig in new], near.band_rows)
    width = keys.shape[1]
    flat = keys.ravel()
    values, inverse, repeats = np.unique(flat, return_inverse=True, return_counts=True)
    # The band is part of the hash (per-band offsets), so the hash alone names the bucket.
    members: dict[int, list[int]] = {}
    for value, article_id in db.select_in(
        "SELECT hash, article_id FROM article_bands WHERE hash IN ({})", values.tolist()
    ):
        members.setdefault(value, []).append(article_id)
    # Only band values stored before or repeated within the batch need bucket bookkeeping;
    # an article with none of them shares no band with anyone: its own story, every band kept.
    shared = repeats > 1
    if members:
        shared |= np.isin(values, np.fromiter(members, dtype=np.int64, count=len(members)))
    shared_cells = shared[inverse.ravel()].reshape(count, width)
    signatures: dict[int, np.ndarray] = {}
    story_of: dict[int, int] = {}
    candidate_ids = sorted({i for ids in members.values() for i in ids})
    for other_id, story_id, blob in db.select_in(
        "SELECT article_id, story_id, minhash FROM article_signatures WHERE article_id IN ({})",
        candidate_ids,
    ):
        signatures[other_id] = signature_from_bytes(bytes(blob))
        story_of[other_id] = story_id
    limit = near.bucket_limit
    threshold = near.threshold * len(new[0][1])  # equal values needed to join
    keep = np.ones((count, width), dtype=bool)
    rows = np.flatnonzero(shared_cells.any(axis=1))
    for row, hashes, row_cells in zip(
        rows.tolist(), keys[rows].tolist(), shared_cells[rows].tolist(), strict=True
    ):
        article_id, signature = new[row]
        cells = [band for band, is_shared in enumerate(row_cells) if is_shared]
        candidates: set[int] = set()
        for band in cells:
            candidates.update(members.get(hashes[band], ()))
        others = sorted(o for o in candidates if o in signatures)
        best: int | None = None
        if len(others) > 8:
            # One vectorized comparison against every candidate signature.
            equal = (np.stack([signatures[o] for o in others]) == signature).sum(axis=1)
            index = int(np.argmax(equal))  # the first (oldest) of equally similar ones
            if equal[index] >= threshold:
                best = story_of[others[index]]
        elif others:
            most = -1
            for other in others:
                equal = int(np.count_nonzero(signatures[other] == signature))
                if equal > most:
                    most, best = equal, story_of[other]
            if most < threshold:
                best = None
        story_of[article_id] = best if best is not None else article_id
        signatures[article_id] = signature
        for band in cells:
            bucket = members.setdefault(hashes[band], [])
            if len(bucket) < limit:
                bucket.append(article_id)
            else:
                keep[row, band] = False  # a full bucket: see NearDuplicateSettings.bucket_limit
    ids = np.array([article_id for article_id, _ in new], dtype=np.int64)
    result.story_of = {article_id: story_of.get(article_id, article_id) for article_id, _ in new}
    if keep.all():  # no full bucket (the usual case): no masking
        bands = list(range(width)) * count
        result.band_columns = (np.repeat(ids, width).tolist(), bands, flat.tolist())
    else:
        mask = keep.ravel()
        result.band_columns = (
            np.repeat(ids, width)[mask].tolist(),
            np.tile(np.arange(width), count)[mask].tolist(),
            flat[mask].tolist(),
        )
    return result


_band_maps: dict[tuple[int, int], tuple[Any, Any] | None] = {}


def _band_matrix(signatures: Sequence[np.ndarray] | np.ndarray, rows: int) -> np.ndarray:
    """Return ``band_hashes(signature, rows)`` of each signature, as one int64 array.

    band_hashes is linear in the signature values (mod 2**64, plus a per-band offset), so the
    whole batch is one array expression with its coefficients, read back from band_hashes
    itself (on zero and unit signatures). Each batch's first row is checked against
    band_hashes; should that ever differ (the scheme changed), every row goes through it.
    """
    import numpy as np

    from tracker.text import band_hashes

    length = len(signatures[0])
    key = (length, rows)
    if key not in _band_maps:
        zero = np.zeros(length, dtype=np.uint64)
        offsets = np.array(band_hashes(zero, rows), dtype=np.int64).view(np.uint64)
        units = []
        for j in range(rows):
            unit = zero.copy()
            unit[j] = 1
            units.append(band_hashes(unit, rows)[0])
        # uint64 array arithmetic wraps around, as band_hashes' does.
        coefficients = np.array(units, dtype=np.int64).view(np.uint64) - offsets[0]
        _band_maps[key] = (coefficients, offsets)
    first = band_hashes(signatures[0], rows)
    band_map = _band_maps[key]
    if band_map is not None:
        coefficients, offsets = band_map
        bands = len(offsets)
        stacked = signatures if isinstance(signatures, np.ndarray) else np.stack(signatures)
        values = stacked.astype(np.uint64, copy=False)[:, : bands * rows]
        keys = (values.reshape(len(signatures), bands, rows) * coefficients).sum(
            axis=2, dtype=np.uint64
        )
        keys += offsets
        matrix = keys.view(np.int64)
        if matrix[0].tolist() == first:
            return matrix
        _band_maps[key] = None  # not linear (any more): the slow, sure path from now on
    return np.array([band_hashes(sig, rows) for sig in signatures], dtype=np.int64)


# -- listings ---------------------------------------------------------------------------------


def triage_leads(
    session: Session, leads: Sequence[LeadKeys], max_attempts: int, filter_key: str
) -> list[LeadTriage]:
    """Return, per lead, the stored article it points to or why not to fetch it again."""
    candidates: list[set[str]] = []
    for lead in leads:
        keys = {canonical_url(u) for u in lead.urls if u}
        if lead.naver_id:
            keys.add(naver_canonical_url(*lead.naver_id))
        candidates.append(keys)
    all_urls = sorted(set().union(*candidates)) if candidates else []
    by_url = _lookup(session, ArticleUrl.url, ArticleUrl.article_id, all_urls)
    by_url.update(_lookup(session, Article.canonical_url, Article.id, all_urls))
    naver_ids = sorted({lead.naver_id for lead in leads if lead.naver_id})
    by_naver = _lookup_naver(session, naver_ids)
    failures: dict[str, FetchFailure] = {}
    for chunk in _chunks(all_urls):
        failures.update(
            {
                f.url: f
                for f in session.scalars(select(FetchFailure).where(FetchFailure.url.in_(chunk)))
            }
        )
    result = []
    for lead, keys in zip(leads, candidates, strict=True):
        known = by_naver.get(lead.naver_id) if lead.naver_id else None
        if known is None:
            known = next((by_url[k] for k in sorted(keys) if k in by_url), None)
        if known is not None:
            result.append(LeadTriage(known_article_id=known))
            continue
        skip = None
        for key in sorted(keys):
            failure = failures.get(key)
            if failure is None:
                continue
            if failure.kind == "filtered" and failure.last_error == filter_key:
                skip = "filtered"
            elif (
                failure.kind != "filtered"
                and failure.permanent
                and failure.attempts >= max_attempts
            ):
                skip = "failed"
        result.append(LeadTriage(skip=skip))
    return result


def attach_sources(session: Session, pairs: Iterable[tuple[int, int]]) -> None:
    """Record (article_id, source_id) listings, ignoring those already recorded."""
    insert_ignore(
        session,
        ArticleSource,
        _unique([{"article_id": a, "source_id": s} for a, s in pairs], "article_id", "source_id"),
    )


def _unique(rows: list[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    seen: set[tuple[Any, ...]] = set()
    unique = []
    for row in rows:
        key = tuple(row[k] for k in keys)
        if key not in seen:
            seen.add(key)
            unique.append(row)
    return unique
