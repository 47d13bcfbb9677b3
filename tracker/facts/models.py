"""Model facts: which team has which model, with the sizes written next to it."""

from __future__ import annotations

import re

from .document import Document
from .found import Found
from .matching import ModelMention
from .numbers import Size, find_sizes
from .segment import Sentence

_EN_WORDS = re.compile(r"\S+")


def _assign_sizes(
    doc: Document, sentence: Sentence, mentions: list[ModelMention]
) -> dict[int, list[Size]]:
    """Return, per model mention index, the sizes written for it in the sentence."""
    sizes = find_sizes(doc.text, sentence.start, sentence.end)
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
    doc: Document, sentence: Sentence, mention: ModelMention, mentions: list[ModelMention]
) -> str:
    clause = sentence.clause_at(mention.start)
    cues = doc.compiled.modality[doc.language]
    if doc.language == "ko":
        later = [m.start for m in mentions if m.start > mention.start and m.start < clause.end]
        tail = doc.low[mention.end : min([clause.end, *later])]
        texts = [tail]
    else:
        words = _EN_WORDS.findall(doc.low[clause.start : mention.start])
        texts = [" ".join(words[-6:])]
    for name in ("question", "conditional", "expected"):
        pattern = cues[name]
        if pattern is not None and any(pattern.search(t) for t in texts):
            return name
    return "asserted"


def extract_models(doc: Document) -> list[Found]:
    """Return model facts: team, model and the sizes stated next to it."""
    found: list[Found] = []
    previous: list[ModelMention] = []
    for sentence in doc.sentences:
        mentions = [m for m in doc.models if sentence.start <= m.start < sentence.end]
        if not mentions:
            # "활성 매개변수는 220억 개로 …" right after the sentence that named the model.
            named = {m.model for m in previous if m.team is not None}
            if len(named) == 1:
                model = next(m for m in previous if m.team is not None)
                for size in find_sizes(doc.text, sentence.start, sentence.end):
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
        sizes = _assign_sizes(doc, sentence, mentions)
        for index, mention in enumerate(mentions):
            if mention.team is None:
                continue
            totals = [s.total for s in sizes.get(index, []) if s.total is not None]
            actives = [s.active for s in sizes.get(index, []) if s.active is not None]
            values: dict[str, object] = {
                "model": mention.model,
                "team": mention.team,
                "params_total": totals[0] if totals else None,
                "params_active": actives[0] if actives else None,
            }
            modality = _model_modality(doc, sentence, mention, mentions)
            found.append(Found("model", mention.team, values, modality, sentence))
    return found
