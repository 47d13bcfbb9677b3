"""Decide a fact's modality from the cues around the word that states it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import Document
from .segment import Sentence, Span, eojeol_start

# Strongest first: a conditional question is a question, a hedged negation is negated, …
PRECEDENCE = ("question", "conditional", "negated", "speculative", "expected", "retrospective")


@dataclass(frozen=True, slots=True)
class Window:
    """Where to look for cues around an anchor (the outcome word, a model name, a date…)."""

    head: str  # text before the anchor that belongs to the same statement
    tail: str  # the anchor's own word and what follows it up to the end of the statement
    after: str  # the text right after the anchor (negation is anchored here in Korean)
    retro_head: tuple[int, int]  # document range searched for governing past-time markers


def _search(pattern: re.Pattern[str] | None, *texts: str) -> bool:
    return pattern is not None and any(pattern.search(t) for t in texts if t)


def _strip_parentheticals(doc: Document, sentence: Sentence, start: int, end: int) -> str:
    pieces = []
    position = start
    for paren in sentence.parentheticals:
        if paren.end <= start or paren.start >= end:
            continue
        if paren.start <= start and end <= paren.end:
            continue  # the window lies inside this parenthetical: keep it whole
        pieces.append(doc.low[position : max(position, paren.start)])
        position = max(position, paren.end)
    pieces.append(doc.low[position:end])
    return " ".join(pieces)


def window(
    doc: Document,
    sentence: Sentence,
    clause: Span,
    anchor_start: int,
    anchor_end: int,
    head_start: int,
    tail_end: int,
) -> Window:
    """Return the cue window of an anchor; English parenthetical clauses are kept apart."""
    if doc.language == "ko":
        word_start = eojeol_start(doc.text, max(anchor_start, anchor_end - 1), clause.start)
        return Window(
            head=doc.low[head_start:anchor_start],
            tail=doc.low[word_start:tail_end],
            after=doc.low[anchor_end:tail_end],
            retro_head=(clause.start, anchor_start),
        )
    low, high = head_start, tail_end
    for paren in sentence.parentheticals:
        if paren.start <= anchor_start < paren.end:
            low, high = max(low, paren.start), min(high, paren.end)
    return Window(
        head=_strip_parentheticals(doc, sentence, low, anchor_start),
        tail=_strip_parentheticals(doc, sentence, anchor_end, high),
        after=doc.low[anchor_end:high],
        retro_head=(low, anchor_start),
    )


def flags(doc: Document, win: Window, *, retro_start: int | None = None) -> set[str]:
    """Return the modality cues present in ``win``."""
    cues = doc.compiled.modality[doc.language]
    found: set[str] = set()
    if doc.language == "ko":
        if _search(cues["question"], win.tail, win.head):
            found.add("question")
        if _search(cues["conditional"], win.tail, win.head):
            found.add("conditional")
        if any(p.match(win.after) for p in doc.compiled.negation["ko"]):
            found.update(("negated", "negated_direct"))
        elif any(p.match(win.after) for p in doc.compiled.unlikely["ko"]):
            found.add("negated")
        if _search(cues["speculative"], win.tail, win.after):
            found.add("speculative")
        if _search(cues["expected"], win.tail):
            found.add("expected")
        if _search(cues["retrospective"], win.tail):
            found.add("retrospective")
    else:
        if _search(cues["question"], win.head, win.tail):
            found.add("question")
        if _search(cues["conditional"], win.head, win.tail):
            found.add("conditional")
        if any(p.search(win.head) for p in doc.compiled.negation["en"]):
            found.update(("negated", "negated_direct"))
        elif any(p.search(win.head) for p in doc.compiled.unlikely["en"]):
            found.add("negated")
        if _search(cues["speculative"], win.head):
            found.add("speculative")
        if _search(cues["expected"], win.head):
            found.add("expected")
        # In English a past-time marker before the subject belongs to an earlier statement
        # ("… in January, and Motif was dropped this week"): look from the subject on.
        head = win.head
        if retro_start is not None and retro_start < win.retro_head[1]:
            low = win.retro_head[0]
            head = _strip_parentheticals(
                doc, doc.sentence_of(low), max(low, retro_start), win.retro_head[1]
            )
        if doc.retro_in_text(head) or doc.retro_in_text(win.tail):
            found.add("retrospective")
        return found
    start, end = win.retro_head
    if retro_start is not None:
        start = retro_start
    if doc.retro_in_head(start, end):
        found.add("retrospective")
    return found


def decide(found: set[str], default: str = "asserted") -> str:
    """Return the strongest modality among ``found`` (``default`` when none)."""
    for name in PRECEDENCE:
        if name in found:
            return name
    return default
