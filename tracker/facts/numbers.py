"""Number normalization: parameter counts (500B, 5000억 개, 0.5조, 519B-A33B) and counts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from .matching import fast_start

_KO_COUNTS = {
    "한": 1,
    "하나": 1,
    "두": 2,
    "둘": 2,
    "세": 3,
    "셋": 3,
    "네": 4,
    "넷": 4,
    "다섯": 5,
    "여섯": 6,
    "일곱": 7,
    "여덟": 8,
    "아홉": 9,
    "열": 10,
}
_EN_COUNTS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
}
EN_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}

# fast_start: a look-ahead for the first characters, so the scan skips non-digits quickly.
_SPEC = fast_start(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s?B\s?-\s?A(\d+(?:\.\d+)?)B(?![A-Za-z0-9])")
_LATIN = fast_start(r"(?<![A-Za-z0-9.])(\d+(?:\.\d+)?)\s?([BT])(?![A-Za-z0-9])")
_KO = fast_start(
    r"(?<![\d.,])(?:(?P<jo>\d+(?:\.\d+)?)\s?조(?:\s?(?P<jo_eok>\d{1,3}(?:,\d{3})*|\d+)\s?억)?"
    r"|(?P<eok>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)\s?억)"
    r"(?P<unit>\s?개(?:의)?(?:\s?(?:파라미터|매개변수))?|\s?(?:파라미터|매개변수))?"
)
_EN = fast_start(
    r"(?<![\d.])(\d+(?:\.\d+)?)[\s-]?(billion|trillion)(?:[\s-](total|active))?[\s-]?param",
    re.IGNORECASE,
)
# Every size the patterns above find holds a digit (then an optional space or hyphen) right
# before its unit: B/T, 억/조 or billion/trillion. Such a hint has a single digit, so no hint
# found by a scan of the whole text can hide another one.
_HINT = re.compile(r"\d\s?[BT억조]|\d[\s-]?(?i:billion|trillion)")
_ILLION = re.compile(r"illion", re.IGNORECASE)  # what every _EN match holds (same flags)
_PARAM_WORD_BEFORE = re.compile(
    r"(?:파라미터|매개변수)(?:\s?수)?(?:는|가|이)?\s?(?:총|약|전체)?\s?$"
)
_ACTIVE_AFTER_KO = re.compile(r"^[^,.]{0,10}?활성")
_ACTIVE_NEAR_EN = re.compile(r"^\s?(?:-|\s)?active\b", re.IGNORECASE)
_ACTIVE_BEFORE = re.compile(
    r"(?:활성\s?(?:파라미터|매개변수)?|active(?: parameters)?(?: of)?)\s?(?:는|가|은)?\s?$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Size:
    """A parameter count written in the text; ``active`` is set for "33B active"-style counts."""

    start: int
    end: int
    total: int | None
    active: int | None


def parse_count(word: str) -> int | None:
    """Return the integer for "3", "세", "three"; None when it is not a count."""
    word = word.strip()
    if word.isdigit():
        return int(word)
    return _KO_COUNTS.get(word) or _EN_COUNTS.get(word.lower())


def size_hints(text: str) -> list[int]:
    """Return sorted offsets in ``text`` such that ``find_sizes(text, start, end)`` can only find
    something when one of them lies in [start, end) (a cheap test before the four patterns)."""
    return [match.start() for match in _HINT.finditer(text)]


def _scaled(number: str, scale: int) -> int:
    return int(Decimal(number.replace(",", "")) * scale)


def find_sizes(text: str, start: int, end: int) -> list[Size]:
    """Return parameter counts in ``text[start:end]`` normalized to integers."""
    sizes: list[Size] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    # Each pattern below needs its unit in the text: skip the scans that cannot match.
    segment = text[start:end]
    has_b = "B" in segment
    for match in _SPEC.finditer(text, start, end) if has_b and "A" in segment else ():
        sizes.append(
            Size(
                match.start(),
                match.end(),
                _scaled(match.group(1), 10**9),
                _scaled(match.group(2), 10**9),
            )
        )
        taken.append(match.span())
    for match in _EN.finditer(text, start, end) if _ILLION.search(segment) else ():
        if not free(*match.span()):
            continue
        value = _scaled(match.group(1), 10**9 if match.group(2).lower() == "billion" else 10**12)
        active = (match.group(3) or "").lower() == "active"
        sizes.append(_with_role(text, match.start(), match.end(), value, active))
        taken.append(match.span())
    for match in _LATIN.finditer(text, start, end) if has_b or "T" in segment else ():
        if not free(*match.span()):
            continue
        value = _scaled(match.group(1), 10**9 if match.group(2) == "B" else 10**12)
        active = _ACTIVE_NEAR_EN.match(text, match.end()) is not None
        sizes.append(_with_role(text, match.start(), match.end(), value, active))
        taken.append(match.span())
    for match in _KO.finditer(text, start, end) if "억" in segment or "조" in segment else ():
        if not free(*match.span()):
            continue
        # 억/조 alone is money as often as parameters: require a parameter word nearby.
        if not match.group("unit") and not _PARAM_WORD_BEFORE.search(
            text, max(start, match.start() - 12), match.start()
        ):
            continue
        if match.group("jo"):
            value = _scaled(match.group("jo"), 10**12)
            if match.group("jo_eok"):
                value += _scaled(match.group("jo_eok"), 10**8)
        else:
            value = _scaled(match.group("eok"), 10**8)
        after = text[match.end() : min(end, match.end() + 14)]
        active = _ACTIVE_AFTER_KO.match(after) is not None
        sizes.append(_with_role(text, match.start(), match.end(), value, active))
        taken.append(match.span())
    return sorted(sizes, key=lambda s: s.start)


def _with_role(text: str, start: int, end: int, value: int, active: bool) -> Size:
    if not active and _ACTIVE_BEFORE.search(text, max(0, start - 20), start):
        active = True
    return Size(start, end, None if active else value, value if active else None)
