"""The alert outbox: which mails are owed (enqueue) and delivering them once each (dispatch).

**What is owed.** :func:`enqueue_alerts` derives outbox rows from the change log, one per
(change, recipient, kind), guarded by the table's UNIQUE(change_id, recipient, kind) and
insert-or-ignore, so calling it any number of times owes each mail once:

- ``immediate``: a non-silent change of a kind in ``alerts.immediate.kinds`` once confirmed.
- ``unconfirmed``: with ``alerts.immediate.on_report``, the same kinds while only reported. Its
  later confirmation is a second, separate mail (``immediate``): the first says 미확인 보도, the
  second 확정. An ``unconfirmed`` row still unsent when the change is confirmed is cancelled.
- ``digest``: every other kind, one row per (change, recipient), due at the next
  ``alerts.digest.hour`` (KST) after the change was enqueued. Rows due at the same hour form one
  digest mail per recipient, named by its subject ``[독파모] 일일 요약 YYYY-MM-DD``. Keeping one
  row per change (rather than one per digest with change_id NULL, which the unique constraint
  cannot guard because NULLs never collide) makes "each change in exactly one digest" the
  database's guarantee and records who was told about what.
- ``correction``: a retracted change, to every recipient whose mail about it was sent (or may
  have been: status ``sending``). Its unsent mails are cancelled instead.

Rows end as ``sent``, ``failed`` (gave up after ``max_attempts``) or ``cancelled`` (superseded or
retracted before sending, with the reason in ``last_error``); none is ever deleted.

**Delivering once.** :func:`dispatch_pending` claims a due row with a conditional UPDATE
(status pending → sending, so two dispatchers never both claim it), flushes, sends, then records
``sent`` with ``sent_at`` and the Message-ID. A failure counts an attempt, records the error and
waits ``retry_base_seconds * 2**(attempts-1)`` (at most a day) before the next try; after
``max_attempts`` the row is ``failed`` and listed by ``tracker alerts pending``.

**A crash between send and record** (the server accepted the mail, the process died before the
caller committed) leaves the row pending (transaction rolled back) or ``sending`` (claim
committed); both are sent again on a later run (a ``sending`` row once its claim lease expires).
Delivery is therefore at-least-once: never silently dropped, and exactly once unless a crash
hits that window. The resent mail carries the same deterministic Message-ID, derived from
(change key, recipient, kind), so mail clients and servers recognise and drop the duplicate.
The window is one message wide when the caller commits after each message
(``dispatch_pending(..., limit=1)`` in its own transaction, repeated).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from tracker.alerts.render import (
    CHANGE_ALERT_KINDS,
    DIGEST_KIND,
    KST,
    alert_subject,
    digest_day,
    digest_subject,
    render_alert,
    render_digest,
    render_test,
)
from tracker.alerts.senders import AlertDeliveryError, AlertSender
from tracker.archive import insert_ignore
from tracker.errors import ConfigError
from tracker.models import AlertOutbox, Change

if TYPE_CHECKING:
    from tracker.config import AlertsConfig

logger = logging.getLogger(__name__)

OPEN = ("pending", "sending")
# Kinds whose delivery means the recipient was told about the change.
TOLD_KINDS = ("immediate", "unconfirmed", DIGEST_KIND)
OUR_KINDS = (*CHANGE_ALERT_KINDS, DIGEST_KIND)
MAX_BACKOFF = timedelta(days=1)
# A claimed (sending) row whose claim was committed and never finished is retried after this.
SENDING_LEASE = timedelta(minutes=15)
_MAX_ERROR_CHARS = 2000


@dataclass(frozen=True, slots=True)
class DispatchResult:
    """Messages sent and failed in one dispatch, rows still waiting, and (dry run) the mails."""

    sent: int
    failed: int
    pending: int
    messages: tuple[EmailMessage, ...] = field(default=())
    # Outbox row ids this call tried (sent or failed), so a caller looping over single-mail
    # transactions can skip them: one attempt per mail and run, whatever the backoff.
    attempted: tuple[int, ...] = field(default=(), compare=False)


def _aware(now: datetime) -> datetime:
    if now.tzinfo is None:
        raise ValueError(f"naive datetime {now!r} given; use an aware datetime")
    return now.astimezone(UTC)


def next_digest_at(now: datetime, hour: int) -> datetime:
    """Return the first ``hour``:00 KST strictly after ``now`` (UTC)."""
    local = _aware(now).astimezone(KST)
    due = local.replace(hour=hour, minute=0, second=0, microsecond=0)
    if due <= local:
        due += timedelta(days=1)
    return due.astimezone(UTC)


def backoff(attempts: int, base_seconds: float) -> timedelta:
    """Return the wait after the ``attempts``-th failed try: base * 2**(attempts-1), ≤ 1 day."""
    exponent = min(max(attempts - 1, 0), 40)  # 2**40 s is far past the cap; avoids overflow
    return min(timedelta(seconds=base_seconds * 2**exponent), MAX_BACKOFF)


def _recipients(config: AlertsConfig) -> list[str]:
    seen: dict[str, None] = {}
    for address in config.to:
        seen.setdefault(address.strip(), None)
    return [address for address in seen if address]


def _cancel(row: AlertOutbox, reason: str) -> None:
    logger.info("Cancelling %s alert %s to %s: %s", row.kind, row.id, row.recipient, reason)
    row.status = "cancelled"
    row.last_error = reason


def enqueue_alerts(
    session: Session, config: AlertsConfig, now: datetime, since: datetime | None = None
) -> int:
    """Add the outbox rows the change log calls for; return how many are new (0 when re-run).

    With ``since``, only changes first seen, confirmed or retracted at or after it are owed:
    switching alerts on later must not mail the whole history.
    """
    now = _aware(now)
    if not config.enabled:
        return 0
    recipients = _recipients(config)
    if not recipients:
        return 0
    query = select(Change).where(Change.silent.is_(False))
    if since is not None:
        query = query.where(
            or_(
                Change.first_seen_at >= since,
                Change.confirmed_at >= since,
                Change.retracted_at >= since,
            )
        )
    changes = session.scalars(query.order_by(Change.id)).all()
    existing: dict[tuple[int | None, str, str], AlertOutbox] = {
        (row.change_id, row.recipient, row.kind): row
        for row in session.scalars(select(AlertOutbox).where(AlertOutbox.change_id.is_not(None)))
    }
    wanted: list[dict[str, Any]] = []

    def want(change: Change, recipient: str, kind: str, due: datetime, subject: str) -> None:
        if (change.id, recipient, kind) in existing:
            return
        wanted.append(
            {
                "change_id": change.id,
                "recipient": recipient,
                "kind": kind,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": due,
                "last_error": "",
                "subject": subject,
                "created_at": now,
            }
        )

    digest_due = next_digest_at(now, config.digest.hour)
    for change in changes:
        if change.confidence == "retracted":
            for recipient in recipients:
                told = False
                for kind in TOLD_KINDS:
                    row = existing.get((change.id, recipient, kind))
                    if row is None:
                        continue
                    if row.status == "sent":
                        told = True
                    elif row.status == "sending":
                        # It may have gone out before a crash: correct it rather than resend it.
                        told = True
                        _cancel(row, "change retracted; possibly sent before, correction owed")
                    elif row.status == "pending":
                        _cancel(row, "change retracted before this mail was sent")
                if told:
                    want(change, recipient, "correction", now, alert_subject(change, "correction"))
        elif change.kind in config.immediate.kinds:
            if change.confidence == "confirmed":
                for recipient in recipients:
                    want(change, recipient, "immediate", now, alert_subject(change, "immediate"))
                    early = existing.get((change.id, recipient, "unconfirmed"))
                    if early is not None and early.status == "pending":
                        _cancel(early, "superseded: confirmed before the unconfirmed mail went out")
            elif change.confidence == "reported" and config.immediate.on_report:
                for recipient in recipients:
                    want(
                        change, recipient, "unconfirmed", now, alert_subject(change, "unconfirmed")
                    )
        elif config.digest.enabled and change.confidence in ("reported", "confirmed"):
            subject = digest_subject(digest_due.astimezone(KST).date())
            for recipient in recipients:
                want(change, recipient, DIGEST_KIND, digest_due, subject)
    insert_ignore(session, AlertOutbox, wanted)
    if wanted:
        logger.info("Enqueued %d alert mails", len(wanted))
    return len(wanted)


@dataclass(slots=True)
class _Unit:
    """One mail: a change alert row, or all rows of one recipient's digest."""

    rows: list[AlertOutbox]


def _due_units(session: Session, now: datetime) -> list[_Unit]:
    due = session.scalars(
        select(AlertOutbox)
        .where(
            AlertOutbox.status.in_(OPEN),
            AlertOutbox.kind.in_(OUR_KINDS),
            AlertOutbox.next_attempt_at <= now,
        )
        .order_by(AlertOutbox.id)
    ).all()
    units: list[_Unit] = []
    digests: dict[tuple[str, str], _Unit] = {}
    for row in due:
        if row.kind != DIGEST_KIND:
            units.append(_Unit([row]))
            continue
        key = (row.recipient, row.subject)
        if key not in digests:
            # The whole digest, including rows not yet due (their schedules only diverge after
            # a concurrent partial claim): a digest is one mail with one Message-ID.
            digests[key] = _Unit(
                list(
                    session.scalars(
                        select(AlertOutbox)
                        .where(
                            AlertOutbox.kind == DIGEST_KIND,
                            AlertOutbox.recipient == row.recipient,
                            AlertOutbox.subject == row.subject,
                            AlertOutbox.status.in_(OPEN),
                        )
                        .order_by(AlertOutbox.id)
                    )
                )
            )
            units.append(digests[key])
    return units


def _load_changes(session: Session, units: Sequence[_Unit]) -> dict[int, Change]:
    ids = {row.change_id for unit in units for row in unit.rows if row.change_id is not None}
    if not ids:
        return {}
    changes = session.scalars(
        select(Change).where(Change.id.in_(ids)).options(selectinload(Change.evidence))
    ).all()
    return {change.id: change for change in changes}


def _still_owed(
    unit: _Unit, changes: dict[int, Change]
) -> tuple[list[AlertOutbox], list[tuple[AlertOutbox, str]]]:
    """Split the unit's rows into those still owed and those to cancel (with the reason)."""
    live: list[AlertOutbox] = []
    dropped: list[tuple[AlertOutbox, str]] = []
    for row in unit.rows:
        change = changes.get(row.change_id) if row.change_id is not None else None
        if change is None:
            dropped.append((row, "no such change"))
        elif change.silent:
            dropped.append((row, "change is silent (baseline or backfill)"))
        elif change.confidence == "retracted" and row.kind != "correction":
            dropped.append((row, "change retracted before this mail was sent"))
        else:
            live.append(row)
    return live, dropped


def _render(
    rows: Sequence[AlertOutbox], changes: dict[int, Change], config: AlertsConfig, now: datetime
) -> EmailMessage:
    """Return the one mail of ``rows`` (a change alert, or one recipient's digest)."""
    first = rows[0]
    if first.kind == DIGEST_KIND:
        return render_digest(
            [changes[row.change_id] for row in rows if row.change_id is not None],
            digest_day(first.subject),
            config,
            recipient=first.recipient,
            when=now,
        )
    assert first.change_id is not None
    change = changes[first.change_id]
    return render_alert(
        change, change.evidence, first.kind, config, recipient=first.recipient, when=now
    )


def _claim(session: Session, unit: _Unit, now: datetime, message_id: str) -> bool:
    """Mark the unit's rows ``sending`` unless another dispatcher holds them; flush."""
    ids = [row.id for row in unit.rows]
    result = session.execute(
        update(AlertOutbox)
        .where(
            AlertOutbox.id.in_(ids),
            AlertOutbox.status.in_(OPEN),
            (AlertOutbox.status == "pending") | (AlertOutbox.next_attempt_at <= now),
        )
        .values(status="sending", next_attempt_at=now + SENDING_LEASE, message_id=message_id)
        .execution_options(synchronize_session="fetch")
    )
    session.flush()
    claimed = getattr(result, "rowcount", len(ids))
    if claimed != len(ids):
        logger.warning("Alert rows %s claimed elsewhere (%d of %d)", ids, claimed, len(ids))
        return False
    return True


def _record_failure(
    rows: Sequence[AlertOutbox], error: str, config: AlertsConfig, now: datetime
) -> None:
    for row in rows:
        row.attempts += 1
        row.last_error = error[:_MAX_ERROR_CHARS]
        if row.attempts >= config.max_attempts:
            row.status = "failed"
            logger.error(
                "Giving up %s alert %s to %s after %d attempts: %s",
                row.kind,
                row.id,
                row.recipient,
                row.attempts,
                error,
            )
        else:
            row.status = "pending"
            row.next_attempt_at = now + backoff(row.attempts, config.retry_base_seconds)


def count_open(session: Session) -> int:
    """Return how many outbox rows still wait to be sent (pending or sending)."""
    return (
        session.scalar(
            select(func.count()).select_from(AlertOutbox).where(AlertOutbox.status.in_(OPEN))
        )
        or 0
    )


def dispatch_pending(
    session: Session,
    sender: AlertSender,
    config: AlertsConfig,
    now: datetime,
    *,
    dry_run: bool = False,
    limit: int | None = None,
    exclude: Collection[int] = (),
) -> DispatchResult:
    """Send the due outbox mails in order; see the module docstring for the guarantee.

    ``dry_run`` renders the due mails and returns them in ``messages`` without sending or
    changing any row. ``limit`` stops after that many mails (commit between calls to make
    each record durable on its own). A transport failure (server down, TLS, authentication)
    counts a failed attempt for every remaining due mail without trying them.
    """
    now = _aware(now)
    if not config.enabled and not dry_run:
        return DispatchResult(0, 0, count_open(session))
    skip = set(exclude)
    units = [u for u in _due_units(session, now) if not any(r.id in skip for r in u.rows)]
    changes = _load_changes(session, units)
    attempted: list[int] = []
    sent = failed = 0
    rendered: list[EmailMessage] = []
    down: str | None = None
    for unit in units:
        if limit is not None and sent + failed >= limit:
            break
        live, dropped = _still_owed(unit, changes)
        if dry_run:
            if live:
                rendered.append(_render(live, changes, config, now))
            continue
        for row, reason in dropped:
            _cancel(row, reason)
        if not live:
            continue
        unit.rows = live
        message = _render(live, changes, config, now)
        attempted.extend(row.id for row in unit.rows)
        if down is not None:
            _record_failure(unit.rows, f"not attempted, server unusable: {down}", config, now)
            failed += 1
            continue
        message_id = str(message["Message-ID"])
        if not _claim(session, unit, now, message_id):
            continue
        try:
            sender.send(message)
        except AlertDeliveryError as exc:
            logger.warning("Alert to %s failed: %s", unit.rows[0].recipient, exc)
            _record_failure(unit.rows, str(exc), config, now)
            failed += 1
            if exc.transport:
                down = str(exc)
            continue
        for row in unit.rows:
            row.status = "sent"
            row.attempts += 1
            row.sent_at = now
            row.message_id = message_id
            row.subject = str(message["Subject"])
            row.last_error = ""
        sent += 1
        logger.info("Sent alert %s to %s", message["Subject"], unit.rows[0].recipient)
    if not dry_run:
        session.flush()
    return DispatchResult(sent, failed, count_open(session), tuple(rendered), tuple(attempted))


def pending_alerts(session: Session, *, include_failed: bool = True) -> list[AlertOutbox]:
    """Return the rows still to send (and those given up on), soonest first."""
    statuses = (*OPEN, "failed") if include_failed else OPEN
    return list(
        session.scalars(
            select(AlertOutbox)
            .where(AlertOutbox.status.in_(statuses))
            .order_by(AlertOutbox.next_attempt_at, AlertOutbox.id)
        )
    )


def requeue_failed(session: Session, now: datetime) -> int:
    """Give rows that were given up on a fresh set of attempts; return how many."""
    now = _aware(now)
    rows = session.scalars(select(AlertOutbox).where(AlertOutbox.status == "failed")).all()
    for row in rows:
        row.status = "pending"
        row.attempts = 0
        row.next_attempt_at = now
    session.flush()
    return len(rows)


def send_test(sender: AlertSender, config: AlertsConfig, now: datetime) -> list[EmailMessage]:
    """Send the ``tracker alerts test`` mail to every recipient; raise AlertDeliveryError."""
    recipients = _recipients(config)
    if not recipients:
        raise ConfigError("alerts.to: no recipients configured")
    messages = [render_test(config, recipient, _aware(now)) for recipient in recipients]
    for message in messages:
        sender.send(message)
    return messages
