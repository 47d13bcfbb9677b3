"""Score facts: a team's points per evaluation part, with scale and rank."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass

from .document import Document
from .found import Found
from .matching import fast_start
from .modality import decide, flags, window
from .numbers import EN_ORDINALS
from .segment import Sentence, Span

# Every alternative starts with a number and "점": the look-ahead rejects other numbers once
# instead of once per alternative.
_KO_SCORE = re.compile(
    r"(?=\d+(?:\.\d+)?\s?점)"
    r"(?:(?P<scale>\d+(?:\.\d+)?)\s?점\s?만점(?:\s?(?:중|에서|에|기준으로|기준|으로))?\s?(?:[^\d\s]+\s)?"
    r"(?P<value>\d+(?:\.\d+)?)\s?점"
    r"|(?P<value2>\d+(?:\.\d+)?)\s?점\s?\(\s?(?P<scale2>\d+(?:\.\d+)?)\s?점\s?만점\s?\)"
    r"|(?<![\d.])(?P<value3>\d+(?:\.\d+)?)\s?점(?!\s?만점)(?!\s?(?:차|높|낮|앞|뒤|상승|하락)))"
)
# fast_start: a look-ahead for the first characters, so the scan skips others quickly.
_EN_SCORE = fast_start(
    r"(?P<value>\d+(?:\.\d+)?)\s?(?:points?\s)?out of (?P<scale>\d+)"
    r"|(?<![\d.])(?P<value3>\d+(?:\.\d+)?)\s?points?\b"
    r"|\bscored (?:an? )?(?:average (?:of )?)?(?P<value4>\d+(?:\.\d+)?)\b"
    r"(?!\s?(?:billion|percent|%))",
    re.IGNORECASE,
)
_KO_RANK_AFTER = fast_start(r"(?<![\d.])(\d{1,2})\s?위(?!권)")
_EN_RANK = re.compile(
    r"\b(?:ranked|ranking|came|finished|placed)\s(?P<ord>first|second|third|fourth|fifth|sixth|last|\d+(?:st|nd|rd|th))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Score:
    start: int
    end: int
    value: float
    scale: float | None


def _scores_in(doc: Document, start: int, end: int) -> list[_Score]:
    pattern = _KO_SCORE if doc.language == "ko" else _EN_SCORE
    scores = []
    for match in pattern.finditer(doc.text, start, end):
        value = next(
            match.group(g)
            for g in ("value", "value2", "value3", "value4")
            if g in match.groupdict() and match.group(g)
        )
        scale = match.groupdict().get("scale") or match.groupdict().get("scale2")
        value_start = match.start(
            next(
                g
                for g in ("value", "value2", "value3", "value4")
                if g in match.groupdict() and match.group(g)
            )
        )
        if doc.text[max(start, value_start - 1) : value_start] == "(":
            # "큐웬3 235B(69.37점)": a bracketed score belongs to whatever precedes the bracket.
            before = value_start - 1
            if not any(t.marker_end == before or t.end == before for t in doc.teams) and not any(
                m.team is not None and m.end == before for m in doc.models
            ):
                continue
        number = float(value)
        scale_number = float(scale) if scale else None
        if number > 1000 or (scale_number is not None and number > scale_number):
            continue
        scores.append(_Score(match.start(), match.end(), number, scale_number))
    return scores


def _score_subject(
    doc: Document, sentence: Sentence, clause: Span, score: _Score, previous: Sentence | None
) -> str | None:
    def candidates(start: int, end: int) -> list[tuple[int, str, bool]]:
        teams: list[tuple[int, str, bool]] = [
            (t.start, t.team, t.particle not in ("보다", "와", "과", "와의", "과의"))
            for t in doc.teams_between(start, end)
        ]
        teams += [
            (m.start, m.team, True) for m in doc.programme_models_between(start, end) if m.team
        ]
        return sorted(teams)

    before = [c for c in candidates(clause.start, score.start) if c[2]]
    if before:
        return before[-1][1]
    after = [c for c in candidates(score.end, clause.end) if c[2]]
    if after:
        return after[0][1]
    in_sentence = [c for c in candidates(sentence.start, sentence.end) if c[2]]
    if in_sentence:
        return in_sentence[0][1]
    if previous is not None:
        names = {c[1] for c in candidates(previous.start, previous.end)}
        if len(names) == 1:
            return names.pop()
    return None


def _score_part(doc: Document, segment_start: int, score: _Score, segment_end: int) -> str | None:
    best: tuple[int, str] | None = None
    for part, pattern in doc.compiled.score_parts[doc.language]:
        for match in pattern.finditer(doc.low, segment_start, score.start):
            if best is None or match.start() > best[0]:
                best = (match.start(), part)
    if best is not None:
        return best[1]
    after_end = min(segment_end, score.end + 40)
    nearest: tuple[int, str] | None = None
    for part, pattern in doc.compiled.score_parts[doc.language]:
        hit = pattern.search(doc.low, score.end, after_end)
        if hit is not None and (nearest is None or hit.start() < nearest[0]):
            nearest = (hit.start(), part)
    if nearest is not None:
        return nearest[1]
    if score.scale is not None and score.scale < 100:
        return None
    return "total"


def _score_rank(
    doc: Document, segment_start: int, score: _Score, segment_end: int
) -> int | str | None:
    text = doc.low
    language = doc.language
    first = doc.compiled.rank_first[language]
    last = doc.compiled.rank_last[language]
    after_end = min(segment_end, score.end + 22)
    if language == "ko":
        match = _KO_RANK_AFTER.search(text, score.end, after_end)
        candidates: list[tuple[int, int | str]] = []
        if match is not None:
            candidates.append((match.start(), int(match.group(1))))
        for pattern, rank in ((first, 1), (last, "last")):
            if pattern is not None:
                hit = pattern.search(text, score.end, after_end)
                if hit is not None:
                    candidates.append((hit.start(), rank))
        if candidates:
            return min(candidates, key=lambda c: c[0])[1]
        for pattern, rank in ((last, "last"), (first, 1)):
            if pattern is not None and pattern.search(text, segment_start, score.start):
                return rank
        return None
    for window_start, window_end in ((segment_start, score.start), (score.end, after_end)):
        match = _EN_RANK.search(text, window_start, window_end)
        if match is not None:
            word = match.group("ord").lower()
            if word == "last":
                return "last"
            if word in EN_ORDINALS:
                return EN_ORDINALS[word]
            return int(re.sub(r"\D", "", word))
        for pattern, rank in ((last, "last"), (first, 1)):
            if pattern is not None and pattern.search(text, window_start, window_end):
                return rank
    return None


def _score_stage(
    doc: Document,
    sentence: Sentence,
    clause: Span,
    score: _Score,
    reported: list[tuple[int, str]],
) -> str | None:
    """Return the evaluation a score belongs to: named near it, else the one whose results the
    article reports (``reported``: positions and stages of its advance/elimination facts)."""
    stages = doc.compiled.stages

    def usable(start: int, end: int) -> list[tuple[int, str]]:
        found = []
        for mention in doc.stages_between(start, end):
            if mention.transit or stages[mention.effective].kind != "evaluation":
                continue
            if doc.language == "ko" and mention.end > score.start:
                continue
            distance = (
                abs(score.start - mention.end)
                if mention.end <= score.start
                else mention.start - score.end
            )
            found.append((distance, mention.effective))
        return found

    for start, end in ((clause.start, clause.end), (sentence.start, sentence.end)):
        found = usable(start, end)
        if found:
            return min(found)[1]
    if reported:
        return min(reported, key=lambda item: (abs(item[0] - sentence.start), -item[0]))[1]
    return doc.context_stage(
        sentence, lambda m: stages[m.effective].kind == "evaluation", frequent=True
    )


def extract_scores(doc: Document, reported: list[tuple[int, str]] | None = None) -> list[Found]:
    """Return score facts: team, stage, part, value, scale and rank.

    ``reported`` lists (position, stage) of the article's advance/elimination outcomes; a score
    with no stage named near it belongs to the nearest of those.
    """
    if not doc.in_context:
        return []
    reported = reported or []
    found: list[Found] = []
    previous: Sentence | None = None
    everywhere = _scores_in(doc, 0, len(doc.text))
    if not everywhere:
        return found
    starts = [s.start for s in everywhere]  # in text order: one finditer's matches
    for sentence in doc.sentences:
        if starts[-1] < sentence.start:  # no score starts in this sentence
            previous = sentence
            continue
        for clause in sentence.clauses:
            low = bisect_left(starts, clause.start)
            high = bisect_left(starts, clause.end, low)
            scores = [s for s in everywhere[low:high] if s.end <= clause.end]
            for index, score in enumerate(scores):
                if doc.programme_or_adjacent_blocked(clause, score.start, score.end):
                    continue
                subject = _score_subject(doc, sentence, clause, score, previous)
                if subject is None:
                    continue
                segment_start = scores[index - 1].end if index else clause.start
                segment_end = scores[index + 1].start if index + 1 < len(scores) else clause.end
                teams_after = [t.start for t in doc.teams_between(score.end, segment_end)]
                rank_end = min([segment_end, *teams_after])
                stage = _score_stage(doc, sentence, clause, score, reported)
                win = window(
                    doc, sentence, clause, score.start, score.end, clause.start, clause.end
                )
                modality = decide(flags(doc, win) - {"negated"})
                values: dict[str, object] = {
                    "stage": stage,
                    "part": _score_part(doc, segment_start, score, segment_end),
                    "value": score.value,
                    "scale": score.scale,
                    "rank": _score_rank(doc, segment_start, score, rank_end),
                }
                found.append(Found("score", subject, values, modality, sentence))
        previous = sentence
    return found
