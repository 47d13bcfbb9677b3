"""Language detection, sentence and clause splitting, and small text helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass

_HANGUL = re.compile(r"[가-힣]")
_LATIN = re.compile(r"[A-Za-z]")
# Runs instead of single letters: counting letters by run lengths allocates far fewer strings.
_HANGUL_RUN = re.compile(r"[가-힣]+")
_LATIN_RUN = re.compile(r"[A-Za-z]+")

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

# Korean clause boundaries: connective endings after a verb, then a space (or comma). Each
# alternative starts with a literal and checks what precedes it with a look-behind placed after
# that literal: the engine can then scan for the first characters at C speed (a leading
# look-behind defeats that scan and costs ~3x). The cuts (match ends) are those of
# (?<=[하되…])고,?(?=\s)(?!…) | (?<=[가-힣])(?:으며|며|지만|으나|는데|면서),?(?=\s)
# | (?<=[한된는])\s(?:가운데|뒤|후|이후),?(?=\s) | … | ... | ;
_KO_BOUNDARIES = re.compile(
    r"고(?<=[하되했됐였었았졌렸켰쳤웠혔받내열넘쓰두지리기]고),?(?=\s)(?!\s+(?:있|싶|말|나서|계))|"
    + "|".join(
        f"{word}(?<=[가-힣]{word}),?(?=\\s)"
        for word in ("으며", "며", "지만", "으나", "는데", "면서")
    )
    + "|"
    + "|".join(f"{word}(?<=[한된는]\\s{word}),?(?=\\s)" for word in ("가운데", "뒤", "후", "이후"))
    + r"|…|\.\.\.|;"
)
# (?<=\s)(?:반면(?:에)?|한편),?(?=\s) with the look-behind after the literal (same matches).
_KO_BOUNDARY_BEFORE = re.compile(r"반면(?<=\s반면)(?:에)?,?(?=\s)|한편(?<=\s한편),?(?=\s)")
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
    hangul = sum(map(len, _HANGUL_RUN.findall(text)))
    latin = sum(map(len, _LATIN_RUN.findall(text)))
    return "ko" if hangul and hangul >= 0.3 * (hangul + latin) else "en"


def _is_boundary(line: str, match: re.Match[str]) -> bool:
    mark_at = match.start()
    end = match.end()
    following = line[end : end + 1]
    mark = line[mark_at]
    last = line[mark_at - 1 : mark_at]  # the character before the mark ("" at line start)
    # Portal copies glue sentences together ("…전망이다.중국…"): a Korean ending then Hangul.
    # Anything else glued to what follows ("A.X", "31.3점") is no boundary: decide that first.
    if (
        following
        and not following.isspace()
        and not (mark == "." and _HANGUL.match(last) is not None and _HANGUL.match(following))
    ):
        return False
    if mark == "." and end - mark_at == 1:
        if mark_at >= 2 and "가" <= last <= "힣" and "가" <= line[mark_at - 2] <= "힣":
            return True  # "…했다." ends a word of two or more Hangul: no abbreviation or number
        before = line[:mark_at]
        word = before.rsplit(None, 1)[-1] if before.strip() else ""
        bare = word.lstrip("(\"'“‘").lower()
        if bare in _ABBREVIATIONS or (len(bare) == 1 and bare.isalpha()):
            return False
        if last.isdigit() and following.isdigit():
            return False
    return True


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
    if language == "ko":
        cuts = [m.end() for m in _KO_BOUNDARIES.finditer(segment)]
        if "반면" in segment or "한편" in segment:  # the only words _KO_BOUNDARY_BEFORE finds
            cuts += [m.start() for m in _KO_BOUNDARY_BEFORE.finditer(segment)]
    else:
        cuts = [m.end() for m in _EN_BOUNDARIES.finditer(segment)]
    if not cuts:
        return (Span(start, end),)
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
