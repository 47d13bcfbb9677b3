"""SQLAlchemy 2.0 typed models; the database's unique constraints are the dedupe guarantee."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes stored as naive UTC, so SQLite and PostgreSQL compare them the same way."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; use an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Source(Base):
    """A configured discovery path, recorded the first time it runs."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(30))
    official: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Source {self.name} ({self.type})>"


class Article(Base):
    """One article, stored once however many URLs and sources lead to it."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("naver_oid", "naver_aid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    naver_oid: Mapped[str | None] = mapped_column(String(3))
    naver_aid: Mapped[str | None] = mapped_column(String(10))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(String(200))
    authors: Mapped[list[Any]] = mapped_column(default=list)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    modified_at: Mapped[datetime | None]
    section: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    original_url: Mapped[str | None] = mapped_column(String(2048))
    extractor: Mapped[str] = mapped_column(String(50), default="")
    first_source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    # Near-duplicate group (wire copies, rewrites): the id of the group's first article.
    story_id: Mapped[int | None] = mapped_column(index=True)
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    crawled_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    urls: Mapped[list[ArticleUrl]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleUrl.id"
    )
    sources: Mapped[list[ArticleSource]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="ArticleSource.id"
    )

    def __repr__(self) -> str:
        return f"<Article {self.id} {self.canonical_url}>"


class ArticleUrl(Base):
    """Every URL an article was seen under (canonical, Naver copy, publisher original, aliases)."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="urls")

    def __repr__(self) -> str:
        return f"<ArticleUrl {self.kind} {self.url}>"


class ArticleSource(Base):
    """That a source listed an article; one row per (article, source)."""

    __tablename__ = "article_sources"
    __table_args__ = (UniqueConstraint("article_id", "source_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="sources")
    source: Mapped[Source] = relationship()


class ArticleSignature(Base):
    """An article's MinHash signature and story, narrow, for comparing near-duplicate candidates.

    ``articles.minhash`` holds the same signature, but reading it from an articles row means
    reading past the body (overflow pages in SQLite): about 20 times slower per candidate than
    this table. Both are written together and never change afterwards.
    """

    __tablename__ = "article_signatures"

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    story_id: Mapped[int] = mapped_column(Integer)
    minhash: Mapped[bytes] = mapped_column(LargeBinary)


class ArticleBand(Base):
    """MinHash LSH band hashes, so near-duplicate candidates are an indexed query, not memory."""

    __tablename__ = "article_bands"
    __table_args__ = (Index("ix_article_bands_hash", "hash"),)

    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), primary_key=True)
    band: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    hash: Mapped[int] = mapped_column(BigInteger)


class CrawlRun(Base):
    """One source's part of one crawl: counts, status and errors."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_group: Mapped[str] = mapped_column(String(36), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # running | ok | partial (some requests failed) | failed (no listing succeeded) | skipped
    status: Mapped[str] = mapped_column(String(20), default="running")
    listed: Mapped[int] = mapped_column(Integer, default=0)
    fetched: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    filtered: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    # Leads not fetched because the URL failed permanently on earlier runs.
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    # Fetched pages the page objects could not read (no title/body, not an article).
    extraction_errors: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Every listing answered 304 Not Modified: zero results that are not a problem.
    not_modified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    messages: Mapped[list[Any]] = mapped_column(default=list)

    source: Mapped[Source] = relationship()

    def __repr__(self) -> str:
        return f"<CrawlRun {self.id} {self.status}>"


class ListingState(Base):
    """Conditional-GET validators of one listing URL (a feed), kept between runs."""

    __tablename__ = "listing_states"
    __table_args__ = (UniqueConstraint("source_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(String(2048))
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime] = mapped_column(default=utcnow)


class FetchFailure(Base):
    """An article URL that failed to fetch or parse; retried on later runs up to a limit."""

    __tablename__ = "fetch_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    # "error" (fetch or parse failed) or "filtered" (fetched, but no configured keyword).
    kind: Mapped[str] = mapped_column(String(20), default="error")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)


class FactRow(Base):
    """A fact extracted from an article, with its evidence sentence and modality."""

    __tablename__ = "facts"
    __table_args__ = (Index("ix_facts_type_subject", "type", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    type: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(200))
    values: Mapped[dict[str, Any]] = mapped_column(default=dict)
    modality: Mapped[str] = mapped_column(String(20))
    sentence: Mapped[str] = mapped_column(Text)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(10))
    extractor_version: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship()

    def __repr__(self) -> str:
        return f"<Fact {self.id} {self.type} {self.subject} {self.modality}>"


class Change(Base):
    """One change of the competition's state; rows are appended and upgraded, never deleted.

    ``key`` identifies the change (kind, subject, stage, after) so that re-processing or
    reading the same story from many outlets records it exactly once.
    """

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    subject: Mapped[str] = mapped_column(String(200), index=True)
    stage: Mapped[str | None] = mapped_column(String(50))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
    # reported (one independent source) | confirmed (official, or N independent publishers)
    # | retracted (contradicted by official or corroborated facts)
    confidence: Mapped[str] = mapped_column(String(20))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    confirmed_at: Mapped[datetime | None]
    retracted_at: Mapped[datetime | None]
    # Recorded during a baseline or backfill: part of the history, never alerted.
    silent: Mapped[bool] = mapped_column(Boolean, default=False)

    evidence: Mapped[list[ChangeEvidence]] = relationship(
        back_populates="change", cascade="all, delete-orphan", order_by="ChangeEvidence.id"
    )

    def __repr__(self) -> str:
        return f"<Change {self.id} {self.kind} {self.subject} {self.confidence}>"


class ChangeEvidence(Base):
    """An article (and its sentence) that asserts a change."""

    __tablename__ = "change_evidence"
    __table_args__ = (UniqueConstraint("change_id", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"), index=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"))
    fact_id: Mapped[int | None] = mapped_column(ForeignKey("facts.id", ondelete="SET NULL"))
    url: Mapped[str] = mapped_column(String(2048))
    publisher: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    sentence: Mapped[str] = mapped_column(Text)
    official: Mapped[bool] = mapped_column(Boolean, default=False)
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    change: Mapped[Change] = relationship(back_populates="evidence")


class AlertOutbox(Base):
    """One e-mail to send for one change (or digest) and one recipient: sent exactly once."""

    __tablename__ = "alert_outbox"
    __table_args__ = (UniqueConstraint("change_id", "recipient", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    change_id: Mapped[int | None] = mapped_column(ForeignKey("changes.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    # immediate | unconfirmed | correction | digest | operator
    kind: Mapped[str] = mapped_column(String(20))
    # pending | sending | sent | failed (gave up) | cancelled (superseded before it was sent)
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    message_id: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]


class Meta(Base):
    """Small facts about this database (e.g. when the baseline was recorded)."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SourceHealth(Base):
    """A source's health incident state, so an operator is told once per incident."""

    __tablename__ = "source_health"

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    # ok | unhealthy
    state: Mapped[str] = mapped_column(String(20), default="ok")
    reason: Mapped[str] = mapped_column(Text, default="")
    since: Mapped[datetime | None]
    incidents: Mapped[int] = mapped_column(Integer, default=0)
    # Whether the operator was told of the current incident / of the recovery from the last one.
    alert_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    recovery_sent: Mapped[bool] = mapped_column(Boolean, default=True)
    checked_at: Mapped[datetime | None]
