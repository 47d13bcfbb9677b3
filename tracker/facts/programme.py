"""Programme facts: teams remaining, applicant counts, the additional call's status."""

from __future__ import annotations

import re

from .document import Document
from .found import Found
from .modality import decide, flags, window
from .numbers import parse_count
from .segment import Sentence, Span, eojeol_start

_EN_WORDS = re.compile(r"\S+")


def _programme_modality(
    kind: str, doc: Document, sentence: Sentence, clause: Span, start: int, end: int
) -> str:
    if doc.language == "ko":
        win = window(doc, sentence, clause, start, end, clause.start, clause.end)
        found = flags(doc, win) - {"negated"}
    else:
        cues = doc.compiled.modality["en"]
        words = _EN_WORDS.findall(doc.low[clause.start : start])
        near = " ".join(words[-6:])
        head = doc.low[clause.start : start]
        tail = doc.low[end : clause.end]
        found = set()
        # "the three remaining teams … will move on": the count describes now, the verb after
        # it does not; "the final two teams will be decided" is about what comes.
        if re.search(r"remain|surviv", doc.text[start:end], re.IGNORECASE):
            tail = ""
        for name in ("question", "conditional", "speculative", "expected"):
            pattern = cues[name]
            if pattern is not None and (pattern.search(head) or pattern.search(tail)):
                found.add(name)
        # Only a marker right before the count looks back ("A month after …, the three
        # remaining teams" is about now).
        if doc.retro_in_text(near):
            found.add("retrospective")
    # A plan stated in the present tense ("2027년까지 최종 2개 팀을 가린다") is expected; the
    # whole sentence decides for a count, the cue's own clause for the call's status.
    scope = (
        (sentence.start, sentence.end) if kind != "additional_call" else (clause.start, clause.end)
    )
    if not found and doc.language == "ko" and doc.future_only(*scope):
        return "expected"
    return decide(found)


def extract_programme(doc: Document) -> list[Found]:
    """Return programme facts: teams remaining, applicant counts, additional call status."""
    if not doc.in_context:
        return []
    compiled = doc.compiled
    key = compiled.programme_key
    language = doc.language
    found: list[Found] = []
    counts: list[tuple[int, int, str, int]] = []
    for kind, patterns in (
        ("teams_remaining", compiled.teams_remaining[language]),
        ("applicants", compiled.applicants[language]),
    ):
        if not compiled.may_count(doc.low, language):
            break  # none of the patterns matches anywhere in the article
        for pattern in patterns:
            for match in pattern.finditer(doc.low):
                count = parse_count(match.group("count"))
                if count is not None:
                    counts.append((match.start(), match.end(), kind, count))
    counts.sort()
    has_call = compiled.call_stage is not None and any(
        m.effective == compiled.call_stage for m in doc.stages
    )
    if not counts and not has_call:
        return found  # nothing below can fire without a count or a call mention
    for sentence in doc.sentences:
        for start, end, kind, count in counts:
            if not sentence.start <= start < sentence.end:
                continue
            clause = sentence.clause_at(start)
            if end > clause.end or doc.programme_or_adjacent_blocked(clause, start, end):
                continue
            modality = _programme_modality(kind, doc, sentence, clause, start, end)
            values: dict[str, object] = {"kind": kind, "count": count, "status": None}
            found.append(Found("programme", key, values, modality, sentence))
        calls = [
            m
            for m in doc.stages_between(sentence.start, sentence.end)
            if compiled.call_stage is not None and m.effective == compiled.call_stage
        ]
        for status, cue in (
            ("opened", compiled.call_opened[language]),
            ("closed", compiled.call_closed[language]),
        ):
            if cue is None or not calls:
                continue
            # The cue must say something about the call: after it, in the same clause
            # ("추가 공모를 공고했다"), not about an evaluation elsewhere in the sentence.
            hit: re.Match[str] | None = None
            for call in calls:
                clause = sentence.clause_at(call.start)
                hit = cue.search(doc.low, call.end, clause.end)
                if hit is None:
                    # …or right before it, as its modifier: "지난달 27일 마감된 추가 공모".
                    word = eojeol_start(doc.low, max(clause.start, call.start - 2), clause.start)
                    hit = cue.search(doc.low, word, call.start)
                if hit is not None:
                    break
            if hit is None:
                continue
            clause = sentence.clause_at(hit.start())
            if doc.programme_or_adjacent_blocked(clause, hit.start(), hit.end()):
                continue
            modality = _programme_modality(
                "additional_call", doc, sentence, clause, hit.start(), hit.end()
            )
            call_values: dict[str, object] = {
                "kind": "additional_call",
                "count": None,
                "status": status,
            }
            found.append(Found("programme", key, call_values, modality, sentence))
    return found
