"""E-mail alerts: rendering (golden), the outbox's exactly-once delivery, SMTP against aiosmtpd."""

from __future__ import annotations

import email
import ipaddress
import os
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from tracker.alerts import (
    AlertDeliveryError,
    DispatchResult,
    MemorySender,
    SmtpSender,
    alert_subject,
    as_bytes,
    backoff,
    clean_header,
    dispatch_pending,
    enqueue_alerts,
    next_digest_at,
    pending_alerts,
    render_alert,
    render_digest,
    requeue_failed,
    send_test,
)
from tracker.alerts.senders import AlertSender
from tracker.config import AlertsConfig
from tracker.db import Database
from tracker.errors import ConfigError
from tracker.models import AlertOutbox, Article, Change, ChangeEvidence

GOLDEN = Path(__file__).parent / "fixtures" / "alerts"
UPDATE_GOLDEN = os.environ.get("UPDATE_GOLDEN") == "1"
A, B = "a@example.org", "b@example.org"
# 2025-01-15 12:00 KST
T0 = datetime(2025, 1, 15, 3, 0, tzinfo=UTC)
KST_OFFSET = timedelta(hours=9)


def kst(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - KST_OFFSET


def make_config(**overrides: Any) -> AlertsConfig:
    data: dict[str, Any] = {
        "from": "독파모 알림 <alerts@example.org>",
        "to": [A, B],
        "retry_base_seconds": 60,
        "max_attempts": 8,
    }
    data.update(overrides)
    return AlertsConfig.model_validate(data)


# ---------------------------------------------------------------- database helpers


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 't.db'}")
    yield database
    database.dispose()


@dataclass(frozen=True)
class Ev:
    url: str
    publisher: str
    title: str
    sentence: str
    official: bool = False


NEWS = Ev(
    "https://news.example.com/it/1001",
    "예시일보",
    "엔씨AI, 독자 AI 1차 평가서 고배",
    "과기정통부는 NC AI가 1차 단계평가를 통과하지 못했다고 밝혔다.",
)
NEWS2 = Ev(
    "https://daily.example.net/articles/77",
    "가상경제",
    "독파모 1차 관문, 한 팀 탈락",
    "1차 단계평가에서 NC AI가 탈락해 남은 팀은 네 곳이 됐다.",
)
OFFICIAL = Ev(
    "https://www.korea.kr/briefing/pressReleaseView.do?newsId=1",
    "정책브리핑",
    "독자 AI 파운데이션 모델 1차 단계평가 결과 발표",
    "1차 단계평가 결과 네 개 정예팀이 2차 단계평가에 진출한다.",
    official=True,
)

_article_seq = iter(range(1, 10_000))


def add_change(
    session: Any,
    key: str,
    *,
    kind: str = "team_eliminated",
    subject: str = "NC AI",
    stage: str | None = "stage1",
    before: str | None = "advanced",
    after: str | None = "eliminated",
    confidence: str = "confirmed",
    first_seen_at: datetime = T0,
    silent: bool = False,
    evidence: tuple[Ev, ...] = (NEWS, OFFICIAL),
) -> Change:
    change = Change(
        key=key,
        kind=kind,
        subject=subject,
        stage=stage,
        before=before,
        after=after,
        confidence=confidence,
        first_seen_at=first_seen_at,
        confirmed_at=first_seen_at if confidence == "confirmed" else None,
        silent=silent,
    )
    session.add(change)
    session.flush()
    for item in evidence:
        add_evidence(session, change, item)
    return change


def add_evidence(session: Any, change: Change, item: Ev) -> None:
    n = next(_article_seq)
    article = Article(
        canonical_url=f"{item.url}#{n}",
        content_hash=f"{n:064d}",
        title=item.title,
        body=item.sentence,
        publisher=item.publisher,
    )
    session.add(article)
    session.flush()
    session.add(
        ChangeEvidence(
            change_id=change.id,
            article_id=article.id,
            url=item.url,
            publisher=item.publisher,
            title=item.title,
            sentence=item.sentence,
            official=item.official,
        )
    )
    session.flush()


def update_change(db: Database, key: str, **values: Any) -> None:
    with db.begin() as session:
        change = session.scalars(select(Change).where(Change.key == key)).one()
        for name, value in values.items():
            setattr(change, name, value)


def outbox(db: Database) -> list[AlertOutbox]:
    with db.begin() as session:
        return list(session.scalars(select(AlertOutbox).order_by(AlertOutbox.id)))


def cycle(db: Database, sender: AlertSender, config: AlertsConfig, now: datetime) -> DispatchResult:
    """One ``tracker run`` worth of alerting: enqueue, commit, dispatch, commit."""
    with db.begin() as session:
        enqueue_alerts(session, config, now)
    with db.begin() as session:
        return dispatch_pending(session, sender, config, now)


def subjects(messages: list[EmailMessage]) -> list[tuple[str, str]]:
    return sorted((str(m["To"]), str(m["Subject"])) for m in messages)


# ---------------------------------------------------------------- SMTP server helpers


class Inbox:
    """aiosmtpd handler keeping every accepted message; can refuse chosen recipients."""

    def __init__(self, refuse: tuple[str, ...] = ()) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse = refuse

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted"

    @property
    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=default_policy)  # type: ignore[misc]
            for e in self.envelopes
        ]

    def deliveries(self) -> list[tuple[str, str]]:
        """(recipient, Message-ID) of every delivery."""
        return sorted(
            (rcpt, str(m["Message-ID"]))
            for e, m in zip(self.envelopes, self.messages, strict=True)
            for rcpt in e.rcpt_tos
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server(handler: Inbox, port: int | None = None, **kwargs: Any) -> Iterator[int]:
    port = port or free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass(frozen=True)
class Tls:
    cert: Path
    key: Path

    def server(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context

    def client(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1, made with ``cryptography``."""
    directory = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dokpamo test SMTP")])
    start = datetime.now(UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Tls(cert_path, key_path)


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == b"tracker"
        and auth_data.password == b"s3cret-pw"
    )
    return AuthResult(success=ok, handled=False)


# ---------------------------------------------------------------- rendering


def readable(message: EmailMessage) -> str:
    """The wire form parsed back, headers and decoded parts, for golden comparison."""
    parsed = email.message_from_bytes(as_bytes(message), policy=default_policy)
    names = ("Subject", "From", "To", "Message-ID", "Date", "Auto-Submitted", "X-Dokpamo-Alert")
    lines = [f"{name}: {parsed[name]}" for name in names if parsed[name] is not None]
    lines.append(f"Content-Type: {parsed.get_content_type()} boundary={parsed.get_boundary()}")
    for part in parsed.iter_parts():
        cte = part["Content-Transfer-Encoding"]
        lines.append(f"=== {part.get_content_type()} {part.get_content_charset()} {cte}")
        lines.append(part.get_content().rstrip("\n"))
    return "\n".join(lines) + "\n"


def check_golden(name: str, message: EmailMessage) -> None:
    path = GOLDEN / f"{name}.txt"
    text = readable(message)
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def _detached_change(**values: Any) -> tuple[Change, list[ChangeEvidence]]:
    """A change and its evidence as plain objects: rendering needs no database."""
    evidence_items = values.pop("evidence", (NEWS, OFFICIAL))
    change = Change(
        id=values.pop("id", 7),
        key=values.pop("key", "team_eliminated|NC AI|stage1|eliminated"),
        kind=values.pop("kind", "team_eliminated"),
        subject=values.pop("subject", "NC AI"),
        stage=values.pop("stage", "stage1"),
        before=values.pop("before", "advanced"),
        after=values.pop("after", "eliminated"),
        confidence=values.pop("confidence", "confirmed"),
        first_seen_at=values.pop("first_seen_at", T0),
        confirmed_at=values.pop("confirmed_at", T0 + timedelta(hours=3)),
        retracted_at=values.pop("retracted_at", None),
        silent=False,
    )
    assert not values, values
    evidence = [
        ChangeEvidence(
            id=i,
            change_id=change.id,
            article_id=i,
            url=e.url,
            publisher=e.publisher,
            title=e.title,
            sentence=e.sentence,
            official=e.official,
        )
        for i, e in enumerate(evidence_items, start=1)
    ]
    change.evidence = evidence
    return change, evidence


WHEN = T0 + timedelta(hours=4)


def test_render_confirmed_alert_golden() -> None:
    change, evidence = _detached_change()
    message = render_alert(change, evidence, "immediate", make_config(), recipient=A, when=WHEN)
    assert message["Subject"] == "[독파모] 확정: NC AI 1차 단계평가 탈락"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    check_golden("immediate_confirmed", message)


def test_render_unconfirmed_alert_golden() -> None:
    change, evidence = _detached_change(confidence="reported", confirmed_at=None, evidence=(NEWS,))
    message = render_alert(change, evidence, "unconfirmed", make_config(), recipient=A, when=WHEN)
    assert message["Subject"] == "[독파모] 미확인 보도: NC AI 1차 단계평가 탈락"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "미확인 보도입니다" in text
    assert "아직 공식 발표나 다른 독립 매체의 보도로 확인되지 않았습니다" in text
    check_golden("unconfirmed_reported", message)


def test_render_correction_golden() -> None:
    change, evidence = _detached_change(
        confidence="retracted",
        confirmed_at=None,
        retracted_at=T0 + timedelta(hours=2),
        evidence=(NEWS,),
    )
    message = render_alert(change, evidence, "correction", make_config(), recipient=B, when=WHEN)
    assert message["Subject"] == "[독파모] 정정: NC AI 1차 단계평가 탈락 (앞선 알림 철회)"
    check_golden("correction_retracted", message)


def test_render_digest_golden() -> None:
    model, _ = _detached_change(
        id=11,
        key="model_announced|LG AI연구원|K-EXAONE 2.0",
        kind="model_announced",
        subject="LG AI연구원",
        stage=None,
        before="K-EXAONE",
        after="K-EXAONE 2.0",
        confidence="reported",
        confirmed_at=None,
        evidence=(NEWS2,),
    )
    schedule, _ = _detached_change(
        id=12,
        key="schedule_set|dokpamo|stage2|2025-06",
        kind="schedule_set",
        subject="독파모",
        stage="stage2",
        before=None,
        after="2025-06-01",
        evidence=(OFFICIAL,),
    )
    day = datetime(2025, 1, 16).date()
    message = render_digest([schedule, model], day, make_config(), recipient=A, when=WHEN)
    assert message["Subject"] == "[독파모] 일일 요약 2025-01-16"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    # Ordered by change id, each with its confidence.
    assert text.index("LG AI연구원 모델 공개: K-EXAONE 2.0") < text.index(
        "독파모 2차 단계평가 일정"
    )
    check_golden("digest", message)


def test_render_is_deterministic_and_message_id_fixed_per_change_recipient_kind() -> None:
    change, evidence = _detached_change()
    config = make_config()
    first = render_alert(change, evidence, "immediate", config, recipient=A, when=WHEN)
    again = render_alert(change, evidence, "immediate", config, recipient=A, when=WHEN)
    assert as_bytes(first) == as_bytes(again)
    other_recipient = render_alert(change, evidence, "immediate", config, recipient=B)
    other_kind = render_alert(change, evidence, "unconfirmed", config, recipient=A)
    ids = {str(m["Message-ID"]) for m in (first, other_recipient, other_kind)}
    assert len(ids) == 3
    assert all(i.endswith("@example.org>") for i in ids)


def test_render_escapes_html_and_article_text_cannot_inject_headers() -> None:
    evil = Ev(
        "javascript:alert(1)",
        "악성\r\nBcc: evil@example.com",
        '<script>alert("x")</script>\r\nBcc: evil@example.com',
        'NC AI가 <b>탈락</b>했다 & "확정"\nBcc: evil@example.com',
    )
    change, evidence = _detached_change(
        subject="NC AI\r\nBcc: evil@example.com\x00\u202e\u2028X", evidence=(evil,)
    )
    message = render_alert(change, evidence, "immediate", make_config(), recipient=A)
    subject = str(message["Subject"])
    assert "\r" not in subject and "\n" not in subject
    assert not any(c in subject for c in "\x00\u202e\u2028")
    assert subject == "[독파모] 확정: NC AI Bcc: evil@example.com X 1차 단계평가 탈락"
    wire = as_bytes(message)
    assert message["Bcc"] is None
    assert b"\nBcc:" not in wire and b"\nbcc:" not in wire.lower()
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;탈락&lt;/b&gt;" in html and "&amp;" in html
    assert 'href="javascript:' not in html  # only http(s) evidence becomes a link
    # No external resources: nothing loads anything.
    assert not any(tag in html.lower() for tag in ("<img", "<link", "<script", " src=", "url("))


def test_clean_header_strips_controls_and_truncates() -> None:
    assert clean_header("a\r\nb\tc\x0bd\u200be") == "a b c d e"
    long = clean_header("가" * 500)
    assert len(long) == 180 and long.endswith("…")


def test_header_injection_attempt_reaches_only_the_configured_recipient() -> None:
    change, evidence = _detached_change(
        subject="NC AI\r\nBcc: evil@example.com",
        evidence=(Ev("https://x.example/1", "p", "t\r\nBcc: evil@example.com", "s"),),
    )
    message = render_alert(change, evidence, "immediate", make_config(), recipient=A)
    inbox = Inbox()
    with smtp_server(inbox) as port:
        SmtpSender(make_config(smtp={"host": "127.0.0.1", "port": port}).smtp).send(message)
    assert [e.rcpt_tos for e in inbox.envelopes] == [[A]]
    assert inbox.messages[0]["Bcc"] is None


# ---------------------------------------------------------------- enqueue


def test_enqueue_is_idempotent_and_skips_silent_changes(db: Database) -> None:
    config = make_config()
    with db.begin() as session:
        add_change(session, "k1")
        add_change(session, "k2", subject="모티프테크놀로지스", kind="team_advanced")
        add_change(session, "k3", silent=True)
        add_change(session, "k4", confidence="reported")  # on_report is off
    with db.begin() as session:
        assert enqueue_alerts(session, config, T0) == 4
    with db.begin() as session:
        assert enqueue_alerts(session, config, T0 + timedelta(hours=1)) == 0
    rows = outbox(db)
    assert sorted((r.change_id, r.recipient, r.kind) for r in rows) == [
        (1, A, "immediate"),
        (1, B, "immediate"),
        (2, A, "immediate"),
        (2, B, "immediate"),
    ]
    assert {r.subject for r in rows} == {
        "[독파모] 확정: NC AI 1차 단계평가 탈락",
        "[독파모] 확정: 모티프테크놀로지스 1차 단계평가 통과",
    }
    assert all(r.status == "pending" and r.next_attempt_at == T0 for r in rows)


def test_enqueue_does_nothing_when_disabled_or_without_recipients(db: Database) -> None:
    with db.begin() as session:
        add_change(session, "k1")
    with db.begin() as session:
        assert enqueue_alerts(session, make_config(enabled=False), T0) == 0
        assert enqueue_alerts(session, make_config(to=[]), T0) == 0
    assert outbox(db) == []


def test_next_digest_at_is_the_next_hour_in_kst() -> None:
    assert next_digest_at(kst(2025, 1, 15, 7, 59), 8) == kst(2025, 1, 15, 8)
    assert next_digest_at(kst(2025, 1, 15, 8), 8) == kst(2025, 1, 16, 8)
    assert next_digest_at(kst(2025, 1, 15, 23, 30), 0) == kst(2025, 1, 16, 0)
    with pytest.raises(ValueError, match="naive"):
        next_digest_at(datetime(2025, 1, 15), 8)


# ---------------------------------------------------------------- dispatch with a real server


def test_each_alert_is_delivered_once_per_recipient_across_runs(database_url: str) -> None:
    db = Database(database_url)
    try:
        inbox = Inbox()
        with smtp_server(inbox) as port:
            config = make_config(smtp={"host": "127.0.0.1", "port": port, "timeout": 5})
            sender = SmtpSender(config.smtp)
            with db.begin() as session:
                add_change(session, "k1")
            assert cycle(db, sender, config, T0) == DispatchResult(2, 0, 0)
            with db.begin() as session:
                add_change(session, "k2", subject="업스테이지", kind="team_advanced")
            for hours in (1, 2, 30):
                result = cycle(db, sender, config, T0 + timedelta(hours=hours))
                assert result.failed == 0 and result.pending == 0
        deliveries = inbox.deliveries()
        assert len(deliveries) == 4 == len(set(deliveries))
        assert sorted(r for r, _ in deliveries) == [A, A, B, B]
        rows = outbox(db)
        assert all(r.status == "sent" and r.attempts == 1 for r in rows)
        assert {r.message_id for r in rows} == {m for _, m in deliveries}
        assert rows[0].sent_at == T0
    finally:
        db.dispose()


def test_smtp_down_for_two_runs_then_up_delivers_each_alert_once(database_url: str) -> None:
    db = Database(database_url)
    try:
        port = free_port()  # nothing listens here yet
        config = make_config(smtp={"host": "127.0.0.1", "port": port, "timeout": 5})
        sender = SmtpSender(config.smtp)
        with db.begin() as session:
            add_change(session, "k1")
            add_change(session, "k2", subject="업스테이지", kind="team_advanced")
        first = cycle(db, sender, config, T0)
        assert first == DispatchResult(sent=0, failed=4, pending=4)
        rows = outbox(db)
        assert "refused" in rows[0].last_error
        assert "not attempted" in rows[1].last_error
        assert {r.next_attempt_at for r in rows} == {T0 + timedelta(seconds=60)}
        # Not due yet: nothing is tried.
        assert cycle(db, sender, config, T0 + timedelta(seconds=59)) == DispatchResult(0, 0, 4)
        second = cycle(db, sender, config, T0 + timedelta(seconds=60))
        assert second == DispatchResult(sent=0, failed=4, pending=4)
        assert {r.attempts for r in outbox(db)} == {2}
        inbox = Inbox()
        with smtp_server(inbox, port=port):
            assert cycle(db, sender, config, T0 + timedelta(seconds=120)) == DispatchResult(0, 0, 4)
            third = cycle(db, sender, config, T0 + timedelta(seconds=180))
            assert third == DispatchResult(sent=4, failed=0, pending=0)
            for hours in (1, 25):
                assert cycle(db, sender, config, T0 + timedelta(hours=hours)).sent == 0
        deliveries = inbox.deliveries()
        assert len(deliveries) == 4 == len(set(deliveries))
        assert all(
            r.status == "sent" and r.attempts == 3 and r.last_error == "" for r in outbox(db)
        )
    finally:
        db.dispose()


class CrashAfterSend:
    """Delivers, then dies before the outbox can record it (a crash between send and record)."""

    def __init__(self, inner: AlertSender) -> None:
        self.inner = inner

    def send(self, message: EmailMessage) -> None:
        self.inner.send(message)
        raise KeyboardInterrupt("process killed")


def test_crash_between_send_and_record_resends_with_the_same_message_id(db: Database) -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        config = make_config(to=[A], smtp={"host": "127.0.0.1", "port": port})
        sender = SmtpSender(config.smtp)
        with db.begin() as session:
            add_change(session, "k1")
            enqueue_alerts(session, config, T0)
        with pytest.raises(KeyboardInterrupt), db.begin() as session:
            dispatch_pending(session, CrashAfterSend(sender), config, T0)
        [row] = outbox(db)
        assert row.status == "pending"  # the transaction rolled back: still owed, not lost
        assert cycle(db, sender, config, T0 + timedelta(minutes=5)).sent == 1
        assert cycle(db, sender, config, T0 + timedelta(minutes=10)).sent == 0
    first, second = inbox.messages
    assert first["Message-ID"] == second["Message-ID"]  # recognisable duplicate
    assert as_bytes_without_date(first) == as_bytes_without_date(second)
    [row] = outbox(db)
    assert row.status == "sent" and row.message_id == first["Message-ID"]


def as_bytes_without_date(message: EmailMessage) -> bytes:
    del message["Date"]
    return message.as_bytes()


def test_committed_claim_left_sending_is_retried_after_its_lease(db: Database) -> None:
    config = make_config(to=[A])
    sender = MemorySender()
    with db.begin() as session:
        add_change(session, "k1")
        enqueue_alerts(session, config, T0)
    with db.begin() as session:  # a dispatcher that committed its claim, then died
        row = session.scalars(select(AlertOutbox)).one()
        row.status = "sending"
        row.next_attempt_at = T0 + timedelta(minutes=15)
    assert cycle(db, sender, config, T0 + timedelta(minutes=5)) == DispatchResult(0, 0, 1)
    assert cycle(db, sender, config, T0 + timedelta(minutes=15)) == DispatchResult(1, 0, 0)
    assert len(sender.sent) == 1


def test_refused_recipient_fails_alone(db: Database) -> None:
    inbox = Inbox(refuse=(B,))
    with smtp_server(inbox) as port:
        config = make_config(smtp={"host": "127.0.0.1", "port": port})
        with db.begin() as session:
            add_change(session, "k1")
            add_change(session, "k2", subject="업스테이지", kind="team_advanced")
        result = cycle(db, SmtpSender(config.smtp), config, T0)
    assert result == DispatchResult(sent=2, failed=2, pending=2)
    assert [rcpt for rcpt, _ in inbox.deliveries()] == [A, A]
    failed = [r for r in outbox(db) if r.status == "pending"]
    assert {r.recipient for r in failed} == {B}
    assert all("refused recipients" in r.last_error and "550" in r.last_error for r in failed)


def test_backoff_doubles_and_is_capped_at_a_day(db: Database) -> None:
    config = make_config(to=[A], retry_base_seconds=3600, max_attempts=10)
    sender = MemorySender(fail_times=100)
    with db.begin() as session:
        add_change(session, "k1")
    now = T0
    waits = []
    for attempt in range(1, 10):
        result = cycle(db, sender, config, now)
        assert result.failed == 1 and sender.attempts == attempt
        [row] = outbox(db)
        waits.append(row.next_attempt_at - now)
        # One second early: not due, not tried.
        cycle(db, sender, config, row.next_attempt_at - timedelta(seconds=1))
        assert sender.attempts == attempt
        now = row.next_attempt_at
    hours = [w / timedelta(hours=1) for w in waits]
    assert hours == [1, 2, 4, 8, 16, 24, 24, 24, 24]
    assert backoff(1, 60) == timedelta(seconds=60)
    assert backoff(3, 60) == timedelta(seconds=240)
    assert backoff(100, 60) == timedelta(days=1)


def test_gives_up_after_max_attempts_and_can_be_requeued(db: Database) -> None:
    config = make_config(to=[A], max_attempts=3, retry_base_seconds=10)
    sender = MemorySender(fail_times=3, error="451 try later")
    with db.begin() as session:
        add_change(session, "k1")
    now = T0
    for _ in range(3):
        cycle(db, sender, config, now)
        now += timedelta(hours=1)
    [row] = outbox(db)
    assert (row.status, row.attempts, row.last_error) == ("failed", 3, "451 try later")
    assert cycle(db, sender, config, now + timedelta(days=3)) == DispatchResult(0, 0, 0)
    assert sender.attempts == 3
    with db.begin() as session:
        listed = pending_alerts(session)
        assert [(r.status, r.attempts) for r in listed] == [("failed", 3)]
        assert pending_alerts(session, include_failed=False) == []
        assert requeue_failed(session, now) == 1
    assert cycle(db, sender, config, now).sent == 1
    assert len(sender.sent) == 1


def test_dry_run_renders_without_sending_or_changing_rows(db: Database) -> None:
    config = make_config()
    sender = MemorySender()
    with db.begin() as session:
        add_change(session, "k1")
        enqueue_alerts(session, config, T0)
    with db.begin() as session:
        result = dispatch_pending(session, sender, config, T0, dry_run=True)
    assert (result.sent, result.failed, result.pending) == (0, 0, 2)
    assert subjects(list(result.messages)) == [
        (A, "[독파모] 확정: NC AI 1차 단계평가 탈락"),
        (B, "[독파모] 확정: NC AI 1차 단계평가 탈락"),
    ]
    assert sender.attempts == 0
    assert all(r.status == "pending" and r.attempts == 0 for r in outbox(db))


def test_limit_sends_at_most_that_many(db: Database) -> None:
    config = make_config()
    sender = MemorySender()
    with db.begin() as session:
        add_change(session, "k1")
        enqueue_alerts(session, config, T0)
    with db.begin() as session:
        assert dispatch_pending(session, sender, config, T0, limit=1) == DispatchResult(1, 0, 1)
    with db.begin() as session:
        assert dispatch_pending(session, sender, config, T0, limit=1) == DispatchResult(1, 0, 0)
    assert [str(m["To"]) for m in sender.sent] == [A, B]


# ---------------------------------------------------------------- digest, on_report, retraction


def test_digest_groups_the_days_changes_and_waits_for_the_hour(db: Database) -> None:
    config = make_config(digest={"enabled": True, "hour": 8})
    sender = MemorySender()
    with db.begin() as session:
        add_change(session, "team", first_seen_at=T0)
        add_change(
            session, "model", kind="model_announced", subject="LG AI연구원", stage=None,
            before=None, after="K-EXAONE 2.0", confidence="reported", evidence=(NEWS2,),
        )  # fmt: skip
        add_change(
            session, "score", kind="score_published", subject="업스테이지", after="88.6",
        )  # fmt: skip
    # 12:00 KST: the team change goes at once, the others wait for tomorrow 08:00 KST.
    assert cycle(db, sender, config, T0) == DispatchResult(2, 0, 4)
    assert cycle(db, sender, config, kst(2025, 1, 16, 7, 59)).sent == 0
    with db.begin() as session:  # before the hour: joins tomorrow's digest
        add_change(
            session, "sched", kind="schedule_set", subject="독파모", stage="stage2",
            before=None, after="2025-06-01", evidence=(OFFICIAL,),
        )  # fmt: skip
    assert cycle(db, sender, config, kst(2025, 1, 16, 7, 59)).sent == 0
    assert cycle(db, sender, config, kst(2025, 1, 16, 8)) == DispatchResult(2, 0, 0)
    digests = sender.sent[2:]
    assert subjects(digests) == [
        (A, "[독파모] 일일 요약 2025-01-16"),
        (B, "[독파모] 일일 요약 2025-01-16"),
    ]
    text = digests[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "변화 3건" in text
    for line in ("LG AI연구원 모델 공개: K-EXAONE 2.0", "업스테이지 1차 단계평가 점수 공개: 88.6"):
        assert line in text
    assert "미확인" in text  # the model change is only reported
    with db.begin() as session:  # after the hour: waits for the next day
        add_change(session, "model2", kind="model_announced", subject="SK텔레콤", stage=None,
                   before=None, after="A.X K2")  # fmt: skip
    assert cycle(db, sender, config, kst(2025, 1, 16, 8, 30)).sent == 0
    assert cycle(db, sender, config, kst(2025, 1, 17, 9)).sent == 2
    last = sender.sent[-1].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "변화 1건" in last and "SK텔레콤 모델 공개: A.X K2" in last
    assert cycle(db, sender, config, kst(2025, 1, 18, 9)).sent == 0
    assert len(sender.sent) == 6
    digest_ids = {str(m["Message-ID"]) for m in sender.sent[2:]}
    assert len(digest_ids) == 4


def test_digest_disabled_sends_only_immediate_kinds(db: Database) -> None:
    config = make_config(digest={"enabled": False})
    with db.begin() as session:
        add_change(session, "model", kind="model_announced", stage=None, after="VAETKI")
        add_change(session, "team")
    with db.begin() as session:
        assert enqueue_alerts(session, config, T0) == 2
    assert {r.kind for r in outbox(db)} == {"immediate"}


def test_on_report_sends_unconfirmed_then_confirmed(db: Database) -> None:
    config = make_config(immediate={"on_report": True})
    sender = MemorySender()
    with db.begin() as session:
        add_change(session, "k1", confidence="reported", evidence=(NEWS,))
    assert cycle(db, sender, config, T0).sent == 2
    assert {str(m["Subject"]) for m in sender.sent} == {
        "[독파모] 미확인 보도: NC AI 1차 단계평가 탈락"
    }
    assert cycle(db, sender, config, T0 + timedelta(hours=1)).sent == 0
    update_change(db, "k1", confidence="confirmed", confirmed_at=T0 + timedelta(hours=2))
    with db.begin() as session:
        change = session.scalars(select(Change)).one()
        add_evidence(session, change, OFFICIAL)
    assert cycle(db, sender, config, T0 + timedelta(hours=2)).sent == 2
    assert cycle(db, sender, config, T0 + timedelta(hours=3)).sent == 0
    confirmed = sender.sent[2:]
    assert {str(m["Subject"]) for m in confirmed} == {"[독파모] 확정: NC AI 1차 단계평가 탈락"}
    body = confirmed[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "정부 공식 발표로 확인" in body and "[공식] 정책브리핑" in body
    assert sorted((r.recipient, r.kind) for r in outbox(db)) == [
        (A, "immediate"), (A, "unconfirmed"), (B, "immediate"), (B, "unconfirmed"),
    ]  # fmt: skip


def test_without_on_report_a_reported_change_waits_for_confirmation(db: Database) -> None:
    config = make_config()
    sender = MemorySender()
    with db.begin() as session:
        add_change(session, "k1", confidence="reported", evidence=(NEWS,))
    assert cycle(db, sender, config, T0).sent == 0
    update_change(db, "k1", confidence="confirmed")
    assert cycle(db, sender, config, T0 + timedelta(hours=1)).sent == 2
    body = sender.sent[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "공식 발표는 아직 확인되지 않았습니다" in body  # confirmed by publishers only


def test_confirmation_before_the_unconfirmed_mail_went_out_supersedes_it(db: Database) -> None:
    config = make_config(to=[A], immediate={"on_report": True})
    down = MemorySender(fail_times=1)
    with db.begin() as session:
        add_change(session, "k1", confidence="reported", evidence=(NEWS,))
    assert cycle(db, down, config, T0).failed == 1
    update_change(db, "k1", confidence="confirmed")
    assert cycle(db, down, config, T0 + timedelta(hours=1)).sent == 1
    assert [str(m["Subject"]) for m in down.sent] == ["[독파모] 확정: NC AI 1차 단계평가 탈락"]
    statuses = {r.kind: (r.status, r.last_error) for r in outbox(db)}
    assert statuses["immediate"] == ("sent", "")
    assert statuses["unconfirmed"][0] == "cancelled"
    assert "superseded" in statuses["unconfirmed"][1]


def test_retraction_corrects_only_recipients_who_were_told(db: Database) -> None:
    config = make_config(immediate={"on_report": True})
    sender = MemorySender()
    with db.begin() as session:
        add_change(session, "told", confidence="reported", evidence=(NEWS,))
    assert cycle(db, sender, config, T0).sent == 2
    with db.begin() as session:
        add_change(session, "untold", subject="카카오", kind="team_added", stage="additional_call",
                   confidence="reported", evidence=(NEWS2,))  # fmt: skip
    failing = MemorySender(fail_times=1)  # the server is down: the second change stays pending
    assert cycle(db, failing, config, T0 + timedelta(minutes=1)).failed == 2
    update_change(db, "told", confidence="retracted", retracted_at=T0 + timedelta(hours=1))
    update_change(db, "untold", confidence="retracted", retracted_at=T0 + timedelta(hours=1))
    result = cycle(db, sender, config, T0 + timedelta(hours=1))
    assert result == DispatchResult(2, 0, 0)
    corrections = sender.sent[2:]
    assert subjects(corrections) == [
        (A, "[독파모] 정정: NC AI 1차 단계평가 탈락 (앞선 알림 철회)"),
        (B, "[독파모] 정정: NC AI 1차 단계평가 탈락 (앞선 알림 철회)"),
    ]
    body = corrections[0].get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "철회되었습니다" in body and "사실이 아닌 것으로 보입니다" in body
    untold = [r for r in outbox(db) if r.change_id == 2]
    assert {(r.kind, r.status) for r in untold} == {("unconfirmed", "cancelled")}
    assert cycle(db, sender, config, T0 + timedelta(days=2)).sent == 0
    assert len(sender.sent) == 4


def test_retracted_digest_change_is_corrected_after_the_digest(db: Database) -> None:
    config = make_config(to=[A])
    sender = MemorySender()
    with db.begin() as session:
        add_change(session, "m", kind="model_announced", subject="NC AI", stage=None,
                   after="VAETKI 2", confidence="reported", evidence=(NEWS,))  # fmt: skip
    assert cycle(db, sender, config, T0).sent == 0
    assert cycle(db, sender, config, kst(2025, 1, 16, 8)).sent == 1
    update_change(db, "m", confidence="retracted")
    assert cycle(db, sender, config, kst(2025, 1, 16, 9)).sent == 1
    assert [str(m["Subject"]) for m in sender.sent] == [
        "[독파모] 일일 요약 2025-01-16",
        "[독파모] 정정: NC AI 모델 공개: VAETKI 2 (앞선 알림 철회)",
    ]


# ---------------------------------------------------------------- SMTP security and errors


def test_starttls_with_password_from_environment(
    db: Database, tls: Tls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_SMTP_PW", "s3cret-pw")
    inbox = Inbox()
    options = {
        "tls_context": tls.server(),
        "require_starttls": True,
        "authenticator": authenticator,
        "auth_require_tls": True,
    }
    with smtp_server(inbox, **options) as port:
        smtp = {"host": "127.0.0.1", "port": port, "security": "starttls",
                "username": "tracker", "password_env": "TEST_SMTP_PW", "timeout": 5}  # fmt: skip
        config = make_config(smtp=smtp)
        sender = SmtpSender(config.smtp, ssl_context=tls.client())
        with db.begin() as session:
            add_change(session, "k1")
        assert cycle(db, sender, config, T0) == DispatchResult(2, 0, 0)

        monkeypatch.setenv("TEST_SMTP_PW", "wrong")
        with pytest.raises(AlertDeliveryError, match="authentication failed") as failure:
            sender.send(inbox.messages[0])
        assert failure.value.transport
        monkeypatch.delenv("TEST_SMTP_PW")
        with pytest.raises(AlertDeliveryError, match="TEST_SMTP_PW"):
            sender.send(inbox.messages[0])
        # The system CAs do not trust the self-signed certificate: TLS fails, loudly.
        with pytest.raises(AlertDeliveryError, match="TLS"):
            SmtpSender(config.smtp, password="s3cret-pw").send(inbox.messages[0])
    assert len(inbox.envelopes) == 2


def test_ssl_from_the_first_byte(db: Database, tls: Tls) -> None:
    inbox = Inbox()
    with smtp_server(inbox, ssl_context=tls.server()) as port:
        config = make_config(smtp={"host": "127.0.0.1", "port": port, "security": "ssl"})
        sender = SmtpSender(config.smtp, ssl_context=tls.client())
        with db.begin() as session:
            add_change(session, "k1")
        assert cycle(db, sender, config, T0) == DispatchResult(2, 0, 0)
    assert [rcpt for rcpt, _ in inbox.deliveries()] == [A, B]


def test_starttls_never_falls_back_to_plain_text() -> None:
    inbox = Inbox()
    message = render_alert(*_detached_change(), "immediate", make_config(), recipient=A)
    with smtp_server(inbox) as port:  # offers no STARTTLS
        smtp = {"host": "127.0.0.1", "port": port, "security": "starttls"}
        with pytest.raises(AlertDeliveryError, match="does not support STARTTLS"):
            SmtpSender(make_config(smtp=smtp).smtp).send(message)
    assert inbox.envelopes == []


def test_connection_refused_and_timeout_are_clear_errors() -> None:
    message = render_alert(*_detached_change(), "immediate", make_config(), recipient=A)
    refused = make_config(smtp={"host": "127.0.0.1", "port": free_port()})
    with pytest.raises(AlertDeliveryError, match="refused") as failure:
        SmtpSender(refused.smtp).send(message)
    assert failure.value.transport
    with socket.socket() as silent:  # accepts connections, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        mute = make_config(smtp={"host": "127.0.0.1", "port": port, "timeout": 0.3})
        with pytest.raises(AlertDeliveryError, match=r"timed out after 0\.3 s"):
            SmtpSender(mute.smtp).send(message)


def test_send_test_reaches_every_recipient() -> None:
    inbox = Inbox()
    with smtp_server(inbox) as port:
        config = make_config(smtp={"host": "127.0.0.1", "port": port})
        sent = send_test(SmtpSender(config.smtp), config, T0)
    assert [str(m["To"]) for m in sent] == [A, B]
    assert [rcpt for rcpt, _ in inbox.deliveries()] == [A, B]
    assert str(inbox.messages[0]["Subject"]) == "[독파모] 시험 발송 2025-01-15 12:00 KST"
    with pytest.raises(ConfigError, match=r"alerts\.to"):
        send_test(MemorySender(), make_config(to=[]), T0)


def test_alert_subject_names_team_stage_and_kind() -> None:
    change, _ = _detached_change(
        kind="team_added", subject="모티프테크놀로지스", stage="additional_call"
    )
    assert (
        alert_subject(change, "immediate")
        == "[독파모] 확정: 모티프테크놀로지스 추가 공모 추가 선정"
    )
    change, _ = _detached_change(kind="team_withdrew", subject="KT", stage=None)
    assert alert_subject(change, "unconfirmed") == "[독파모] 미확인 보도: KT 참여 철회"
