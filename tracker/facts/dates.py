"""Date expressions (내년 1월 15일, 8월 초, 이달 말, mid-January) resolved against a date."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from .matching import fast_start

_MONTHS = {
    name: index
    for index, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_EN_MONTH = (
    r"(?P<mon>January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_PART_START = {"early": 1, "mid": 11, "late": 21}
_KO_PART = {
    "초": "early",
    "초순": "early",
    "상순": "early",
    "중순": "mid",
    "말": "late",
    "하순": "late",
}
_EN_PART = {
    "early": "early",
    "beginning": "early",
    "mid": "mid",
    "middle": "mid",
    "late": "late",
    "end": "late",
}

_KO_DAY = re.compile(
    # The look-aheads let the scan skip positions that cannot start a date: the first by one
    # class test, the second by how a date can start: a year "2026년", a month or day "3월",
    # "15일", or a word (이, 다, 오 alone are common; so are numbers that are no dates).
    r"(?=[0-9지내올금이다오])"
    r"(?=[0-9](?:\d{3}년|\d?\s?[월일])|지난|내년|올해|금년|이달|이번|다음|내달|오는)(?:(?P<past>지난\s?)?(?:(?P<y>\d{4})년\s?|(?P<rel_y>내년|올해|금년)\s?)?"
    r"(?:(?P<rel_m>이달|이번\s?달|다음\s?달|내달|다음달|지난\s?달)\s?|(?P<m>\d{1,2})\s?월\s?)?"
    r"(?P<coming>오는\s?)?(?P<d>\d{1,2})\s?일(?!간|자|째|차|부|대)|"
    r"(?P<past2>지난\s?)?(?:(?P<y2>\d{4})년\s?|(?P<rel_y2>내년|올해|금년)\s?)?"
    r"(?:(?P<rel_m2>이달|이번\s?달|다음\s?달|내달|다음달|지난\s?달)|(?P<m2>\d{1,2})\s?월)"
    r"\s?(?P<part>초순|초|상순|중순|하순|말|중|께|경)?(?![가-힣]*일))"
)
_EN_DATE = fast_start(
    rf"\b{_EN_MONTH}\s(?P<d>\d{{1,2}})(?:,?\s(?P<y>\d{{4}}))?\b"
    rf"|\b(?:(?P<part>early|mid|late)[- ]|(?:at|in|by) the (?P<part2>beginning|middle|end) of\s)"
    rf"{_EN_MONTH.replace('mon', 'mon2')}(?:\s(?P<y2>\d{{4}})|\s(?P<next2>next year))?"
    rf"|\b(?:in|by|during|until)\s{_EN_MONTH.replace('mon', 'mon3')}"
    rf"(?:\s(?P<y3>\d{{4}})|\s(?P<next3>next year))?(?!\s\d)"
    rf"|\b(?:(?P<part4>early|late)\s)?(?P<rel4>next month|this month)"
    rf"|\bnext\s{_EN_MONTH.replace('mon', 'mon5')}(?!\s\d)",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class DateExpr:
    """A resolved date expression: ``value`` is the first day of the period."""

    start: int
    end: int
    value: date
    precision: str  # day | month_part | month
    past_marked: bool

    @property
    def last_day(self) -> date:
        """Return the last day of the period the expression names."""
        if self.precision == "day":
            return self.value
        if self.precision == "month":
            days = calendar.monthrange(self.value.year, self.value.month)[1]
            return self.value.replace(day=days)
        if self.value.day == 21:
            return self.value.replace(day=calendar.monthrange(self.value.year, self.value.month)[1])
        return self.value.replace(day=self.value.day + 9)


def _month_part(year: int, month: int, part: str | None) -> tuple[date, str]:
    if part is None:
        return date(year, month, 1), "month"
    return date(year, month, _PART_START[part]), "month_part"


def _year_for(month: int, published: date, explicit: int | None, next_year: bool) -> int:
    if explicit is not None:
        return explicit
    if next_year:
        return published.year + 1
    # A bare month earlier than the publication month is next year's ("1월 중" in December).
    return published.year if month >= published.month else published.year + 1


_REL_MONTHS = {"이달": 0, "이번달": 0, "다음달": 1, "내달": 1, "지난달": -1}


def _relative(word: str, published: date) -> tuple[int, int]:
    return _shift(published, _REL_MONTHS[word.replace(" ", "")])


def _shift(published: date, months: int) -> tuple[int, int]:
    index = published.year * 12 + published.month - 1 + months
    return index // 12, index % 12 + 1


def find_dates(text: str, start: int, end: int, language: str, published: date) -> list[DateExpr]:
    """Return date expressions in ``text[start:end]`` resolved against ``published``."""
    found = []
    if language == "ko":
        for m in _KO_DAY.finditer(text, start, end):
            try:
                expr = _korean(m, published)
            except ValueError:
                continue
            if expr is not None:
                found.append(expr)
    else:
        for m in _EN_DATE.finditer(text, start, end):
            try:
                expr = _english(m, published)
            except ValueError:
                continue
            if expr is not None:
                found.append(expr)
    return found


def _korean(m: re.Match[str], published: date) -> DateExpr | None:
    if m.group("d"):
        past = bool(m.group("past"))
        explicit = int(m.group("y")) if m.group("y") else None
        rel_y = m.group("rel_y")
        if rel_y in ("올해", "금년"):
            explicit = published.year
        day = int(m.group("d"))
        if m.group("rel_m"):
            year, month = _relative(m.group("rel_m"), published)
            past = past or m.group("rel_m").startswith("지난")
        elif m.group("m"):
            month = int(m.group("m"))
            year = _year_for(month, published, explicit, rel_y == "내년")
            if past and explicit is None and rel_y is None:
                year = published.year if month <= published.month else published.year - 1
        else:
            year, month = published.year, published.month
            if m.group("coming") and day < published.day:
                year, month = _shift(published, 1)
        return DateExpr(m.start(), m.end(), date(year, month, day), "day", past)
    past = bool(m.group("past2"))
    explicit = int(m.group("y2")) if m.group("y2") else None
    rel_y = m.group("rel_y2")
    if rel_y in ("올해", "금년"):
        explicit = published.year
    if m.group("rel_m2"):
        year, month = _relative(m.group("rel_m2"), published)
        past = past or m.group("rel_m2").startswith("지난")
    else:
        month = int(m.group("m2"))
        if not 1 <= month <= 12:
            return None
        year = _year_for(month, published, explicit, rel_y == "내년")
        if past and explicit is None:
            year = published.year if month <= published.month else published.year - 1
    value, precision = _month_part(year, month, _KO_PART.get(m.group("part") or ""))
    return DateExpr(m.start(), m.end(), value, precision, past)


def _english(m: re.Match[str], published: date) -> DateExpr | None:
    if m.group("mon") and m.group("d"):
        month = _MONTHS[m.group("mon").lower()]
        explicit = int(m.group("y")) if m.group("y") else None
        year = _year_for(month, published, explicit, False)
        if explicit is None and month == published.month:
            year = published.year
        return DateExpr(m.start(), m.end(), date(year, month, int(m.group("d"))), "day", False)
    if m.group("mon2"):
        part = _EN_PART[(m.group("part") or m.group("part2")).lower()]
        month = _MONTHS[m.group("mon2").lower()]
        explicit = int(m.group("y2")) if m.group("y2") else None
        year = _year_for(month, published, explicit, bool(m.group("next2")))
        value, precision = _month_part(year, month, part)
        return DateExpr(m.start(), m.end(), value, precision, False)
    if m.group("mon3"):
        month = _MONTHS[m.group("mon3").lower()]
        explicit = int(m.group("y3")) if m.group("y3") else None
        if explicit is None and not m.group("next3") and month < published.month:
            # "in March" in an August article looks back, it does not name next March.
            return DateExpr(m.start(), m.end(), date(published.year, month, 1), "month", True)
        year = _year_for(month, published, explicit, bool(m.group("next3")))
        return DateExpr(m.start(), m.end(), date(year, month, 1), "month", False)
    if m.group("mon5"):
        month = _MONTHS[m.group("mon5").lower()]
        year = published.year + 1 if month <= published.month else published.year
        return DateExpr(m.start(), m.end(), date(year, month, 1), "month", False)
    if m.group("rel4"):
        months = 1 if m.group("rel4").lower().startswith("next") else 0
        year, month = _shift(published, months)
        part4 = (m.group("part4") or "").lower() or None
        value, precision = _month_part(year, month, part4)
        return DateExpr(m.start(), m.end(), value, precision, False)
    return None
