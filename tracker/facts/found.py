"""The intermediate result every fact finder returns."""

from __future__ import annotations

from dataclasses import dataclass

from .segment import Sentence


@dataclass(frozen=True, slots=True)
class Found:
    """A fact before it becomes a Fact: type, subject, values, modality and evidence."""

    type: str
    subject: str
    values: dict[str, object]
    modality: str
    sentence: Sentence
