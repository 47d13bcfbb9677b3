"""Language detection, sentence and clause splitting, and small text helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HANGUL = re.compile(r"[가-힣]")
_LATIN = re.compile(r"[A-Za-z]")

# Abbreviations whose period does not end an English sentence.
_ABBREVIATIONS = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "no",
        "co",
        "inc",
        "corp",
        "ltd",
        "vs",
        "u.s",
        "e.g",
        "i.e",
        "gov",
        "sen",
        "rep",
    ]
)
_TERMINAL = re.compile(r"[.?!]+[\"'”’)\]]*")

# Korean clause boundaries: connective endings after a verb, then a space (or comma).
_KO_BOUNDARIES = re.compile(
    r"(?<=[하되했됐였었았졌렸켰쳤웠혔받내열넘쓰두지리기])고,?(?=\s)(?!\s+(?:있|싶|말|나서|계))"
    r"|(?<=[가-힣])(?:으며|며|지만|으나|는데|면서),?(?=\s)"
    r"|(?<=[한된는])\s(?:가운데|뒤|후|이후),?(?=\s)"
    r"|…|\.\.\.|;"
)
_KO_BOUNDARY_BEFORE = re.compile(r"(?<=\s)(?:반면(?:에)?|한편),?(?=\s)")
_EN_BOUNDARIES = re.compile(
    r",?\s+(?=(?:while|whereas|but|although|though|given that|as it|as they)\b)|;\s"
)
_EN_PARENTHETICAL = re.compile(r",\s+(?:which|who|whose)\b[^,;]*(?:,|$)")


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open [start, end) range of the document text."""

    start: int
    end: int

    def contains(self, position: int) -> bool:
        """Return whether ``position`` lies inside the span."""
        return self.start <= position < self.end


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the document, its clauses and (English) parenthetical relative clauses."""

    start: int
    end: int
    is_title: bool
    clauses: tuple[Span, ...]
    parentheticals: tuple[Span, ...]

    def clause_at(self, position: int) -> Span:
        """Return the clause containing ``position``."""
        for clause in self.clauses:
            if clause.start <= position < clause.end:
                return clause
        return self.clauses[-1]


def detect_language(text: str) -> str:
    """Return "ko" when Hangul makes up a fair share of the letters, else "en"."""
    hangul = len(_HANGUL.findall(text))
    latin = len(_LATIN.findall(text))
    return "ko" if hangul and hangul >= 0.3 * (hangul + latin) else "en"


def _is_boundary(line: str, match: re.Match[str]) -> bool:
    end = match.end()
    following = line[end : end + 1]
    mark = line[match.start()]
    before = line[: match.start()]
    if mark == "." and match.group() == ".":
        word = before.rsplit(None, 1)[-1] if before.strip() else ""
        bare = word.lstrip("(\"'“‘").lower()
        if bare in _ABBREVIATIONS or (len(bare) == 1 and bare.isalpha()):
            return False
        if before[-1:].isdigit() and following.isdigit():
            return False
    if not following or following.isspace():
        return True
    # Portal copies glue sentences together ("…전망이다.중국…"): a Korean ending then Hangul.
    return (
        mark == "."
        and _HANGUL.match(before[-1:] or " ") is not None
        and bool(_HANGUL.match(following))
    )


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    offset = 0
    for line in text.split("\n"):
        start = 0
        for match in _TERMINAL.finditer(line):
            if _is_boundary(line, match):
                spans.append((offset + start, offset + match.end()))
                start = match.end()
        spans.append((offset + start, offset + len(line)))
        offset += len(line) + 1
    trimmed = []
    for start, end in spans:
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            trimmed.append((start, end))
    return trimmed


def _clauses(text: str, start: int, end: int, language: str) -> tuple[Span, ...]:
    segment = text[start:end]
    cuts: list[int] = []
    if language == "ko":
        cuts += [m.end() for m in _KO_BOUNDARIES.finditer(segment)]
        cuts += [m.start() for m in _KO_BOUNDARY_BEFORE.finditer(segment)]
    else:
        cuts += [m.end() for m in _EN_BOUNDARIES.finditer(segment)]
    spans = []
    previous = 0
    for cut in sorted(set(cuts)):
        if 0 < cut < len(segment) and cut > previous:
            spans.append(Span(start + previous, start + cut))
            previous = cut
    spans.append(Span(start + previous, end))
    return tuple(spans)


def split_sentences(text: str, language: str, title_end: int) -> list[Sentence]:
    """Return the sentences of ``text``; those ending at or before ``title_end`` are the title."""
    return build_sentences(text, _sentence_spans(text), language, title_end)


def build_sentences(
    text: str, spans: list[tuple[int, int]], language: str, title_end: int
) -> list[Sentence]:
    """Return Sentence objects (with clauses) for sentence ``spans`` found by any splitter."""
    sentences = []
    for start, end in spans:
        parentheticals: tuple[Span, ...] = ()
        if language == "en":
            parentheticals = tuple(
                Span(m.start(), m.end()) for m in _EN_PARENTHETICAL.finditer(text, start, end)
            )
        sentences.append(
            Sentence(
                start=start,
                end=end,
                is_title=end <= title_end,
                clauses=_clauses(text, start, end, language),
                parentheticals=parentheticals,
            )
        )
    return sentences


def eojeol_start(text: str, position: int, floor: int = 0) -> int:
    """Return where the whitespace-delimited word containing ``position`` begins."""
    index = position
    while index > floor and not text[index - 1].isspace():
        index -= 1
    return index


def eojeol_end(text: str, position: int, ceiling: int) -> int:
    """Return where the word containing ``position`` ends (exclusive)."""
    index = position
    while index < ceiling and not text[index].isspace():
        index += 1
    return index
