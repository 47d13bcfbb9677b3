"""The labelled evaluation set: its coverage, and the extractor's scores against the targets."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tracker.facts import FACT_TYPES, MODALITIES, extract_facts
from tracker.facts.entities import Entities, load_entities
from tracker.facts.evaluate import (
    TARGET_OTHER_F1,
    TARGET_STAGE_PRECISION,
    TARGET_STAGE_RECALL,
    EvalArticle,
    Report,
    evaluate,
    load_eval_set,
)

REPO = Path(__file__).resolve().parents[1]
EVAL = REPO / "tests" / "facts_eval"
SETS = [EVAL, EVAL / "holdout", EVAL / "blind", EVAL / "blind2"]


@pytest.fixture(scope="module")
def entities() -> Entities:
    return load_entities(REPO / "config" / "entities.yaml")


@pytest.fixture(scope="module")
def articles() -> list[EvalArticle]:
    found: list[EvalArticle] = []
    for directory in SETS:
        if (directory / "articles").is_dir():
            found += load_eval_set(directory)
    return found


@pytest.fixture(scope="module")
def report(articles: list[EvalArticle], entities: Entities) -> Report:
    return evaluate(articles, entities, extract_facts)


def test_eval_set_size_and_coverage(articles: list[EvalArticle]) -> None:
    main = load_eval_set(EVAL)
    assert len(main) >= 40
    assert sum(len(a.labels) for a in main) >= 150
    labels = [label for a in articles for label in a.labels]
    assert set(FACT_TYPES) <= {label["type"] for label in labels}
    assert set(MODALITIES) <= {label["modality"] for label in labels}
    styles = Counter(a.style for a in articles)
    assert {"wire", "it_trade", "economic_daily", "ministry_release", "english_press"} <= set(
        styles
    )
    assert {a.language for a in articles} == {"ko", "en"}
    statuses = {label["status"] for label in labels if label["type"] == "stage_outcome"}
    assert {
        "applied",
        "shortlisted",
        "selected",
        "advanced",
        "eliminated",
        "not_selected",
        "withdrew",
    } <= statuses
    # Adjacent stories and stories outside the programme are in the set, with no facts.
    assert any(not a.labels for a in articles)


def test_article_ids_are_unique(articles: list[EvalArticle]) -> None:
    ids = [a.id for a in articles]
    assert len(ids) == len(set(ids))


def test_stage_outcome_precision_target(report: Report) -> None:
    stage = report.by_type["stage_outcome"]
    assert stage.precision >= TARGET_STAGE_PRECISION, _errors(report, "stage_outcome")


def test_no_false_asserted_elimination(report: Report) -> None:
    assert report.asserted_false_eliminations == 0, _errors(report, "stage_outcome")


def test_stage_outcome_recall_target(report: Report) -> None:
    stage = report.by_type["stage_outcome"]
    assert stage.recall >= TARGET_STAGE_RECALL, _errors(report, "stage_outcome")


@pytest.mark.parametrize("kind", [k for k in FACT_TYPES if k != "stage_outcome"])
def test_other_types_f1_target(report: Report, kind: str) -> None:
    assert report.by_type[kind].f1 >= TARGET_OTHER_F1, _errors(report, kind)


def _errors(report: Report, kind: str) -> str:
    return "\n".join(
        f"[{e.article}] {e.kind} {e.subject} {e.values} {e.modality} | {e.sentence}"
        for e in report.errors
        if e.type == kind
    )
