"""Fact extraction: pure functions from an article's text to typed facts with evidence.

``extract_facts(title, body, published_at, entities, language=None)`` reads the string
``title + "\\n" + body`` and returns :class:`Fact` objects. ``Fact.start``/``Fact.end`` are the
offsets of the evidence sentence in that string and ``Fact.sentence`` is its text. Extraction is
deterministic and does no I/O; everything story-specific comes from ``entities``
(config/entities.yaml, loaded with :func:`tracker.facts.entities.load_entities`).

Fact types and their ``values`` (all JSON-serializable):

- ``stage_outcome`` (subject: team): ``stage`` (stage key such as "stage1"), ``status``
  (applied | shortlisted | selected | advanced | eliminated | not_selected | withdrew),
  ``reason`` (a reason key from the config, e.g. "originality", "lowest_score", or None).
- ``model`` (subject: team): ``model`` (canonical name), ``team``, ``params_total`` and
  ``params_active`` (integers as written in the article, or None).
- ``score`` (subject: team): ``stage``, ``part`` (benchmark | expert | user | total | None),
  ``value`` (float), ``scale`` (the stated maximum, or None), ``rank`` (int, "last" or None).
- ``schedule`` (subject: programme key): ``event`` (results | evaluation | call_deadline |
  call_open), ``stage``, ``date`` (ISO date, the first day of the period) and ``precision``
  (day | month_part | month; month parts start on the 1st, 11th and 21st).
- ``programme`` (subject: programme key): ``kind`` (teams_remaining | applicants |
  additional_call), ``count`` (int or None), ``status`` (opened | closed | None).

``modality`` is one of asserted, expected, speculative, question, negated, retrospective,
conditional. Only asserted facts should change the tracked state: "누가 탈락할지" is a
question, "탈락 유력" speculative, "탈락하지 않았다" negated, "지난 1월 탈락한" retrospective.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .extract import run
from .fact import FACT_TYPES, MODALITIES, Fact

if TYPE_CHECKING:
    from .entities import Entities

# Bump when extraction changes what it returns for the same text and config.
EXTRACTOR_VERSION = "1.0"

__all__ = ["EXTRACTOR_VERSION", "FACT_TYPES", "MODALITIES", "Fact", "extract_facts"]


def extract_facts(
    title: str,
    body: str,
    published_at: datetime | None,
    entities: Entities,
    language: str | None = None,
) -> list[Fact]:
    """Return the facts stated in an article; offsets refer to ``title + "\\n" + body``."""
    return run(title, body, published_at, entities, language)
