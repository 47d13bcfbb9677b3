"""Model facts: which team has which model, with the sizes written next to it."""

from __future__ import annotations

import re
from bisect import bisect_left

from .document import Document
from .found import Found
from .matching import ModelMention
from .numbers import Size, find_sizes, size_hints
from .segment import Sentence

_EN_WORDS = re.compile(r"\S+")


def _sizes_in(doc: Document, sentence: Sentence, hints: list[int]) -> list[Size]:
    """Return find_sizes over the sentence, skipping the patterns when no size hint lies in it."""
    index = bisect_left(hints, sentence.start)
    if index == len(hints) or hints[index] >= sentence.end:
        return []
    return find_sizes(doc.text, sentence.start, sentence.end)


def _assign_sizes(
    doc: Document, sentence: Sentence, mentions: list[ModelMention], hints: list[int]
) -> dict[int, list[Size]]:
    """Return, per model mention index, the sizes written for it in the sentence."""
    sizes = _sizes_in(doc, sentence, hints)
    assigned: dict[int, list[Size]] = {}
    for size in sizes:
        inside = [i for i, m in enumerate(mentions) if m.start <= size.start and size.end <= m.end]
        if inside:
            # Digits of a model's own name are not a reported size, except a "236B-A23B" spec.
            if size.total is not None and size.active is not None:
                assigned.setdefault(inside[0], []).append(size)
            continue
        target = None
        following = [
            (i, m)
            for i, m in enumerate(mentions)
            if m.start >= size.end
            and m.start - size.end <= 14
            and not re.search(r"[,.…]", doc.text[size.end : m.start])
        ]
        if following:
            target = following[0][0]
        else:
            preceding = [(i, m) for i, m in enumerate(mentions) if m.end <= size.start]
            if preceding:
                target = preceding[-1][0]
            elif mentions:
                target = 0
        if target is not None:
            assigned.setdefault(target, []).append(size)
    return assigned


def _model_modality(
    doc: Document,
    sentence: Sentence,
    mention: ModelMention,
    mentions: list[ModelMention],
    cues: list[tuple[str, re.Pattern[str]]],
) -> str:
    """Return the modality of a model mention; ``cues`` are the language's question,
    conditional and expected patterns (in that order, None left out)."""
    clause = sentence.clause_at(mention.start)
    if doc.language == "ko":
        end = clause.end
        for m in mentions:
            if mention.start < m.start < end:
                end = m.start
        text = doc.low[mention.end : end]
    else:
        words = _EN_WORDS.findall(doc.low[clause.start : mention.start])
        text = " ".join(words[-6:])
    for name, pattern in cues:
        if pattern.search(text):
            return name
    return "asserted"


def extract_models(doc: Document) -> list[Found]:
    """Return model facts: team, model and the sizes stated next to it."""
    found: list[Found] = []
    if not doc.models:
        return found  # sizes are only reported in or right after a sentence naming a model
    previous: list[ModelMention] = []
    hints = size_hints(doc.text)
    modality = doc.compiled.modality[doc.language]
    cues = [
        (name, pattern)
        for name in ("question", "conditional", "expected")
        if (pattern := modality[name]) is not None
    ]
    for sentence in doc.sentences:
        mentions = doc.models_between(sentence.start, sentence.end)
        if not mentions:
            # "활성 매개변수는 220억 개로 …" right after the sentence that named the model.
            named = {m.model for m in previous if m.team is not None}
            if len(named) == 1:
                model = next(m for m in previous if m.team is not None)
                for size in _sizes_in(doc, sentence, hints):
                    carried: dict[str, object] = {
                        "model": model.model,
                        "team": model.team,
                        "params_total": size.total,
                        "params_active": size.active,
                    }
                    found.append(Found("model", str(model.team), carried, "asserted", sentence))
            previous = []
            continue
        previous = mentions
        sizes = _assign_sizes(doc, sentence, mentions, hints)
        for index, mention in enumerate(mentions):
            if mention.team is None:
                continue
            total = active = None
            for size in sizes.get(index, ()):
                if total is None and size.total is not None:
                    total = size.total
                if active is None and size.active is not None:
                    active = size.active
            values: dict[str, object] = {
                "model": mention.model,
                "team": mention.team,
                "params_total": total,
                "params_active": active,
            }
            found.append(
                Found(
                    "model",
                    mention.team,
                    values,
                    _model_modality(doc, sentence, mention, mentions, cues),
                    sentence,
                )
            )
    return found
