"""Typed loader for config/entities.yaml: programme, teams, models, stages and vocabulary."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

STATUSES = (
    "applied",
    "shortlisted",
    "selected",
    "advanced",
    "eliminated",
    "not_selected",
    "withdrew",
)
Status = Literal[
    "applied", "shortlisted", "selected", "advanced", "eliminated", "not_selected", "withdrew"
]


class EntitiesError(ValueError):
    """The entities file is unreadable or invalid; the message names file, key path and problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ByLanguage(_Model):
    """Strings per language; ``ko`` and ``en`` are the languages the extractor knows."""

    ko: tuple[str, ...] = ()
    en: tuple[str, ...] = ()

    def for_language(self, language: str) -> tuple[str, ...]:
        """Return the strings for ``language`` ("ko" or "en")."""
        return self.ko if language == "ko" else self.en


class Programme(_Model):
    key: str = "programme"
    names: ByLanguage = ByLanguage()
    abbreviations: tuple[str, ...] = ()
    nicknames: tuple[str, ...] = ()
    context_cues: tuple[str, ...] = ()


class Team(_Model):
    canonical: str
    aliases: ByLanguage = ByLanguage()
    abbreviations: tuple[str, ...] = ()
    spacing_variants: tuple[str, ...] = ()
    typos: tuple[str, ...] = ()
    ambiguous_aliases: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def unambiguous_names(self) -> tuple[str, ...]:
        """Return every name that identifies the team on its own."""
        return (
            self.canonical,
            *self.aliases.ko,
            *self.aliases.en,
            *self.abbreviations,
            *self.spacing_variants,
            *self.typos,
        )


class ModelEntry(_Model):
    canonical: str
    team: str
    aliases: tuple[str, ...] = ()
    params_total: int | None = Field(default=None, gt=0)
    params_active: int | None = Field(default=None, gt=0)


class OtherModel(_Model):
    canonical: str
    aliases: tuple[str, ...] = ()


class Label(_Model):
    """A stage label regex; a weak one ("2차" alone) decides only when nothing stronger is near."""

    pattern: str
    weak: bool = False


def _labels(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [{"pattern": item} if isinstance(item, str) else item for item in value]
    return value


class Labels(_Model):
    ko: tuple[Label, ...] = ()
    en: tuple[Label, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _wrap_strings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {key: _labels(value) for key, value in data.items()}
        return data

    def for_language(self, language: str) -> tuple[Label, ...]:
        """Return the labels for ``language``."""
        return self.ko if language == "ko" else self.en


class Stage(_Model):
    key: str
    order: int
    kind: Literal["selection", "evaluation"]
    pass_status: Status
    fail_status: Status
    advance_from: str | None = None
    weak: bool = False
    labels: Labels = Labels()


class Cue(_Model):
    """One vocabulary regex, optionally implying a stage."""

    pattern: str
    stage: str | None = None
    requires_stage: bool | None = None  # None: as the status says


def _cues(value: Any) -> Any:
    # Plain strings are the common case; a mapping adds the stage the cue implies.
    if isinstance(value, list | tuple):
        return [{"pattern": item} if isinstance(item, str) else item for item in value]
    return value


class Outcome(_Model):
    status: Status
    requires_stage: bool = False
    ko: tuple[Cue, ...] = ()
    en: tuple[Cue, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _wrap_strings(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for language in ("ko", "en"):
                if language in data:
                    data[language] = _cues(data[language])
        return data


class Modality(_Model):
    question: ByLanguage = ByLanguage()
    conditional: ByLanguage = ByLanguage()
    negation: ByLanguage = ByLanguage()
    unlikely: ByLanguage = ByLanguage()
    speculative: ByLanguage = ByLanguage()
    expected: ByLanguage = ByLanguage()
    retrospective: ByLanguage = ByLanguage()


class Scores(_Model):
    parts: dict[Literal["benchmark", "expert", "user", "total"], ByLanguage] = {}
    rank_first: ByLanguage = ByLanguage()
    rank_last: ByLanguage = ByLanguage()


class AdditionalCall(_Model):
    stage: str | None = None  # the stage key of the additional call, if the story has one
    opened: ByLanguage = ByLanguage()
    closed: ByLanguage = ByLanguage()


class ProgrammeFacts(_Model):
    teams_remaining: ByLanguage = ByLanguage()
    applicants: ByLanguage = ByLanguage()
    additional_call: AdditionalCall = AdditionalCall()


class Adjacent(_Model):
    key: str
    markers: ByLanguage = ByLanguage()


class Entities(_Model):
    """The validated contents of entities.yaml."""

    version: int = 1
    programme: Programme = Programme()
    teams: tuple[Team, ...] = ()
    models: tuple[ModelEntry, ...] = ()
    other_models: tuple[OtherModel, ...] = ()
    stages: tuple[Stage, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    not_outcome_before: ByLanguage = ByLanguage()
    reasons: dict[str, ByLanguage] = {}
    modality: Modality = Modality()
    scores: Scores = Scores()
    schedule_events: dict[str, ByLanguage] = {}
    programme_facts: ProgrammeFacts = ProgrammeFacts()
    adjacent: tuple[Adjacent, ...] = ()

    # Compiled matchers, built on first use by tracker.facts.matching and kept with the object.
    _compiled: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _cross_references(self) -> Entities:
        teams = [team.canonical for team in self.teams]
        _unique(teams, "teams", "canonical")
        _unique([stage.key for stage in self.stages], "stages", "key")
        stage_keys = {stage.key for stage in self.stages}
        for index, model in enumerate(self.models):
            if model.team not in teams:
                raise ValueError(f"models.{index}.team: unknown team {model.team!r}")
            if (
                model.params_active is not None
                and model.params_total is not None
                and model.params_active > model.params_total
            ):
                raise ValueError(f"models.{index}.params_active: larger than params_total")
        for index, stage in enumerate(self.stages):
            if stage.advance_from is not None and stage.advance_from not in stage_keys:
                raise ValueError(
                    f"stages.{index}.advance_from: unknown stage {stage.advance_from!r}"
                )
        for index, outcome in enumerate(self.outcomes):
            for language in ("ko", "en"):
                for cue_index, cue in enumerate(getattr(outcome, language)):
                    if cue.stage is not None and cue.stage not in stage_keys:
                        raise ValueError(
                            f"outcomes.{index}.{language}.{cue_index}.stage: "
                            f"unknown stage {cue.stage!r}"
                        )
        call = self.programme_facts.additional_call.stage
        if call is not None and call not in stage_keys:
            raise ValueError(f"programme_facts.additional_call.stage: unknown stage {call!r}")
        return self


def _unique(values: list[str], section: str, key: str) -> None:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value in seen:
            raise ValueError(f"{section}.{index}.{key}: duplicate {value!r}")
        seen.add(value)


# Sections whose strings are regular expressions (everything except names).
_REGEX_PATHS = (
    ("programme", "context_cues"),
    ("teams", "*", "exclude"),
    ("stages", "*", "labels"),
    ("outcomes",),
    ("not_outcome_before",),
    ("reasons",),
    ("modality",),
    ("scores",),
    ("schedule_events",),
    ("programme_facts",),
    ("adjacent", "*", "markers"),
)


def _check_regexes(raw: Any, path: tuple[str, ...], at: str) -> None:
    """Compile every regex under ``raw``; raise ValueError naming the key path of a bad one."""
    if path:
        head, rest = path[0], path[1:]
        if head == "*":
            if isinstance(raw, list):
                for index, item in enumerate(raw):
                    _check_regexes(item, rest, f"{at}.{index}")
            return
        if isinstance(raw, dict) and head in raw:
            _check_regexes(raw[head], rest, f"{at}.{head}" if at else head)
        return
    if isinstance(raw, str):
        try:
            re.compile(raw)
        except re.error as exc:
            raise ValueError(f"{at}: invalid regular expression {raw!r} ({exc})") from None
    elif isinstance(raw, dict):
        for key, value in raw.items():
            if key in ("status", "requires_stage", "stage", "key"):
                continue
            _check_regexes(value, (), f"{at}.{key}")
    elif isinstance(raw, list):
        for index, value in enumerate(raw):
            _check_regexes(value, (), f"{at}.{index}")


def parse_entities(raw: Any, source: str = "<entities>") -> Entities:
    """Return validated entities from already-parsed YAML data; ``source`` names it in errors."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise EntitiesError(f"{source}: top level: expected a mapping, got {type(raw).__name__}")
    try:
        for path in _REGEX_PATHS:
            _check_regexes(raw, path, "")
        return Entities.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "top level"
            message = str(error["msg"]).removeprefix("Value error, ")
            if where == "top level" and ": " in message:
                where, message = message.split(": ", 1)  # our own cross-reference errors
            problems.append(f"{where}: {message}")
        raise EntitiesError(f"{source}: " + "; ".join(problems)) from None
    except ValueError as exc:
        raise EntitiesError(f"{source}: {exc}") from None


def load_entities(path: Path) -> Entities:
    """Return the validated entities in the YAML file at ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise EntitiesError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise EntitiesError(f"{path}: invalid YAML ({exc})") from None
    return parse_entities(raw, str(path))
