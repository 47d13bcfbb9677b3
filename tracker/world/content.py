"""Load and validate the local news world's publishers and articles from tracker/world/data."""

from __future__ import annotations

import html
import itertools
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
ARTICLES_DIR = DATA_DIR / "articles"

LAYOUTS = ("naver", "publisher", "publisher_euckr")
# What an article is in the storyline; tests and the demo use it as ground truth labels.
KINDS = (
    "presentation",  # teams showing models, no outcome
    "speculation",  # "누가 탈락할지", expectations: never an outcome
    "opinion",  # contributed column (기고), no byline
    "rumour",  # single-outlet unconfirmed claim
    "denial",  # parties deny the rumour
    "official",  # MSIT press release
    "report",  # news report of confirmed facts
    "syndicated",  # lightly rewritten copy of a wire story (see duplicate_of)
    "analysis",  # background piece, retrospective mentions only
    "adjacent",  # related programme (모두의 AI), not a 독파모 outcome
    "context",  # GPU lease and the like
    "schedule",  # upcoming evaluation dates, expectations
    "noise",  # unrelated article using an ambiguous name (LG, 네이버, 모티프)
)
_FRONTMATTER = re.compile(r"\A---\n(.*?)\n---\n(.*)\Z", re.S)


class WorldDataError(ValueError):
    """Raised when the world's data files are inconsistent."""


@dataclass(frozen=True, slots=True)
class Publisher:
    """One fictional outlet; ``key`` is the path segment in /pub/{key}/."""

    key: str
    name: str
    name_en: str
    oid: str | None
    charset: str
    lang: str
    kind: str
    email_domain: str
    body_class: str
    naver_origin_query: str
    tagline: str

    @property
    def is_euckr(self) -> bool:
        """Return True when pages and feeds of this outlet are served as cp949 bytes."""
        return self.charset.lower() in ("euc-kr", "cp949")

    @property
    def official(self) -> bool:
        """Return True for the ministry (its press releases are official announcements)."""
        return self.kind == "gov"


@dataclass(frozen=True, slots=True)
class WorldArticle:
    """One article of the storyline, as written in data/articles/{id}.md."""

    id: str
    day: int
    publisher: Publisher
    layout: str
    kind: str
    official: bool
    published_at: datetime
    modified_at: datetime | None
    title: str
    title_html: str
    author: str | None
    email: str | None
    path: str
    aliases: tuple[str, ...]
    section: str
    sid: int
    paragraphs: tuple[str, ...]
    oid: str | None = None
    aid: str | None = None
    summary: str | None = None
    photo_caption: str | None = None
    duplicate_of: str | None = None
    outcomes: tuple[str, ...] = ()

    @property
    def on_naver(self) -> bool:
        """Return True when the article also has a Naver copy (/mnews/article/{oid}/{aid})."""
        return self.oid is not None and self.aid is not None

    @property
    def body(self) -> str:
        """Return the article body as plain text, paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)

    @property
    def lang(self) -> str:
        """Return the article language (the outlet's language)."""
        return self.publisher.lang

    @property
    def updated_at(self) -> datetime:
        """Return the last modification time (published time when never modified)."""
        return self.modified_at or self.published_at

    def publisher_url(self, base: str) -> str:
        """Return the canonical publisher URL on the world server at ``base``."""
        return f"{base}/pub/{self.publisher.key}{self.path}"

    def naver_url(self, base: str) -> str | None:
        """Return the Naver copy's URL on the world server, or None when not on Naver."""
        if not self.on_naver:
            return None
        return f"{base}/mnews/article/{self.oid}/{self.aid}?sid={self.sid}"


def _as_datetime(value: object, where: str) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        parsed = datetime.fromisoformat(value)
    else:
        raise WorldDataError(f"{where}: expected an ISO datetime, got {value!r}")
    if parsed.tzinfo is None or parsed.utcoffset() != timedelta(hours=9):
        raise WorldDataError(f"{where}: datetimes must carry +09:00, got {value!r}")
    return parsed


@cache
def load_publishers() -> dict[str, Publisher]:
    """Return the outlets from data/publishers.yaml keyed by ``publisher_host``."""
    raw = yaml.safe_load((DATA_DIR / "publishers.yaml").read_text(encoding="utf-8"))
    publishers: dict[str, Publisher] = {}
    for key, entry in raw.items():
        publishers[key] = Publisher(key=key, **entry)
    return publishers


def parse_article(text: str, publishers: dict[str, Publisher], where: str) -> WorldArticle:
    """Return the article in ``text`` (YAML frontmatter + blank-line separated paragraphs)."""
    match = _FRONTMATTER.match(text)
    if not match:
        raise WorldDataError(f"{where}: missing '---' frontmatter")
    meta: dict[str, Any] = yaml.safe_load(match.group(1))
    paragraphs = tuple(p.strip() for p in re.split(r"\n\s*\n", match.group(2)) if p.strip())
    if not paragraphs:
        raise WorldDataError(f"{where}: empty body")

    key = meta.pop("publisher_host")
    if key not in publishers:
        raise WorldDataError(f"{where}: unknown publisher_host {key!r}")
    publisher = publishers[key]
    if meta.pop("publisher") != publisher.name:
        raise WorldDataError(f"{where}: publisher name does not match publishers.yaml")

    if "title_html" in meta:
        # Entity-laden titles are written pre-escaped; the plain title is their decoding.
        title_html = str(meta.pop("title_html"))
        title = html.unescape(title_html)
    else:
        title = str(meta.pop("title"))
        title_html = html.escape(title, quote=False)

    oid = meta.pop("oid", None)
    aid = meta.pop("aid", None)
    layout = meta.pop("layout")
    if layout not in LAYOUTS:
        raise WorldDataError(f"{where}: layout must be one of {LAYOUTS}")
    expected_layout = "naver" if oid else ("publisher_euckr" if publisher.is_euckr else "publisher")
    if layout != expected_layout:
        raise WorldDataError(f"{where}: layout {layout!r} but data implies {expected_layout!r}")
    if oid and oid != publisher.oid:
        raise WorldDataError(f"{where}: oid {oid} is not {publisher.name}'s press id")
    kind = meta.pop("kind")
    if kind not in KINDS:
        raise WorldDataError(f"{where}: unknown kind {kind!r}")
    path = str(meta.pop("path"))
    if not path.startswith("/"):
        raise WorldDataError(f"{where}: path must start with '/'")

    article = WorldArticle(
        id=str(meta.pop("id")),
        day=int(meta.pop("day")),
        publisher=publisher,
        layout=layout,
        kind=kind,
        official=bool(meta.pop("official")),
        published_at=_as_datetime(meta.pop("published_at"), where),
        modified_at=(
            _as_datetime(meta.pop("modified_at"), where) if "modified_at" in meta else None
        ),
        title=title,
        title_html=title_html,
        author=meta.pop("author", None) or None,
        email=meta.pop("email", None),
        path=path,
        aliases=tuple(meta.pop("aliases", ()) or ()),
        section=str(meta.pop("section", "IT/과학")),
        sid=int(meta.pop("sid", 105)),
        paragraphs=paragraphs,
        oid=str(oid) if oid else None,
        aid=str(aid) if aid else None,
        summary=meta.pop("summary", None),
        photo_caption=meta.pop("photo_caption", None),
        duplicate_of=meta.pop("duplicate_of", None),
        outcomes=tuple(meta.pop("outcomes", ()) or ()),
    )
    if meta:
        raise WorldDataError(f"{where}: unknown frontmatter keys {sorted(meta)}")
    if article.official != publisher.official:
        raise WorldDataError(f"{where}: official must be true exactly for the ministry")
    if publisher.is_euckr:
        # Fail here, not at serving time, if a character has no cp949 encoding.
        for text_part in (article.title, article.body, article.summary or ""):
            text_part.encode("cp949")
    return article


def _validate_world(articles: list[WorldArticle]) -> None:
    ids = {a.id for a in articles}
    if len(ids) != len(articles):
        raise WorldDataError("duplicate article ids")
    seen_urls: set[tuple[str, str]] = set()
    seen_naver: set[tuple[str | None, str | None]] = set()
    for article in articles:
        for path in (article.path, *article.aliases):
            if (article.publisher.key, path) in seen_urls:
                raise WorldDataError(f"{article.id}: URL {path} used twice")
            seen_urls.add((article.publisher.key, path))
        if article.on_naver:
            if (article.oid, article.aid) in seen_naver:
                raise WorldDataError(f"{article.id}: oid/aid used twice")
            seen_naver.add((article.oid, article.aid))
        if article.duplicate_of and article.duplicate_of not in ids:
            raise WorldDataError(f"{article.id}: duplicate_of names an unknown article")
    # Days must be a strict sequence in time so that "the world on day N" is well defined.
    days = sorted({a.day for a in articles})
    for earlier, later in itertools.pairwise(days):
        last = max(a.updated_at for a in articles if a.day == earlier)
        first = min(a.published_at for a in articles if a.day == later)
        if not last < first:
            raise WorldDataError(f"day {earlier} overlaps day {later} in time")


@cache
def load_articles() -> tuple[WorldArticle, ...]:
    """Return every article of the world sorted by publication time (oldest first)."""
    publishers = load_publishers()
    articles = []
    for path in sorted(ARTICLES_DIR.glob("*.md")):
        article = parse_article(path.read_text(encoding="utf-8"), publishers, path.name)
        if article.id != path.stem:
            raise WorldDataError(f"{path.name}: id must equal the file name")
        articles.append(article)
    _validate_world(articles)
    return tuple(sorted(articles, key=lambda a: (a.published_at, a.id)))
