"""Score fact extraction against a labelled evaluation set (tests/facts_eval)."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from .entities import Entities
from .fact import FACT_TYPES, MODALITIES, Fact
from .matching import compiled_for
from .segment import split_sentences

# The values compared for each type (besides type, subject and modality).
COMPARED: dict[str, tuple[str, ...]] = {
    "stage_outcome": ("stage", "status", "reason"),
    "model": ("model", "params_total", "params_active"),
    "score": ("stage", "part", "value", "scale", "rank"),
    "schedule": ("event", "stage", "date", "precision"),
    "programme": ("kind", "count", "status"),
}
OPTIONAL: dict[str, frozenset[str]] = {"programme": frozenset({"stage"})}

# Targets from the issue: stage outcomes precision/recall, every other type F1.
TARGET_STAGE_PRECISION = 0.98
TARGET_STAGE_RECALL = 0.95
TARGET_OTHER_F1 = 0.9

Extractor = Callable[[str, str, datetime | None, Entities, str | None], list[Fact]]


class EvalSetError(ValueError):
    """An evaluation article or label file is malformed."""


@dataclass(frozen=True)
class EvalArticle:
    """One labelled article of the evaluation set."""

    id: str
    publisher: str
    published_at: datetime
    language: str
    style: str
    title: str
    body: str
    labels: tuple[dict[str, Any], ...]


def _split_article(path: Path) -> tuple[dict[str, Any], str, str]:
    text = path.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        raise EvalSetError(f"{path}: missing frontmatter")
    _, front, rest = text.split("---\n", 2)
    meta = yaml.safe_load(front) or {}
    lines = rest.strip("\n").split("\n")
    if not lines or not lines[0].startswith("# "):
        raise EvalSetError(f"{path}: the first line after the frontmatter must be '# <title>'")
    title = lines[0][2:].strip()
    body = "\n".join(line for line in lines[1:] if line.strip()).strip()
    return meta, title, body


def _check_label(path: Path, index: int, label: dict[str, Any]) -> None:
    kind = label.get("type")
    if kind not in COMPARED:
        raise EvalSetError(f"{path}: facts.{index}.type: unknown type {kind!r}")
    required = {"subject", "modality", *COMPARED[kind]}
    missing = required - set(label)
    if missing:
        raise EvalSetError(f"{path}: facts.{index}: missing {sorted(missing)}")
    extra = set(label) - required - {"type"} - OPTIONAL.get(kind, frozenset())
    if extra:
        raise EvalSetError(f"{path}: facts.{index}: unknown keys {sorted(extra)}")
    if label["modality"] not in MODALITIES:
        raise EvalSetError(f"{path}: facts.{index}.modality: unknown {label['modality']!r}")


def load_eval_set(directory: Path) -> list[EvalArticle]:
    """Return the labelled articles under ``directory`` (articles/*.txt + labels/*.yaml)."""
    articles = []
    for path in sorted((directory / "articles").glob("*.txt")):
        meta, title, body = _split_article(path)
        label_path = directory / "labels" / f"{path.stem}.yaml"
        if not label_path.is_file():
            raise EvalSetError(f"{path}: no label file {label_path.name}")
        raw = yaml.safe_load(label_path.read_text(encoding="utf-8")) or {}
        labels = raw.get("facts") or []
        for index, label in enumerate(labels):
            _check_label(label_path, index, label)
        published = meta["published_at"]
        if isinstance(published, str):
            published = datetime.fromisoformat(published)
        if meta.get("id") != path.stem:
            raise EvalSetError(f"{path}: frontmatter id {meta.get('id')!r} != file name")
        articles.append(
            EvalArticle(
                id=str(meta["id"]),
                publisher=str(meta["publisher"]),
                published_at=published,
                language=str(meta["language"]),
                style=str(meta["style"]),
                title=title,
                body=body,
                labels=tuple(labels),
            )
        )
    return articles


def _same(expected: object, got: object) -> bool:
    if (
        isinstance(expected, int | float)
        and isinstance(got, int | float)
        and not isinstance(expected, bool)
    ):
        return math.isclose(float(expected), float(got), rel_tol=1e-9, abs_tol=1e-6)
    return (
        str(expected) == str(got) if expected is not None and got is not None else expected == got
    )


def matches(label: dict[str, Any], fact: Fact) -> bool:
    """Return whether ``fact`` is the labelled fact (type, subject, modality, compared values)."""
    if label["type"] != fact.type or label["subject"] != fact.subject:
        return False
    if label["modality"] != fact.modality:
        return False
    keys = [*COMPARED[fact.type], *(k for k in OPTIONAL.get(fact.type, ()) if k in label)]
    return all(_same(label[k], fact.values.get(k)) for k in keys)


@dataclass
class Counts:
    """True positives, false positives and false negatives."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        """Return tp / (tp + fp), 1.0 when nothing was predicted."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Return tp / (tp + fn), 1.0 when nothing was expected."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Return the harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True)
class Error:
    """A false positive (extracted, not labelled) or false negative (labelled, missed)."""

    article: str
    kind: str  # "FP" or "FN"
    type: str
    subject: str
    values: dict[str, Any]
    modality: str
    sentence: str


@dataclass
class Report:
    """Evaluation results per type and per modality, with every error."""

    by_type: dict[str, Counts] = field(default_factory=dict)
    by_modality: dict[str, Counts] = field(default_factory=dict)
    total: Counts = field(default_factory=Counts)
    errors: list[Error] = field(default_factory=list)
    articles: int = 0
    labels: int = 0
    asserted_false_eliminations: int = 0

    def failures(self) -> list[str]:
        """Return the targets this report misses (empty when all are met)."""
        problems = []
        stage = self.by_type.get("stage_outcome", Counts())
        if stage.precision < TARGET_STAGE_PRECISION:
            problems.append(
                f"stage_outcome precision {stage.precision:.3f} < {TARGET_STAGE_PRECISION}"
            )
        if stage.recall < TARGET_STAGE_RECALL:
            problems.append(f"stage_outcome recall {stage.recall:.3f} < {TARGET_STAGE_RECALL}")
        for kind in FACT_TYPES:
            if kind == "stage_outcome":
                continue
            counts = self.by_type.get(kind, Counts())
            if counts.f1 < TARGET_OTHER_F1:
                problems.append(f"{kind} F1 {counts.f1:.3f} < {TARGET_OTHER_F1}")
        return problems


def _count(table: dict[str, Counts], key: str, attribute: str) -> None:
    counts = table.setdefault(key, Counts())
    setattr(counts, attribute, getattr(counts, attribute) + 1)


def score_article(
    article: EvalArticle,
    facts: Iterable[Fact],
    report: Report,
    sentence_of: Callable[[dict[str, Any]], str],
) -> None:
    """Match ``facts`` to the article's labels one-to-one and add the result to ``report``."""
    remaining = list(facts)
    report.articles += 1
    for label in article.labels:
        report.labels += 1
        hit = next((f for f in remaining if matches(label, f)), None)
        if hit is not None:
            remaining.remove(hit)
            for table, key in (
                (report.by_type, label["type"]),
                (report.by_modality, label["modality"]),
            ):
                _count(table, key, "tp")
            report.total.tp += 1
            continue
        for table, key in (
            (report.by_type, label["type"]),
            (report.by_modality, label["modality"]),
        ):
            _count(table, key, "fn")
        report.total.fn += 1
        values = {k: label[k] for k in label if k not in ("type", "subject", "modality")}
        report.errors.append(
            Error(
                article.id,
                "FN",
                label["type"],
                label["subject"],
                values,
                label["modality"],
                sentence_of(label),
            )
        )
    for fact in remaining:
        for table, key in ((report.by_type, fact.type), (report.by_modality, fact.modality)):
            _count(table, key, "fp")
        report.total.fp += 1
        if (
            fact.type == "stage_outcome"
            and fact.modality == "asserted"
            and fact.values.get("status") == "eliminated"
        ):
            report.asserted_false_eliminations += 1
        report.errors.append(
            Error(
                article.id,
                "FP",
                fact.type,
                fact.subject,
                dict(fact.values),
                fact.modality,
                fact.sentence,
            )
        )


def _evidence_finder(article: EvalArticle, entities: Entities) -> Callable[[dict[str, Any]], str]:
    """Return a function giving, for a missed label, the first sentence naming its subject."""
    text = f"{article.title}\n{article.body}"
    sentences = split_sentences(text, article.language, len(article.title))
    teams = compiled_for(entities).teams(text)

    def sentence_of(label: dict[str, Any]) -> str:
        for sentence in sentences:
            if any(
                t.team == label["subject"] and sentence.start <= t.start < sentence.end
                for t in teams
            ):
                return text[sentence.start : sentence.end]
        return article.title

    return sentence_of


def evaluate(articles: Iterable[EvalArticle], entities: Entities, extractor: Extractor) -> Report:
    """Run ``extractor`` over ``articles`` and return the report."""
    report = Report()
    for article in articles:
        facts = extractor(
            article.title, article.body, article.published_at, entities, article.language
        )
        score_article(article, facts, report, _evidence_finder(article, entities))
    return report
