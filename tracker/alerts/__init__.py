"""E-mail alerts on changes of the competition's state: render, enqueue, deliver exactly once.

See :mod:`tracker.alerts.outbox` for what is owed to whom and the delivery guarantee (at-least-
once with a deterministic Message-ID; exactly once unless a crash falls between the SMTP
server accepting a mail and the outbox recording it).
"""

from __future__ import annotations

from tracker.alerts.outbox import (
    DispatchResult,
    backoff,
    count_open,
    dispatch_pending,
    enqueue_alerts,
    next_digest_at,
    pending_alerts,
    requeue_failed,
    send_test,
)
from tracker.alerts.render import (
    KST,
    LABELS,
    alert_subject,
    as_bytes,
    clean_header,
    digest_subject,
    label,
    render_alert,
    render_digest,
    render_test,
)
from tracker.alerts.senders import AlertDeliveryError, AlertSender, MemorySender, SmtpSender

__all__ = [
    "KST",
    "LABELS",
    "AlertDeliveryError",
    "AlertSender",
    "DispatchResult",
    "MemorySender",
    "SmtpSender",
    "alert_subject",
    "as_bytes",
    "backoff",
    "clean_header",
    "count_open",
    "digest_subject",
    "dispatch_pending",
    "enqueue_alerts",
    "label",
    "next_digest_at",
    "pending_alerts",
    "render_alert",
    "render_digest",
    "render_test",
    "requeue_failed",
    "send_test",
]
