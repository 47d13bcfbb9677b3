"""Fold asserted facts into the competition's state and the changes it implies; pure functions.

Input is every stored fact with what is known about its article (publisher, near-duplicate
story, official or not). Output is deterministic: the same facts always give the same state and
the same change drafts, so the state can be recomputed at any time (`tracker rebuild`).

Rules (why each exists):
* Only asserted facts count; for schedules, "expected" ones too (a plan *is* the schedule
  claim: "결과는 1월 중 발표할 예정" asserts the date of a coming decision).
* Independence: articles in one near-duplicate story (wire copies, rewrites) or from one
  publisher count once, so 30 outlets running one wire story are one source.
* Confidence: ``confirmed`` when an official article asserts it or when at least
  ``min_publishers`` independent sources do; else ``reported``. A reported outcome contradicted
  by a confirmed one for the same team and stage is ``retracted``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

OUTCOME_KINDS = {
    "selected": "team_selected",
    "advanced": "team_advanced",
    "eliminated": "team_eliminated",
    "not_selected": "team_not_selected",
    "withdrew": "team_withdrew",
}
# A team selected in the additional call joins the competition: its own kind.
ADDED_STAGE = "additional_call"
TEAM_STATUS = {
    "selected": "selected",
    "advanced": "active",
    "eliminated": "eliminated",
    "not_selected": "not_selected",
    "withdrew": "withdrew",
}
CONFIDENCE_RANK = {"reported": 1, "confirmed": 2}


@dataclass(frozen=True, slots=True)
class FactRecord:
    """A stored fact and what the tracker knows about its article."""

    fact_id: int
    article_id: int
    type: str
    subject: str
    values: Mapping[str, Any]
    modality: str
    sentence: str
    url: str
    title: str
    publisher: str | None
    story_id: int | None
    official: bool
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChangeDraft:
    """A change the facts imply, with its evidence; recorded idempotently by ``key``."""

    key: str
    kind: str
    subject: str
    stage: str | None
    before: str | None
    after: str | None
    confidence: str  # reported | confirmed | retracted
    evidence: tuple[FactRecord, ...]


@dataclass
class TeamState:
    name: str
    status: str = "candidate"
    stage: str | None = None
    confidence: str | None = None
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "stage": self.stage,
            "confidence": self.confidence,
            "models": self.models,
            "scores": self.scores,
        }


@dataclass
class CompetitionState:
    teams: dict[str, TeamState]
    current_stage: str | None
    teams_remaining: int
    next_decision: dict[str, Any] | None
    schedules: dict[str, dict[str, Any]]
    additional_call: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "teams": [t.to_dict() for t in self.teams.values()],
            "programme": {
                "current_stage": self.current_stage,
                "teams_remaining": self.teams_remaining,
                "next_decision": self.next_decision,
                "additional_call": self.additional_call,
                "schedules": self.schedules,
            },
        }


def independent_sources(evidence: Iterable[FactRecord]) -> int:
    """Return how many independent sources the evidence holds.

    Articles are joined when they share a near-duplicate story or a publisher; each connected
    group is one source.
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    def union(a: str, b: str) -> None:
        parent[find(a)] = find(b)

    articles = set()
    for record in evidence:
        article = f"a{record.article_id}"
        articles.add(article)
        if record.story_id is not None:
            union(article, f"s{record.story_id}")
        if record.publisher:
            union(article, f"p{record.publisher.strip().casefold()}")
    return len({find(a) for a in articles})


def confidence_of(evidence: Sequence[FactRecord], min_publishers: int) -> str:
    """Return ``confirmed`` (official, or enough independent sources) or ``reported``."""
    if any(r.official for r in evidence):
        return "confirmed"
    return "confirmed" if independent_sources(evidence) >= min_publishers else "reported"


def _published(record: FactRecord) -> datetime:
    return record.published_at or datetime.min.replace(tzinfo=UTC)


def _ordered(records: Iterable[FactRecord]) -> tuple[FactRecord, ...]:
    return tuple(sorted(records, key=lambda r: (_published(r), r.article_id, r.fact_id)))


def fold(
    facts: Iterable[FactRecord],
    stage_order: Mapping[str, int],
    min_publishers: int,
    today: date,
) -> tuple[CompetitionState, list[ChangeDraft]]:
    """Return the competition's state and the change drafts implied by ``facts``."""
    facts = list(facts)
    drafts: list[ChangeDraft] = []
    teams: dict[str, TeamState] = {}
    outcomes: dict[tuple[str, str], dict[str, list[FactRecord]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for record in facts:
        if record.type == "stage_outcome" and record.modality == "asserted":
            status = record.values.get("status")
            stage = record.values.get("stage")
            if status in OUTCOME_KINDS and stage:
                outcomes[(record.subject, stage)][status].append(record)

    # Settle each (team, stage): a confirmed status retracts contradicting reported ones.
    accepted: list[tuple[str, str, str, str, tuple[FactRecord, ...]]] = []
    for (team, stage), by_status in outcomes.items():
        graded = {
            status: (confidence_of(records, min_publishers), _ordered(records))
            for status, records in by_status.items()
        }
        confirmed = [s for s, (c, _) in graded.items() if c == "confirmed"]
        for status, (confidence, records) in graded.items():
            if confidence == "reported" and confirmed:
                confidence = "retracted"
            accepted.append((team, stage, status, confidence, records))

    # Walk each team's accepted outcomes in stage order, then time: the last defines its state.
    by_team: dict[str, list[tuple[str, str, str, tuple[FactRecord, ...]]]] = defaultdict(list)
    for team, stage, status, confidence, records in accepted:
        if confidence == "retracted":
            kind = OUTCOME_KINDS[status]
            drafts.append(_draft(kind, team, stage, None, TEAM_STATUS[status], confidence, records))
            continue
        by_team[team].append((stage, status, confidence, records))
    for team, items in sorted(by_team.items()):
        state = teams.setdefault(team, TeamState(team))
        items.sort(key=lambda i: (stage_order.get(i[0], 10_000), _published(i[3][0])))
        for stage, status, confidence, records in items:
            before = state.status
            kind = OUTCOME_KINDS[status]
            if status == "selected" and stage == ADDED_STAGE:
                kind = "team_added"
            drafts.append(
                _draft(kind, team, stage, before, TEAM_STATUS[status], confidence, records)
            )
            if before == "eliminated" and status in {"withdrew", "not_selected"}:
                continue  # not re-entering (the additional call) leaves a team eliminated
            state.status, state.stage, state.confidence = TEAM_STATUS[status], stage, confidence

    drafts += _model_drafts(facts, teams, min_publishers)
    drafts += _score_drafts(facts, teams, min_publishers)
    schedules, schedule_drafts = _schedules(facts, min_publishers)
    drafts += schedule_drafts
    additional_call, call_drafts = _additional_call(facts, min_publishers)
    drafts += call_drafts

    stages = [t.stage for t in teams.values() if t.stage]
    current_stage = max(stages, key=lambda s: stage_order.get(s, -1)) if stages else None
    remaining = sum(1 for t in teams.values() if t.status in {"selected", "active"})
    upcoming = [
        {"event": key.split("|")[0], "stage": key.split("|")[1], **value}
        for key, value in schedules.items()
        if date.fromisoformat(value["date"]) + _period(value["precision"]) > today
    ]
    upcoming.sort(key=lambda s: s["date"])
    state = CompetitionState(
        teams=dict(sorted(teams.items())),
        current_stage=current_stage,
        teams_remaining=remaining,
        next_decision=upcoming[0] if upcoming else None,
        schedules=schedules,
        additional_call=additional_call,
    )
    return state, drafts


def _draft(
    kind: str,
    subject: str,
    stage: str | None,
    before: str | None,
    after: str | None,
    confidence: str,
    records: tuple[FactRecord, ...],
    extra_key: str = "",
) -> ChangeDraft:
    key = "|".join(part or "" for part in (kind, subject, stage, extra_key or after))
    return ChangeDraft(key, kind, subject, stage, before, after, confidence, records)


def _model_drafts(
    facts: Sequence[FactRecord], teams: dict[str, TeamState], min_publishers: int
) -> list[ChangeDraft]:
    groups: dict[tuple[str, str, int | None], list[FactRecord]] = defaultdict(list)
    for record in facts:
        if record.type == "model" and record.modality == "asserted":
            values = record.values
            groups[(record.subject, str(values.get("model")), values.get("params_total"))].append(
                record
            )
    drafts = []
    latest: dict[tuple[str, str], int | None] = {}
    for (team, model, params), records in sorted(
        groups.items(), key=lambda item: _published(_ordered(item[1])[0])
    ):
        ordered = _ordered(records)
        known = (team, model) in latest
        previous = latest.get((team, model))
        if params is None and known:
            continue  # a later mention without a size says nothing new
        latest[(team, model)] = params
        state = teams.setdefault(team, TeamState(team))
        active = ordered[-1].values.get("params_active")
        state.models[model] = {"params_total": params, "params_active": active}
        drafts.append(
            _draft(
                "model_announced",
                team,
                None,
                f"{model} {_size(previous)}".strip() if known and previous != params else None,
                f"{model} {_size(params)}".strip(),
                confidence_of(ordered, min_publishers),
                ordered,
                extra_key=f"{model}|{params}",
            )
        )
    return drafts


def _size(params: int | None) -> str:
    if not params:
        return ""
    billions = params / 1e9
    return f"{billions:.0f}B" if billions >= 10 else f"{billions:.1f}B"


def _score_drafts(
    facts: Sequence[FactRecord], teams: dict[str, TeamState], min_publishers: int
) -> list[ChangeDraft]:
    # Keyed by value alone: "86.1점" and "100점 만점에 86.1점" are one score.
    groups: dict[tuple[str, str, str, float], list[FactRecord]] = defaultdict(list)
    for record in facts:
        if record.type == "score" and record.modality == "asserted":
            values = record.values
            stage = str(values.get("stage") or "")
            part = str(values.get("part") or "total")
            groups[(record.subject, stage, part, float(values["value"]))].append(record)
    drafts = []
    for (team, stage, part, value), records in sorted(groups.items()):
        ordered = _ordered(records)
        scale = next((r.values["scale"] for r in ordered if r.values.get("scale")), None)
        shown = f"{value:g}" + (f"/{scale:g}" if scale else "")
        state = teams.setdefault(team, TeamState(team))
        state.scores.setdefault(stage or "unknown", {})[part] = {
            "value": value,
            "scale": scale,
            "rank": ordered[-1].values.get("rank"),
        }
        drafts.append(
            _draft(
                "score_published",
                team,
                stage or None,
                None,
                f"{part} {shown}",
                confidence_of(ordered, min_publishers),
                ordered,
                extra_key=f"{part} {value:g}",
            )
        )
    return drafts


def _period(precision: str) -> timedelta:
    return {"day": timedelta(days=1), "month_part": timedelta(days=10)}.get(
        precision, timedelta(days=31)
    )


def _within(new: dict[str, Any], old: dict[str, Any]) -> bool:
    start = date.fromisoformat(old["date"])
    return start <= date.fromisoformat(new["date"]) < start + _period(old["precision"])


def _schedules(
    facts: Sequence[FactRecord], min_publishers: int
) -> tuple[dict[str, dict[str, Any]], list[ChangeDraft]]:
    """Return the current date of each (event, stage) and schedule_set/changed drafts.

    A later article's date within the earlier period ("1월 중" then "1월 15일") refines the
    schedule (schedule_set); a date outside it moves the schedule (schedule_changed).
    """
    groups: dict[str, list[FactRecord]] = defaultdict(list)
    for record in facts:
        if record.type == "schedule" and record.modality in {"asserted", "expected"}:
            values = record.values
            if values.get("date") and values.get("event"):
                groups[f"{values['event']}|{values.get('stage') or ''}"].append(record)
    current: dict[str, dict[str, Any]] = {}
    drafts = []
    for key, records in sorted(groups.items()):
        by_value: dict[tuple[str, str], list[FactRecord]] = defaultdict(list)
        for record in records:
            by_value[(record.values["date"], record.values.get("precision", "day"))].append(record)
        # The order in which the dates were first published.
        sequence = sorted(by_value.items(), key=lambda item: _published(_ordered(item[1])[0]))
        event, stage = key.split("|")
        for (when, precision), supporting in sequence:
            new = {"date": when, "precision": precision}
            old = current.get(key)
            if old == new:
                continue
            kind = "schedule_set" if old is None or _within(new, old) else "schedule_changed"
            if old is not None and _within(old, new):
                continue  # a vaguer restatement of a date already known more precisely
            current[key] = new
            drafts.append(
                _draft(
                    kind,
                    event,
                    stage or None,
                    f"{old['date']} ({old['precision']})" if old else None,
                    f"{when} ({precision})",
                    confidence_of(_ordered(supporting), min_publishers),
                    _ordered(supporting),
                )
            )
    return current, drafts


def _additional_call(
    facts: Sequence[FactRecord], min_publishers: int
) -> tuple[str | None, list[ChangeDraft]]:
    groups: dict[str, list[FactRecord]] = defaultdict(list)
    for record in facts:
        if (
            record.type == "programme"
            and record.modality == "asserted"
            and record.values.get("kind") == "additional_call"
            and record.values.get("status") in {"opened", "closed"}
        ):
            groups[str(record.values["status"])].append(record)
    drafts = []
    status = None
    for value in ("opened", "closed"):
        if value in groups:
            ordered = _ordered(groups[value])
            drafts.append(
                _draft(
                    f"additional_call_{value}",
                    "programme",
                    ADDED_STAGE,
                    status,
                    value,
                    confidence_of(ordered, min_publishers),
                    ordered,
                )
            )
            status = value
    return status, drafts
