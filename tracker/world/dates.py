"""Date formats used by Naver pages, RSS, Atom, HTTP headers and the search API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

KST = timezone(timedelta(hours=9), "KST")


def rfc822_kst(dt: datetime) -> str:
    """Return ``Thu, 15 Jan 2026 14:21:00 +0900`` (Naver API and Korean RSS style)."""
    return format_datetime(dt.astimezone(KST))


def rfc822_gmt(dt: datetime) -> str:
    """Return ``Thu, 15 Jan 2026 05:21:00 GMT`` (Google News RSS and HTTP headers)."""
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def iso_kst(dt: datetime) -> str:
    """Return ``2026-01-15T14:21:00+09:00``."""
    return dt.astimezone(KST).isoformat(timespec="seconds")


def naver_attr(dt: datetime) -> str:
    """Return the ``data-date-time`` attribute form ``2026-01-15 14:21:00``."""
    return dt.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")


def naver_text(dt: datetime) -> str:
    """Return the visible Naver form ``2026.01.15. 오후 2:21``."""
    local = dt.astimezone(KST)
    half = "오전" if local.hour < 12 else "오후"
    hour = local.hour % 12 or 12
    return f"{local:%Y.%m.%d}. {half} {hour}:{local.minute:02d}"


def publisher_text(dt: datetime) -> str:
    """Return the usual Korean CMS form ``2026.01.15 14:21``."""
    return dt.astimezone(KST).strftime("%Y.%m.%d %H:%M")
