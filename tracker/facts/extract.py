"""Run every fact finder over one article and merge repeated facts."""

from __future__ import annotations

from datetime import date, datetime

from .document import Document, Splitter
from .entities import Entities
from .fact import Fact
from .found import Found
from .matching import compiled_for
from .models import extract_models
from .outcomes import extract_outcomes
from .programme import extract_programme
from .schedule import extract_schedule
from .scores import extract_scores
from .segment import detect_language, split_sentences


def _published_date(published_at: datetime | date | None) -> date | None:
    if published_at is None:
        return None
    if isinstance(published_at, datetime):
        return published_at.date()
    return published_at


def _fact(found: Found, doc: Document) -> Fact:
    sentence = found.sentence
    return Fact(
        type=found.type,
        subject=found.subject,
        values=dict(found.values),
        modality=found.modality,
        sentence=doc.text[sentence.start : sentence.end],
        start=sentence.start,
        end=sentence.end,
        language=doc.language,
    )


def _merge_outcomes(items: list[Found]) -> list[Found]:
    merged: dict[tuple[object, ...], Found] = {}
    for item in items:
        key = (item.subject, item.values["stage"], item.values["status"], item.modality)
        kept = merged.get(key)
        if kept is None or (kept.values["reason"] is None and item.values["reason"] is not None):
            merged[key] = item
    return list(merged.values())


def _merge_models(items: list[Found]) -> list[Found]:
    clusters: list[list[Found]] = []
    # Per cluster and size key, the distinct non-None values of its members: an item fits when
    # each of its sizes is None or equal to all of them (checking every member was quadratic
    # in the mentions of one model).
    known: list[tuple[list[object], list[object]]] = []
    for item in items:
        total, active = item.values["params_total"], item.values["params_active"]
        for cluster, (totals, actives) in zip(clusters, known, strict=True):
            head = cluster[0]
            if head.subject != item.subject or head.values["model"] != item.values["model"]:
                continue
            if all(_compatible(v, total) for v in totals) and all(
                _compatible(v, active) for v in actives
            ):
                cluster.append(item)
                if total is not None and total not in totals:
                    totals.append(total)
                if active is not None and active not in actives:
                    actives.append(active)
                break
        else:
            clusters.append([item])
            known.append(
                ([total] if total is not None else [], [active] if active is not None else [])
            )
    merged = []
    for cluster in clusters:
        best = max(
            cluster,
            key=lambda f: sum(f.values[k] is not None for k in ("params_total", "params_active")),
        )
        values = dict(best.values)
        for k in ("params_total", "params_active"):
            values[k] = next((m.values[k] for m in cluster if m.values[k] is not None), None)
        modality = (
            "asserted" if any(m.modality == "asserted" for m in cluster) else cluster[0].modality
        )
        merged.append(Found(best.type, best.subject, values, modality, best.sentence))
    return merged


def _compatible(a: object, b: object) -> bool:
    return a is None or b is None or a == b


def _merge_keyed(items: list[Found], keys: tuple[str, ...], fill: tuple[str, ...]) -> list[Found]:
    merged: dict[tuple[object, ...], Found] = {}
    for item in items:
        key = (item.type, item.subject, item.modality, *(item.values.get(k) for k in keys))
        kept = merged.get(key)
        if kept is None:
            merged[key] = item
            continue
        values = dict(kept.values)
        for k in fill:
            if values.get(k) is None and item.values.get(k) is not None:
                values[k] = item.values[k]
        merged[key] = Found(kept.type, kept.subject, values, kept.modality, kept.sentence)
    return list(merged.values())


def run(
    title: str,
    body: str,
    published_at: datetime | date | None,
    entities: Entities,
    language: str | None = None,
    splitter: Splitter = split_sentences,
) -> list[Fact]:
    """Return the facts of one article (see tracker.facts.extract_facts)."""
    text = f"{title}\n{body}"
    language = language if language in ("ko", "en") else detect_language(text)
    doc = Document.build(
        text, len(title), language, _published_date(published_at), compiled_for(entities), splitter
    )
    if not doc.sentences:
        return []
    stage_outcomes = extract_outcomes(doc)
    outcomes = [
        Found(
            "stage_outcome",
            o.team,
            {"stage": o.stage, "status": o.status, "reason": o.reason},
            o.modality,
            o.sentence,
        )
        for o in stage_outcomes
    ]
    reported = [
        (o.sentence.start, o.stage)
        for o in stage_outcomes
        if o.status in ("advanced", "eliminated")
    ]
    found = (
        _merge_outcomes(outcomes)
        + _merge_models(extract_models(doc))
        + _merge_keyed(extract_scores(doc, reported), ("stage", "part", "value"), ("scale", "rank"))
        + _merge_keyed(extract_schedule(doc), ("event", "stage", "date", "precision"), ())
        + _merge_keyed(extract_programme(doc), ("kind", "count", "status"), ())
    )
    facts = [_fact(item, doc) for item in found]
    order = {
        name: index
        for index, name in enumerate(("stage_outcome", "model", "score", "schedule", "programme"))
    }
    return sorted(facts, key=lambda f: (f.start, order[f.type]))
