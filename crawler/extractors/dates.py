"""Parse the date formats Korean news pages use into timezone-aware datetimes."""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from enum import Enum
from zoneinfo import ZoneInfo

__all__ = [
    "DATE_LABELS",
    "KST",
    "DateKind",
    "find_labeled_datetimes",
    "parse_datetime",
    "parse_korean_datetime",
    "pick_published_modified",
]

KST = ZoneInfo("Asia/Seoul")


class DateKind(Enum):
    """What a label in front of a date says it is."""

    PUBLISHED = "published"
    MODIFIED = "modified"
    UNLABELED = "unlabeled"


# 2026.02.12. 오전 10:30 · 2016.09.14 03:10 · 2016-09-18 03:00:00 · 2016/09/17 11:35 ·
# 2026. 3. 21. 21:43 · 2016년 9월 14일 오후 3시 10분
_KOREAN_DT = (
    r"(?P<y>\d{4})\s*[./\-년]\s*(?P<mo>\d{1,2})\s*[./\-월]\s*(?P<d>\d{1,2})\s*[.일]?\s*"
    r"(?:\([월화수목금토일]\)\s*)?"
    r"(?:(?P<ampm>오전|오후|AM|PM|am|pm)\s*)?"
    r"(?P<h>\d{1,2})\s*[:시]\s*(?P<mi>\d{2})(?:\s*[:분]\s*(?P<s>\d{2}))?"
)
_KOREAN_DT_RE = re.compile(_KOREAN_DT)

_PUBLISHED_LABELS = ("기사입력", "최초입력", "입력", "등록", "송고시간", "송고", "발행", "게재")
_MODIFIED_LABELS = ("최종수정", "수정", "업데이트")
DATE_LABELS = _PUBLISHED_LABELS + _MODIFIED_LABELS
_LABEL = "|".join(DATE_LABELS)
# The label may be followed by 일/일시/시간 and a separator: "입력 : …", "송고시간 | …", "등록 :…".
_LABELED_DT_RE = re.compile(
    rf"(?:(?P<label>{_LABEL})\s*(?:일시|시간|일)?\s*[:：|]?\s*)?{_KOREAN_DT}"
)
_COMPACT_RE = re.compile(r"^\d{14}$")  # Daum's og:regDate: 20260321214325


def _aware(dt: datetime, default_tz: tzinfo) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=default_tz)


def _from_match(match: re.Match[str], tz: tzinfo) -> datetime | None:
    hour = int(match["h"])
    ampm = (match["ampm"] or "").lower()
    if ampm in ("오후", "pm") and hour < 12:
        hour += 12
    elif ampm in ("오전", "am") and hour == 12:
        hour = 0
    try:
        return datetime(
            int(match["y"]),
            int(match["mo"]),
            int(match["d"]),
            hour,
            int(match["mi"]),
            int(match["s"] or 0),
            tzinfo=tz,
        )
    except ValueError:
        return None


def parse_korean_datetime(text: str, tz: tzinfo = KST) -> datetime | None:
    """Return the first Korean-style date-and-time in ``text`` (e.g. "2026.02.12. 오후 3:05")."""
    match = _KOREAN_DT_RE.search(text)
    return _from_match(match, tz) if match else None


def parse_datetime(value: str | None, default_tz: tzinfo = KST) -> datetime | None:
    """Return an aware datetime from ISO 8601, compact ``YYYYMMDDhhmmss`` or Korean formats.

    An explicit offset is kept as given; a naive value gets ``default_tz``. A bare date
    (no time) is not accepted here because midnight would be an invention.
    """
    if not value:
        return None
    text = value.strip()
    if _COMPACT_RE.match(text):
        try:
            return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=default_tz)
        except ValueError:
            return None
    if len(text) > 10 and text[4] == "-" and ("T" in text or " " in text or ":" in text):
        try:
            return _aware(datetime.fromisoformat(text.replace(" ", "T", 1)), default_tz)
        except ValueError:
            pass
    return parse_korean_datetime(text, default_tz)


def find_labeled_datetimes(text: str, tz: tzinfo = KST) -> list[tuple[DateKind, datetime]]:
    """Return every date-and-time in ``text`` with what its Korean label (입력/수정 …) says."""
    found: list[tuple[DateKind, datetime]] = []
    for match in _LABELED_DT_RE.finditer(text):
        dt = _from_match(match, tz)
        if dt is None:
            continue
        label = match["label"]
        if label is None:
            kind = DateKind.UNLABELED
        elif label in _MODIFIED_LABELS:
            kind = DateKind.MODIFIED
        else:
            kind = DateKind.PUBLISHED
        found.append((kind, dt))
    return found


def pick_published_modified(
    found: list[tuple[DateKind, datetime]], *, unlabeled_in_order: bool = True
) -> tuple[datetime | None, datetime | None]:
    """Return (published, modified) from labeled dates; unlabeled ones fill in by position.

    With ``unlabeled_in_order`` an unlabeled first date counts as published and an unlabeled
    second one as modified (Naver's entertain/sports headers list 입력 then 수정).
    """
    published = next((dt for kind, dt in found if kind is DateKind.PUBLISHED), None)
    modified = next((dt for kind, dt in found if kind is DateKind.MODIFIED), None)
    if unlabeled_in_order:
        unlabeled = [dt for kind, dt in found if kind is DateKind.UNLABELED]
        if published is None and unlabeled:
            published = unlabeled.pop(0)
        if modified is None and unlabeled:
            modified = unlabeled.pop(0)
    return published, modified
