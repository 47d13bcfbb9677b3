"""Article listing, serialization and export (Markdown with YAML frontmatter, JSON Lines)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from tracker.models import Article, ArticleSource, Source

KST = ZoneInfo("Asia/Seoul")
EXPORT_FORMATS = ("md", "jsonl")


def query_articles(
    session: Session,
    since: datetime | None = None,
    source: str | None = None,
    limit: int | None = None,
) -> list[Article]:
    """Return stored articles, newest first (by publication, then crawl time)."""
    stmt = select(Article).options(
        selectinload(Article.urls), selectinload(Article.sources).selectinload(ArticleSource.source)
    )
    if since is not None:
        stmt = stmt.where(Article.published_at >= since)
    if source is not None:
        stmt = stmt.where(
            Article.id.in_(
                select(ArticleSource.article_id)
                .join(Source, Source.id == ArticleSource.source_id)
                .where(Source.name == source)
            )
        )
    stmt = stmt.order_by(Article.published_at.desc().nulls_last(), Article.id.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(session.scalars(stmt))


def iter_all_articles(session: Session, batch: int = 500) -> Iterator[Article]:
    """Yield every article in id order, a batch at a time (bounded memory)."""
    last_id = 0
    while True:
        rows = list(
            session.scalars(
                select(Article)
                .options(
                    selectinload(Article.urls),
                    selectinload(Article.sources).selectinload(ArticleSource.source),
                )
                .where(Article.id > last_id)
                .order_by(Article.id)
                .limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        session.expunge_all()


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(KST).isoformat() if value else None


def article_to_dict(article: Article, with_body: bool = False) -> dict[str, Any]:
    """Return the article as a JSON-ready dict (datetimes in KST ISO 8601)."""
    data: dict[str, Any] = {
        "id": article.id,
        "title": article.title,
        "publisher": article.publisher,
        "authors": list(article.authors or []),
        "published_at": _iso(article.published_at),
        "modified_at": _iso(article.modified_at),
        "crawled_at": _iso(article.crawled_at),
        "url": article.canonical_url,
        "original_url": article.original_url,
        "urls": [u.url for u in article.urls],
        "sources": [s.source.name for s in article.sources],
        "oid": article.naver_oid,
        "aid": article.naver_aid,
        "section": article.section,
        "language": article.language,
        "content_hash": article.content_hash,
        "story_id": article.story_id,
    }
    if with_body:
        data["body"] = article.body
    return data


def export_id(article: Article) -> str:
    """Return the export file id: ``{oid}_{aid}`` for Naver articles (as in the seed files),
    else ``a{id}``."""
    if article.naver_oid and article.naver_aid:
        return f"{article.naver_oid}_{article.naver_aid}"
    return f"a{article.id:06d}"


def article_markdown(article: Article) -> str:
    """Return the article as Markdown with YAML frontmatter (the seed articles' format)."""
    published = article.published_at.astimezone(KST) if article.published_at else None
    crawled = article.crawled_at.astimezone(KST)
    front = {
        "id": export_id(article),
        "title": article.title,
        "publisher": article.publisher or "",
        "author": ", ".join(article.authors or []),
        "published_at": published.strftime("%Y-%m-%d %H:%M") if published else "",
        "crawled_at": crawled.strftime("%Y-%m-%d %H:%M:%S"),
        "url": article.canonical_url,
        "oid": article.naver_oid or "",
        "aid": article.naver_aid or "",
        "content_hash": article.content_hash,
    }
    header = yaml.safe_dump(front, allow_unicode=True, sort_keys=False, width=10_000)
    byline = " | ".join(
        part for part in (article.publisher, front["published_at"], front["author"]) if part
    )
    return f"---\n{header}---\n\n# {article.title}\n\n**{byline}**\n\n---\n\n{article.body}\n"


def export_articles(session: Session, out_dir: Path, fmt: str) -> int:
    """Write every article to ``out_dir`` (one .md per article, or articles.jsonl); return count."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    if fmt == "jsonl":
        path = out_dir / "articles.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for article in iter_all_articles(session):
                handle.write(json.dumps(article_to_dict(article, True), ensure_ascii=False) + "\n")
                count += 1
        return count
    for article in iter_all_articles(session):
        name = re.sub(r"[^\w.-]", "_", export_id(article))
        (out_dir / f"{name}.md").write_text(article_markdown(article), encoding="utf-8")
        count += 1
    return count


FACT_COLUMNS = (
    "id", "article_id", "type", "subject", "values", "modality", "sentence", "start", "end",
    "language", "extractor_version",
)  # fmt: skip
CHANGE_COLUMNS = (
    "id", "kind", "subject", "stage", "before", "after", "confidence", "first_seen_at",
    "confirmed_at", "retracted_at", "silent", "evidence",
)  # fmt: skip


def export_records(session: Session, out_dir: Path) -> dict[str, int]:
    """Write facts and changes as JSON and CSV (nested values as JSON text); return counts."""
    from tracker.changes import change_to_dict, query_changes
    from tracker.factstore import fact_to_dict
    from tracker.models import FactRow

    out_dir.mkdir(parents=True, exist_ok=True)
    facts = [fact_to_dict(row) for row in session.scalars(select(FactRow).order_by(FactRow.id))]
    changes = [change_to_dict(change) for change in query_changes(session)]
    for name, rows, columns in (
        ("facts", facts, FACT_COLUMNS),
        ("changes", changes, CHANGE_COLUMNS),
    ):
        (out_dir / f"{name}.json").write_text(
            json.dumps(rows, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
        with (out_dir / f"{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=columns)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {
                        key: json.dumps(value, ensure_ascii=False)
                        if isinstance(value, dict | list)
                        else value
                        for key, value in row.items()
                        if key in columns
                    }
                )
    return {"facts": len(facts), "changes": len(changes)}
