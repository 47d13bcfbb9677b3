"""Schedule facts: coming dates of results, evaluations and call deadlines."""

from __future__ import annotations

from .document import Document
from .found import Found
from .modality import decide, flags, window
from .segment import Sentence, Span


def _schedule_stage(doc: Document, sentence: Sentence, clause: Span, position: int) -> str | None:
    """Return the stage of a dated event: a strong label near it, else the article's topic."""
    weak: list[str] = []
    for start, end in ((clause.start, clause.end), (sentence.start, sentence.end)):
        mentions = [m for m in doc.stages_between(start, end) if not m.transit]
        strong = [m for m in mentions if not m.weak]
        if strong:
            return min(strong, key=lambda m: abs(m.start - position)).effective
        if mentions and not weak:
            weak.append(min(mentions, key=lambda m: abs(m.start - position)).effective)
    strong_context = doc.context_stage(sentence, lambda m: not m.weak, frequent=True)
    if strong_context is not None:
        return strong_context
    return weak[0] if weak else doc.context_stage(sentence, lambda m: True)


def _event_for(doc: Document, clause: Span, start: int, end: int, next_date: int) -> str | None:
    events = doc.compiled.events[doc.language]
    text = doc.low
    if doc.language == "ko":
        after: list[tuple[int, int, str]] = []
        before: list[tuple[int, int, str]] = []
        for priority, (event, pattern) in enumerate(events):
            if pattern is None:
                continue
            for match in pattern.finditer(text, end, next_date):
                if not _in_name(doc, match.start(), match.end()):
                    after.append((match.start(), priority, event))
            for match in pattern.finditer(text, clause.start, start):
                if not _in_name(doc, match.start(), match.end()):
                    before.append((-match.end(), priority, event))
        if after:
            return min(after)[2]
        if before:
            return min(before)[2]
        return None
    for low, high in ((clause.start, start), (end, clause.end)):
        for event, pattern in events:
            if pattern is None:
                continue
            for match in pattern.finditer(text, low, high):
                if not _in_name(doc, match.start(), match.end()):
                    return event
    return None


def _in_name(doc: Document, start: int, end: int) -> bool:
    """Return whether [start, end) lies inside a model name ("Solar Open 2" is no opening)."""
    return any(m.start <= start and end <= m.end for m in doc.models)


def extract_schedule(doc: Document) -> list[Found]:
    """Return coming dates of decisions, evaluations and call deadlines."""
    if not doc.in_context or doc.published is None:
        return []
    found: list[Found] = []
    key = doc.compiled.programme_key
    for sentence in doc.sentences:
        for clause in sentence.clauses:
            dates = doc.dates(clause.start, clause.end)
            for index, expr in enumerate(dates):
                if expr.past_marked or expr.last_day <= doc.published:
                    continue
                if expr.precision == "day" and expr.value <= doc.published:
                    continue
                next_date = dates[index + 1].start if index + 1 < len(dates) else clause.end
                event = _event_for(doc, clause, expr.start, expr.end, next_date)
                if event is None:
                    continue
                if doc.programme_or_adjacent_blocked(clause, expr.start, expr.end):
                    continue
                win = window(doc, sentence, clause, expr.start, expr.end, clause.start, clause.end)
                hedges = flags(doc, win) & {"question", "conditional", "speculative"}
                values: dict[str, object] = {
                    "event": event,
                    "stage": _schedule_stage(doc, sentence, clause, expr.start),
                    "date": expr.value.isoformat(),
                    "precision": expr.precision,
                }
                found.append(Found("schedule", key, values, decide(hedges, "expected"), sentence))
    return found
