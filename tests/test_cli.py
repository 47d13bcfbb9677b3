"""CLI: help everywhere, exit codes, config errors without tracebacks, listings and export."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tracker.archive import store_article
from tracker.article import ParsedArticle
from tracker.articles import prepare_article
from tracker.cli import cli
from tracker.config import load_config
from tracker.db import Database
from tracker.store import get_or_create_source

KST = timezone(timedelta(hours=9))


def invoke(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def all_commands() -> list[list[str]]:
    found: list[list[str]] = []

    def walk(group: object, prefix: list[str]) -> None:
        for name, command in getattr(group, "commands", {}).items():
            found.append([*prefix, name])
            walk(command, [*prefix, name])

    walk(cli, [])
    return found


@pytest.mark.parametrize("command", all_commands(), ids=lambda c: " ".join(c))
def test_every_command_has_help(command: list[str]) -> None:
    code, out, _ = invoke(*command, "--help")
    assert code == 0
    assert "Usage:" in out and len(out.splitlines()) > 3


def test_invalid_config_exits_2_with_one_message(tmp_path: Path) -> None:
    (tmp_path / "entities.yaml").write_text("{}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("keywords: {any: [x]}\nsources: [{name: a, type: rss, url: u, colour: red}]\n")
    code, out, err = invoke("--config", str(bad), "sources")
    assert code == 2
    assert f"{bad}: sources[0].colour: unknown key" in err
    assert "Traceback" not in out + err


def test_unknown_source_exits_2(config_path: Path) -> None:
    code, _, err = invoke("--config", str(config_path), "crawl", "--source", "nope")
    assert code == 2 and "no source named 'nope'" in err


def test_bad_date_is_a_usage_error(config_path: Path) -> None:
    code, _, err = invoke("--config", str(config_path), "articles", "--since", "yesterday")
    assert code == 2 and "not a date" in err


def _store_two(config_path: Path) -> None:
    config = load_config(config_path)
    db = Database(config.database_url)
    with db.begin() as session:
        source = get_or_create_source(session, "feed", "rss", False).id
        for i, (oid_aid, day) in enumerate([(("001", "0000000001"), 10), (None, 20)]):
            article = ParsedArticle(
                url=f"https://n.news.naver.com/mnews/article/001/000000000{i + 1}"
                if oid_aid
                else "https://pub.example/a/2?utm_source=x",
                title=f"독파모 기사 {i}",
                body=f"독자 AI 파운데이션 모델 본문 {i}번째 문장입니다.",
                publisher="가상일보",
                authors=("김가상",),
                published_at=datetime(2026, 1, day, 9, 0, tzinfo=KST),
                naver_oid=oid_aid[0] if oid_aid else None,
                naver_aid=oid_aid[1] if oid_aid else None,
            )
            store_article(session, prepare_article(article, config.crawl.naver_hosts), source)
    db.dispose()


def test_articles_json_and_filters(config_path: Path) -> None:
    _store_two(config_path)
    code, out, _ = invoke("--config", str(config_path), "articles", "--json")
    assert code == 0
    data = json.loads(out)
    assert [a["title"] for a in data] == ["독파모 기사 1", "독파모 기사 0"]
    assert data[1]["oid"] == "001" and data[1]["sources"] == ["feed"]
    assert data[0]["url"] == "https://pub.example/a/2"
    code, out, _ = invoke(
        "--config", str(config_path), "articles", "--json", "--since", "2026-01-15"
    )
    assert [a["title"] for a in json.loads(out)] == ["독파모 기사 1"]
    code, out, _ = invoke("--config", str(config_path), "articles", "--json", "--limit", "1")
    assert len(json.loads(out)) == 1
    code, out, _ = invoke("--config", str(config_path), "articles", "--json", "--source", "feed")
    assert len(json.loads(out)) == 2


def test_export_md_has_seed_style_frontmatter_and_jsonl(config_path: Path, tmp_path: Path) -> None:
    _store_two(config_path)
    code, out, _ = invoke(
        "--config", str(config_path), "export", "--format", "md", "--out", str(tmp_path / "md")
    )
    assert code == 0 and "exported 2" in out
    text = (tmp_path / "md" / "001_0000000001.md").read_text(encoding="utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert list(front) == [
        "id",
        "title",
        "publisher",
        "author",
        "published_at",
        "crawled_at",
        "url",
        "oid",
        "aid",
        "content_hash",
    ]
    assert (
        front["id"] == "001_0000000001" and front["oid"] == "001" and front["aid"] == "0000000001"
    )
    assert front["published_at"] == "2026-01-10 09:00"
    assert "독자 AI 파운데이션 모델 본문 0번째" in text.split("---\n", 3)[3]
    code, _, _ = invoke(
        "--config", str(config_path), "export", "--format", "jsonl", "--out", str(tmp_path / "j")
    )
    rows = [
        json.loads(line) for line in (tmp_path / "j" / "articles.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 2 and all(len(r["content_hash"]) == 64 and r["body"] for r in rows)


def test_sources_shows_never_run(config_path: Path) -> None:
    code, out, _ = invoke("--config", str(config_path), "sources", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "name": "feed",
            "type": "rss",
            "enabled": True,
            "official": False,
            "url": "http://127.0.0.1:9/feed.xml",
            "last_run": None,
            "health": None,
        }
    ]


def test_db_upgrade_and_current(config_path: Path) -> None:
    code, out, _ = invoke("--config", str(config_path), "db", "upgrade")
    assert code == 0 and "revision" in out
    code, out, _ = invoke("--config", str(config_path), "db", "current")
    from tracker.db import head_revision

    assert f"current: {head_revision()}" in out


def test_export_writes_facts_and_changes_as_json_and_csv(config_path: Path, tmp_path: Path) -> None:
    import csv

    _store_two(config_path)
    code, out, _ = invoke("--config", str(config_path), "reextract")
    assert code == 0
    code, out, _ = invoke("--config", str(config_path), "export", "--out", str(tmp_path / "x"))
    assert code == 0 and "fact(s)" in out
    facts = json.loads((tmp_path / "x" / "facts.json").read_text(encoding="utf-8"))
    with (tmp_path / "x" / "facts.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(facts)
    assert all(json.loads(r["values"]) == f["values"] for r, f in zip(rows, facts, strict=True))
    assert json.loads((tmp_path / "x" / "changes.json").read_text(encoding="utf-8")) == []
    header = (tmp_path / "x" / "changes.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("id,kind,subject,stage,before,after,confidence")


def test_schedule_list_shows_the_jobs(config_path: Path) -> None:
    code, out, _ = invoke("--config", str(config_path), "schedule", "--list")
    assert code == 0
    jobs = [line for line in out.splitlines() if line.startswith(("run:", "fast:"))]
    assert jobs and jobs[0].startswith("run:all ") and "sources=feed" in jobs[0]
