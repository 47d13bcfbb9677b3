"""Source health: notice when a source silently breaks, tell the operator once per incident."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.alerts import AlertDeliveryError, AlertSender, clean_header
from tracker.config import Config
from tracker.models import CrawlRun, Source, SourceHealth

logger = logging.getLogger(__name__)

PROBLEM_STATUSES = {"failed", "partial", "interrupted"}
HISTORY = 50


@dataclass(frozen=True, slots=True)
class Health:
    """What the recent runs of one source say."""

    source: str
    consecutive_failures: int
    zero_result_runs: int
    extraction_failures: int
    problem_streak: int
    last_success: datetime | None
    reason: str

    def unhealthy(self, threshold: int) -> bool:
        return self.problem_streak >= threshold


def run_problem(run: CrawlRun) -> str | None:
    """Return what was wrong with one run, or None."""
    if run.status in PROBLEM_STATUSES:
        first = (run.messages or ["no message"])[0]
        return f"{run.status}: {first}"
    if run.status == "ok" and run.listed == 0 and not run.not_modified:
        return "listed nothing (a feed or page that silently changed?)"
    if run.fetched and run.extraction_errors >= run.fetched:
        return f"every fetched page failed extraction ({run.extraction_errors})"
    return None


def assess(source: str, runs: Sequence[CrawlRun]) -> Health:
    """Return the health of a source from its runs, newest first (skipped runs ignored)."""
    runs = [r for r in runs if r.status not in {"skipped", "running"}]
    streak = failures = zero = extraction = 0
    reason = ""
    for run in runs:
        problem = run_problem(run)
        if problem is None:
            break
        streak += 1
        reason = reason or problem
        if run.status in PROBLEM_STATUSES:
            failures += 1
        elif run.listed == 0:
            zero += 1
        else:
            extraction += 1
    last_success = next((r.finished_at for r in runs if run_problem(r) is None), None)
    return Health(source, failures, zero, extraction, streak, last_success, reason)


def source_health(session: Session) -> dict[str, Health]:
    """Return every recorded source's health."""
    result = {}
    for source in session.scalars(select(Source).order_by(Source.name)):
        runs = list(
            session.scalars(
                select(CrawlRun)
                .where(CrawlRun.source_id == source.id)
                .order_by(CrawlRun.id.desc())
                .limit(HISTORY)
            )
        )
        result[source.name] = assess(source.name, runs)
    return result


def update_incidents(
    session: Session, config: Config, now: datetime
) -> list[tuple[str, str, Health]]:
    """Open and close incidents; return the operator notices owed: (source, kind, health).

    A notice is owed once per incident ("unhealthy") and once per recovery ("recovered"); the
    flags are set only when the notice was sent (see notify_operator), so a failed send is
    retried on the next run.
    """
    owed = []
    threshold = config.health.threshold
    sources = {s.name: s for s in session.scalars(select(Source))}
    for name, health in source_health(session).items():
        source = sources[name]
        row = session.get(SourceHealth, source.id)
        if row is None:
            row = SourceHealth(source_id=source.id, state="ok", recovery_sent=True, incidents=0)
            session.add(row)
        row.checked_at = now
        if health.unhealthy(threshold):
            if row.state != "unhealthy":
                row.state, row.since, row.reason = "unhealthy", now, health.reason
                row.incidents = (row.incidents or 0) + 1
                row.alert_sent, row.recovery_sent = False, False
            if not row.alert_sent:
                owed.append((name, "unhealthy", health))
        else:
            if row.state == "unhealthy":
                row.state, row.since = "ok", now
            if not row.recovery_sent and row.alert_sent:
                owed.append((name, "recovered", health))
            elif not row.alert_sent:
                # The incident ended before anyone was told: nothing to recover from.
                row.recovery_sent = True
    session.flush()
    return owed


def render_notice(
    config: Config, source: str, kind: str, health: Health, now: datetime
) -> EmailMessage:
    """Return the operator mail for one incident or recovery."""
    message = EmailMessage()
    verb = "is unhealthy" if kind == "unhealthy" else "has recovered"
    message["Subject"] = clean_header(f"[dokpamo-tracker] source {source} {verb}")
    message["From"] = config.alerts.sender
    message["To"] = ", ".join(config.health.operator)
    message["Date"] = formatdate(now.timestamp(), localtime=False)
    message["Message-ID"] = make_msgid(domain="dokpamo-tracker")
    last = health.last_success.isoformat() if health.last_success else "never"
    if kind == "unhealthy":
        body = (
            f"Source {source} has had {health.problem_streak} problem runs in a row "
            f"(threshold {config.health.threshold}).\n\n"
            f"Latest problem: {health.reason}\n"
            f"Consecutive failures: {health.consecutive_failures}; runs listing nothing: "
            f"{health.zero_result_runs}; runs whose pages all failed extraction: "
            f"{health.extraction_failures}\nLast success: {last}\n\n"
            "Check the source's URL and page layout; `tracker doctor` and `tracker sources` help."
        )
    else:
        body = f"Source {source} works again (last success {last})."
    message.set_content(body)
    return message


def notify_operator(
    session: Session,
    config: Config,
    sender: AlertSender,
    owed: Sequence[tuple[str, str, Health]],
    now: datetime,
) -> int:
    """Send the owed notices; mark each sent one. Return how many were sent."""
    if not config.health.operator or not owed:
        return 0
    sources = {s.name: s for s in session.scalars(select(Source))}
    sent = 0
    for name, kind, health in owed:
        try:
            sender.send(render_notice(config, name, kind, health, now))
        except AlertDeliveryError as exc:
            logger.warning("Operator notice for %s not sent (will retry): %s", name, exc)
            continue
        row = session.get(SourceHealth, sources[name].id)
        assert row is not None
        if kind == "unhealthy":
            row.alert_sent = True
        else:
            row.recovery_sent = True
        sent += 1
    return sent
