"""State folding, corroboration, the change log, and a scripted replay of the news world."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tracker.state import FactRecord, confidence_of, fold, independent_sources
from tracker.world.server import NewsWorld

from .test_e2e_crawl import make_config, run_tracker

ORDER = {"elite_selection": 40, "stage1": 50, "additional_call": 55, "stage2": 60}


def fact(
    article: int,
    subject: str,
    status: str,
    stage: str = "stage1",
    publisher: str = "가상일보",
    story: int | None = None,
    official: bool = False,
    modality: str = "asserted",
    day: int = 15,
) -> FactRecord:
    return FactRecord(
        fact_id=article * 10,
        article_id=article,
        type="stage_outcome",
        subject=subject,
        values={"stage": stage, "status": status, "reason": None},
        modality=modality,
        sentence=f"{subject} {status}",
        url=f"https://example.com/{article}",
        title="t",
        publisher=publisher,
        story_id=story if story is not None else article,
        official=official,
        published_at=datetime(2026, 1, day, tzinfo=UTC),
    )


def test_wire_copies_and_one_publisher_count_once() -> None:
    wire = [
        fact(1, "NC AI", "eliminated", publisher="A", story=1),
        fact(2, "NC AI", "eliminated", publisher="B", story=1),
        fact(3, "NC AI", "eliminated", publisher="C", story=1),
    ]
    assert independent_sources(wire) == 1
    same_publisher = [fact(4, "NC AI", "eliminated", publisher="A", story=4), *wire]
    assert independent_sources(same_publisher) == 1
    other = [*wire, fact(5, "NC AI", "eliminated", publisher="D", story=5)]
    assert independent_sources(other) == 2
    assert confidence_of(wire, 2) == "reported"
    assert confidence_of(other, 2) == "confirmed"
    assert confidence_of([fact(6, "NC AI", "eliminated", official=True)], 2) == "confirmed"


def test_only_asserted_outcomes_change_state() -> None:
    facts = [
        fact(1, "NC AI", "eliminated", modality="speculative"),
        fact(2, "NC AI", "eliminated", modality="question"),
        fact(3, "NC AI", "eliminated", modality="negated"),
        fact(4, "NC AI", "eliminated", modality="retrospective"),
    ]
    state, drafts = fold(facts, ORDER, 2, date(2026, 1, 20))
    assert drafts == [] and state.teams == {}


def test_rumour_then_official_confirmation_and_a_contradicted_rumour() -> None:
    rumour = fact(1, "NC AI", "eliminated", publisher="루머일보", day=12)
    _, drafts = fold([rumour], ORDER, 2, date(2026, 1, 13))
    assert [(d.kind, d.confidence) for d in drafts] == [("team_eliminated", "reported")]
    official = fact(2, "NC AI", "eliminated", publisher="과학기술정보통신부", official=True)
    state, drafts = fold([rumour, official], ORDER, 2, date(2026, 1, 16))
    assert [(d.key, d.confidence) for d in drafts] == [
        ("team_eliminated|NC AI|stage1|eliminated", "confirmed")
    ]
    assert state.teams["NC AI"].status == "eliminated"
    wrong = fact(3, "SK텔레콤", "eliminated", publisher="루머일보", day=12)
    right = fact(4, "SK텔레콤", "advanced", official=True)
    state, drafts = fold([wrong, right], ORDER, 2, date(2026, 1, 16))
    by_kind = {d.kind: d.confidence for d in drafts}
    assert by_kind == {"team_eliminated": "retracted", "team_advanced": "confirmed"}
    assert state.teams["SK텔레콤"].status == "active"


def test_fold_is_deterministic_and_order_independent() -> None:
    facts = [
        fact(1, "LG AI연구원", "advanced", official=True),
        fact(2, "모티프테크놀로지스", "selected", stage="additional_call", official=True, day=24),
        fact(3, "NC AI", "eliminated", official=True),
        fact(4, "NC AI", "withdrew", stage="additional_call", official=True, day=20),
    ]
    first = fold(facts, ORDER, 2, date(2026, 2, 1))
    second = fold(list(reversed(facts)), ORDER, 2, date(2026, 2, 1))
    assert first[0].to_dict() == second[0].to_dict()
    assert sorted(d.key for d in first[1]) == sorted(d.key for d in second[1])
    kinds = {d.kind for d in first[1]}
    assert {"team_added", "team_withdrew", "team_eliminated", "team_advanced"} <= kinds
    # Not applying to the additional call leaves an eliminated team eliminated.
    assert first[0].teams["NC AI"].status == "eliminated"
    assert first[0].teams_remaining == 2


@pytest.fixture(scope="module")
def world() -> Any:
    with NewsWorld() as running:
        yield running


def changes(config: Path) -> list[dict[str, Any]]:
    result = run_tracker(config, "changes", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def team_changes(config: Path) -> dict[str, dict[str, Any]]:
    return {
        f"{c['kind']} {c['subject']}": c for c in changes(config) if c["kind"].startswith("team_")
    }


@pytest.mark.slow
def test_replay_of_the_news_world_through_tracker_run(tmp_path: Path, world: NewsWorld) -> None:
    config = make_config(tmp_path, world)
    # Day 1 is the first run: everything found is history (silent), no team outcome yet.
    world.set_day(1)
    first = run_tracker(config, "run")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "baseline" in first.stdout
    assert team_changes(config) == {}

    # Day 2: speculation ("누가 탈락할지", "탈락 유력") changes nothing.
    world.set_day(2)
    assert run_tracker(config, "run").returncode == 0
    assert team_changes(config) == {}

    # Day 3: one outlet's rumour is recorded as reported, not confirmed; the denial is not news.
    world.set_day(3)
    assert run_tracker(config, "run").returncode == 0
    day3 = team_changes(config)
    assert set(day3) == {"team_eliminated NC AI"}
    rumour = day3["team_eliminated NC AI"]
    assert rumour["confidence"] == "reported" and rumour["confirmed_at"] is None

    # Day 4: the ministry's results confirm the rumour (same change) and add the rest.
    world.set_day(4)
    assert run_tracker(config, "run").returncode == 0
    day4 = team_changes(config)
    assert day4["team_eliminated NC AI"]["id"] == rumour["id"]
    assert day4["team_eliminated NC AI"]["confidence"] == "confirmed"
    assert set(day4) == {
        "team_eliminated NC AI",
        "team_eliminated 네이버클라우드",
        "team_advanced LG AI연구원",
        "team_advanced SK텔레콤",
        "team_advanced 업스테이지",
    }
    assert all(c["confidence"] == "confirmed" for c in day4.values())
    evidence = day4["team_eliminated 네이버클라우드"]["evidence"]
    assert any(e["official"] for e in evidence)
    assert all(e["sentence"] and e["url"] for e in evidence)

    # Day 5: the adjacent 모두의 AI selections and the GPU lease story are no outcomes.
    world.set_day(5)
    assert run_tracker(config, "run").returncode == 0
    day5 = team_changes(config)
    assert not {k for k in day5 if k.startswith("team_selected")}
    assert "team_withdrew 네이버클라우드" in day5

    # Day 6: 모티프테크놀로지스 joins through the additional call.
    world.set_day(6)
    assert run_tracker(config, "run").returncode == 0
    day6 = team_changes(config)
    assert day6["team_added 모티프테크놀로지스"]["confidence"] == "confirmed"
    count = len(changes(config))

    # Re-running, or rebuilding from stored facts, adds nothing.
    assert run_tracker(config, "run").returncode == 0
    assert run_tracker(config, "rebuild").returncode == 0
    assert len(changes(config)) == count

    status = json.loads(run_tracker(config, "status", "--json").stdout)
    teams = {t["name"]: t for t in status["teams"]}
    assert teams["NC AI"]["status"] == "eliminated"
    assert teams["네이버클라우드"]["status"] == "eliminated"
    assert teams["LG AI연구원"]["status"] == "active"
    assert teams["모티프테크놀로지스"]["status"] == "selected"
    assert status["programme"]["teams_remaining"] == 4
    assert teams["SK텔레콤"]["models"]["A.X K1"]["params_total"] == 519_000_000_000
    shown = run_tracker(config, "show", str(day4["team_eliminated NC AI"]["id"]))
    assert "confirmed" in shown.stdout and "과학기술정보통신부" in shown.stdout


@pytest.mark.slow
def test_backfill_pages_through_known_api_pages_and_stays_silent(
    tmp_path: Path, world: NewsWorld
) -> None:
    world.set_day(3)
    config = make_config(tmp_path, world)
    text = config.read_text(encoding="utf-8").replace(
        "queries:\n  - 독파모\n", "display: 5\n  queries:\n  - 독파모\n"
    )
    config.write_text(text, encoding="utf-8")
    assert "display: 5" in text
    assert run_tracker(config, "run", "--source", "naver").returncode == 0  # the baseline
    world.set_day(None)
    world.reset_counts()
    assert run_tracker(config, "run", "--source", "naver").returncode == 0
    first_pages = world.requests["/v1/search/news.json"]
    alerted = {c["id"] for c in changes(config) if not c["silent"]}
    assert alerted, "changes after the baseline are news"
    world.reset_counts()
    # An ordinary re-run stops at the first page with nothing new (one page per query).
    assert run_tracker(config, "run", "--source", "naver").returncode == 0
    assert world.requests["/v1/search/news.json"] == 2
    world.reset_counts()
    result = run_tracker(config, "backfill", "--since", "2025-12-01", "--source", "naver")
    assert result.returncode == 0, result.stderr
    assert "recorded as history" in result.stdout
    assert world.requests["/v1/search/news.json"] >= first_pages > 2
    # Nothing a backfill records is news: whatever it added is silent.
    after = changes(config)
    assert {c["id"] for c in after if not c["silent"]} == alerted


class Inbox:
    """An aiosmtpd handler that keeps every accepted message."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        message = message_from_bytes(envelope.content, policy=policy.default)
        for recipient in envelope.rcpt_tos:
            self.messages.append((recipient, message))
        return "250 OK"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_mails_once_per_change_and_recipient_even_through_an_smtp_outage(
    tmp_path: Path, world: NewsWorld
) -> None:
    from aiosmtpd.controller import Controller

    port = free_port()
    alerts = {
        "smtp": {"host": "127.0.0.1", "port": port, "timeout": 3},
        "from": "tracker@example.com",
        "to": ["analyst@example.com", "partner@example.com"],
        "retry_base_seconds": 0,
        "digest": {"enabled": False},
    }
    config = make_config(tmp_path, world, alerts=alerts)
    world.set_day(2)
    assert run_tracker(config, "run").returncode == 0  # baseline: no mail owed
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        # Day 3: a single-outlet rumour is not mailed (on_report is off).
        world.set_day(3)
        assert run_tracker(config, "run").returncode == 0
        assert inbox.messages == []
    finally:
        controller.stop()

    # Day 4 while the SMTP server is down: two runs fail softly, the mails stay pending.
    world.set_day(4)
    for _ in range(2):
        result = run_tracker(config, "run")
        assert result.returncode == 0, result.stderr
        assert "failed (will retry)" in result.stdout
    pending = json.loads(run_tracker(config, "alerts", "pending", "--json").stdout)
    assert len(pending) == 10 and all(p["attempts"] == 2 for p in pending)
    assert all(p["status"] == "pending" and p["last_error"] for p in pending)

    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert run_tracker(config, "run").returncode == 0
        assert run_tracker(config, "run").returncode == 0  # nothing twice
    finally:
        controller.stop()
    subjects = sorted((to, str(m["Subject"])) for to, m in inbox.messages)
    assert len(subjects) == 10 and len(set(subjects)) == 10
    assert {to for to, _ in subjects} == {"analyst@example.com", "partner@example.com"}
    teams = {"NC AI", "네이버클라우드", "LG AI연구원", "SK텔레콤", "업스테이지"}
    for team in teams:
        assert sum(team in s for _, s in subjects) == 2, (team, subjects)
    assert not any("루머" in s or "speculat" in s for _, s in subjects)
    _, first = inbox.messages[0]
    assert first.get_body(("plain",)) is not None and first.get_body(("html",)) is not None
    assert json.loads(run_tracker(config, "alerts", "pending", "--json").stdout) == []

    # Days 5 and 6: withdrawals and the added team are mailed; the adjacent 모두의 AI
    # selections (SKT, 카카오, KT consortia) and retrospective mentions are not.
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        before = len(inbox.messages)
        for day in (5, 6):
            world.set_day(day)
            assert run_tracker(config, "run").returncode == 0
        assert run_tracker(config, "run").returncode == 0
    finally:
        controller.stop()
    later = sorted(
        str(m["Subject"]) for to, m in inbox.messages[before:] if to == "analyst@example.com"
    )
    assert len(inbox.messages[before:]) == 2 * len(later)
    assert any("모티프테크놀로지스" in s for s in later), later
    assert any("네이버클라우드" in s for s in later), later
    assert not any("카카오" in s or "KT" in s for s in later), later


@pytest.mark.slow
def test_alerts_test_command_and_dry_run(tmp_path: Path, world: NewsWorld) -> None:
    from aiosmtpd.controller import Controller

    port = free_port()
    alerts = {
        "smtp": {"host": "127.0.0.1", "port": port, "timeout": 3},
        "from": "tracker@example.com",
        "to": ["analyst@example.com"],
        "digest": {"enabled": False},
    }
    config = make_config(tmp_path, world, alerts=alerts)
    down = run_tracker(config, "alerts", "test")
    assert down.returncode == 1 and "refused" in down.stderr
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert run_tracker(config, "alerts", "test").returncode == 0
        assert len(inbox.messages) == 1
        world.set_day(3)
        assert run_tracker(config, "run").returncode == 0  # baseline
        world.set_day(4)
        dry = run_tracker(config, "run", "--dry-run")
        assert dry.returncode == 0
        assert "Subject:" in dry.stdout and "(dry run, nothing sent)" in dry.stdout
        assert len(inbox.messages) == 1  # nothing sent by the dry run
        assert run_tracker(config, "alerts", "send").returncode == 0
        assert len(inbox.messages) == 1 + 4  # the four changes day 4 confirms beyond day 3's
    finally:
        controller.stop()


@pytest.mark.slow
def test_alerts_switched_on_later_do_not_mail_the_history(tmp_path: Path, world: NewsWorld) -> None:
    from aiosmtpd.controller import Controller

    world.set_day(4)
    config = make_config(tmp_path, world)
    assert run_tracker(config, "run").returncode == 0  # baseline
    world.set_day(5)
    assert run_tracker(config, "run").returncode == 0  # news, but nobody to tell yet
    port = free_port()
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["alerts"] = {"smtp": {"host": "127.0.0.1", "port": port}, "to": ["late@example.com"]}
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert run_tracker(config, "run").returncode == 0
        assert inbox.messages == []  # day 5's withdrawal happened before alerts were on
        world.set_day(6)
        assert run_tracker(config, "run").returncode == 0
    finally:
        controller.stop()
    subjects = [str(m["Subject"]) for _, m in inbox.messages]
    assert any("모티프테크놀로지스" in s for s in subjects)
    assert not any("네이버클라우드" in s for s in subjects)


def test_a_first_run_that_stored_nothing_is_no_baseline(tmp_path: Path) -> None:
    from tracker.config import load_config
    from tracker.cycle import baseline_recorded, track
    from tracker.db import Database
    from tracker.facts.entities import load_entities

    from .conftest import write_config

    config = load_config(write_config(tmp_path, [{"name": "f", "type": "rss", "url": "http://x/"}]))
    database = Database(config.database_url)
    with database.begin() as session:
        _, silent = track(session, config, load_entities(config.entities_path), datetime.now(UTC))
        assert silent and not baseline_recorded(session)
    database.dispose()
