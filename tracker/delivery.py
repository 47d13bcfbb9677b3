"""Deliver alerts after a tracking cycle: enqueue what the change log calls for, then send."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.orm import Session

from tracker.alerts import AlertSender, SmtpSender, dispatch_pending, enqueue_alerts
from tracker.config import Config
from tracker.db import Database
from tracker.models import Meta

logger = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    enqueued: int = 0
    sent: int = 0
    failed: int = 0
    pending: int = 0
    messages: list[EmailMessage] = field(default_factory=list)


ALERTS_SINCE_KEY = "alerts_since"


def alerts_since(session: Session, now: datetime) -> datetime:
    """Return when alerting started on this database, recording ``now`` the first time.

    Changes recorded before that (while alerts were off or had no recipients) are history.
    """
    row = session.get(Meta, ALERTS_SINCE_KEY)
    if row is None:
        row = Meta(key=ALERTS_SINCE_KEY, value=now.isoformat())
        session.add(row)
        session.flush()
    return datetime.fromisoformat(row.value)


def deliver(
    db: Database,
    config: Config,
    now: datetime,
    sender: AlertSender | None = None,
    dry_run: bool = False,
    cycle_started: datetime | None = None,
) -> DeliveryReport:
    """Enqueue owed alerts in one transaction, then send them one per transaction.

    One mail per transaction keeps a crash to at most one duplicate (same Message-ID) and
    never holds the database's write lock through an SMTP conversation.
    """
    report = DeliveryReport()
    if not config.alerts.enabled or not config.alerts.to:
        return report
    with db.begin() as session:
        # Alerting starts with the cycle that first had recipients, including its own changes.
        since = alerts_since(session, cycle_started or now)
    sender = sender or SmtpSender(config.alerts.smtp)
    if dry_run:
        # Enqueue and render inside a transaction that is rolled back: the mails a real run
        # would send, and no row changed.
        with db.sessions() as session:
            try:
                report.enqueued = enqueue_alerts(session, config.alerts, now, since)
                result = dispatch_pending(session, sender, config.alerts, now, dry_run=True)
            finally:
                session.rollback()
        report.messages = list(result.messages)
        report.pending = result.pending
        return report
    with db.begin() as session:
        report.enqueued = enqueue_alerts(session, config.alerts, now, since)
    attempted: set[int] = set()
    while True:
        with db.begin() as session:
            # After a server failure, the rest of the due mails are recorded as not attempted
            # in this same call (no limit), so an outage costs one attempt per mail and run.
            result = dispatch_pending(
                session,
                sender,
                config.alerts,
                now,
                limit=None if report.failed else 1,
                exclude=attempted,
            )
        attempted.update(result.attempted)
        report.sent += result.sent
        report.failed += result.failed
        report.pending = result.pending
        if not result.attempted:
            return report
