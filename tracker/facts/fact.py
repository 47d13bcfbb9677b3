"""The Fact value object that extraction returns."""

from __future__ import annotations

from dataclasses import dataclass, field

FACT_TYPES = ("stage_outcome", "model", "score", "schedule", "programme")
MODALITIES = (
    "asserted",
    "expected",
    "speculative",
    "question",
    "negated",
    "retrospective",
    "conditional",
)


@dataclass(frozen=True)
class Fact:
    """One extracted fact with its evidence sentence (offsets into ``title + "\\n" + body``)."""

    type: str
    subject: str
    values: dict[str, object] = field(hash=False)
    modality: str
    sentence: str
    start: int
    end: int
    language: str

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serializable dict of the fact."""
        return {
            "type": self.type,
            "subject": self.subject,
            "values": dict(self.values),
            "modality": self.modality,
            "sentence": self.sentence,
            "start": self.start,
            "end": self.end,
            "language": self.language,
        }
