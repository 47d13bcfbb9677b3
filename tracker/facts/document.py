"""One article prepared for extraction: text, sentences, mentions and shared look-ups."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from .dates import DateExpr, find_dates
from .matching import (
    Compiled,
    Hit,
    ModelMention,
    OutcomeMatch,
    StageMention,
    TeamMention,
    lowered,
)
from .segment import Sentence, Span, eojeol_start, split_sentences

_T = TypeVar("_T")
Splitter = Callable[[str, str, int], list[Sentence]]

# Korean adnominal endings: "탈락한 NC AI", "합류했던 모티프", "고배를 마신 트릴리온랩스".
ADNOMINAL_END = re.compile(r"(?:한|된|던|킨|신|진|낸|난|린|힌|받은|넘은|남은|당한)$")
_ADNOMINAL_WORD = re.compile(r"[가-힣](?:한|된|던|린|진|난|신|낸|힌|받은|넘은|남은)\s")
# Cheap test before the full date parser: digits, Korean month words or English month names.
_MAY_HOLD_DATE = re.compile(r"\d|달|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec")
_KO_RETRO_MONTH = re.compile(r"지난\s?\d{1,2}\s?월")
_KO_FUTURE_YEAR = re.compile(r"(\d{4})\s?년|내년")
_EN_FUTURE_YEAR = re.compile(r"\b(?:by|in|until)\s(\d{4})\b|\bnext year\b", re.IGNORECASE)


def _starting_in(items: list[_T], starts: list[int], clause: Span) -> list[_T]:
    """Return the items (sorted by start, ``starts`` their offsets) starting inside ``clause``."""
    return items[bisect_left(starts, clause.start) : bisect_left(starts, clause.end)]


@dataclass
class Document:
    """An article being read: everything found once, shared by the fact finders."""

    text: str
    language: str
    published: date | None
    compiled: Compiled
    title_end: int
    sentences: list[Sentence] = field(default_factory=list)
    teams: list[TeamMention] = field(default_factory=list)
    models: list[ModelMention] = field(default_factory=list)
    stages: list[StageMention] = field(default_factory=list)
    outcomes: list[OutcomeMatch] = field(default_factory=list)
    programme_markers: list[Hit] = field(default_factory=list)
    adjacent_markers: list[Hit] = field(default_factory=list)
    in_context: bool = False
    adjacent_article: bool = False
    _dates: list[DateExpr] | None = None
    low: str = ""  # lower-cased text, same offsets: vocabulary regexes run on it
    # Start offsets of the (text-ordered) mention lists, for bisect look-ups: the fact finders
    # ask "which mentions lie in this clause" thousands of times per article.
    _team_starts: list[int] = field(default_factory=list, repr=False)
    _model_starts: list[int] = field(default_factory=list, repr=False)
    _stage_starts: list[int] = field(default_factory=list, repr=False)
    _sentence_starts: list[int] | None = field(default=None, repr=False)
    _date_starts: list[int] = field(default_factory=list, repr=False)
    _date_ends: list[int] = field(default_factory=list, repr=False)
    _programme_starts: list[int] = field(default_factory=list, repr=False)
    _adjacent_starts: list[int] = field(default_factory=list, repr=False)
    _outcome_starts: list[int] = field(default_factory=list, repr=False)

    @classmethod
    def build(
        cls,
        text: str,
        title_end: int,
        language: str,
        published: date | None,
        compiled: Compiled,
        splitter: Splitter = split_sentences,
    ) -> Document:
        """Return the document with sentences and every mention found."""
        doc = cls(text, language, published, compiled, title_end)
        doc.low = lowered(text)
        doc.sentences = splitter(text, language, title_end)
        doc.programme_markers = compiled.programme_markers(text)
        doc.adjacent_markers = compiled.adjacent_markers(doc.low, language)
        doc.in_context = bool(doc.programme_markers)
        title_adjacent = any(h.start < title_end for h in doc.adjacent_markers)
        title_programme = any(h.start < title_end for h in doc.programme_markers)
        doc.adjacent_article = title_adjacent and not title_programme
        doc.models = compiled.models(text)
        # Model matches come from one finditer: sorted and non-overlapping, so the only model
        # that can contain a position is the last one starting at or before it.
        model_starts = [m.start for m in doc.models]
        model_ends = [m.end for m in doc.models]

        def in_model(start: int, end: int) -> bool:
            index = bisect_right(model_starts, start) - 1
            return index >= 0 and end <= model_ends[index]

        teams = [
            t
            for t in compiled.teams(text)
            if (doc.in_context or not t.ambiguous) and not in_model(t.start, t.end)
        ]
        doc.teams = teams
        # Overlap and containment against models and teams together: sorted by start with a
        # running maximum of the ends answers "does any taken span overlap / contain this".
        taken = sorted([(m.start, m.end) for m in doc.models] + [(t.start, t.end) for t in teams])
        taken_starts = [a for a, _ in taken]
        reach: list[int] = []
        furthest = -1
        for _, b in taken:
            furthest = max(furthest, b)
            reach.append(furthest)

        def overlaps(start: int, end: int) -> bool:
            index = bisect_left(taken_starts, end)  # spans with a < end
            return index > 0 and reach[index - 1] > start

        def contained(start: int, end: int) -> bool:
            index = bisect_right(taken_starts, start)  # spans with a <= start
            return index > 0 and reach[index - 1] >= end

        doc.stages = [
            s for s in compiled.stage_mentions(doc.low, language) if not overlaps(s.start, s.end)
        ]
        doc.outcomes = [
            o for o in compiled.outcomes(doc.low, language) if not contained(o.start, o.end)
        ]
        doc._team_starts = [t.start for t in doc.teams]
        doc._model_starts = model_starts
        doc._stage_starts = [s.start for s in doc.stages]
        doc._outcome_starts = [o.start for o in doc.outcomes]
        doc._programme_starts = [h.start for h in doc.programme_markers]
        doc._adjacent_starts = [h.start for h in doc.adjacent_markers]
        if all(
            a.end <= b.start and a.start <= b.start
            for a, b in zip(doc.sentences, doc.sentences[1:], strict=False)
        ):
            doc._sentence_starts = [s.start for s in doc.sentences]
        return doc

    # -- look-ups -----------------------------------------------------------------------------

    def sentence_of(self, position: int) -> Sentence:
        """Return the sentence containing ``position``."""
        starts = self._sentence_starts
        if starts is not None:
            index = bisect_right(starts, position) - 1
            if index >= 0 and position < self.sentences[index].end:
                return self.sentences[index]
            return self.sentences[-1]
        for sentence in self.sentences:
            if sentence.start <= position < sentence.end:
                return sentence
        return self.sentences[-1]

    def teams_between(self, start: int, end: int) -> list[TeamMention]:
        """Return team mentions starting in [start, end)."""
        starts = self._team_starts
        return self.teams[bisect_left(starts, start) : bisect_left(starts, end)]

    def programme_models_between(self, start: int, end: int) -> list[ModelMention]:
        """Return mentions of programme models starting in [start, end)."""
        starts = self._model_starts
        models = self.models[bisect_left(starts, start) : bisect_left(starts, end)]
        return [m for m in models if m.team is not None]

    def models_between(self, start: int, end: int) -> list[ModelMention]:
        """Return model mentions (programme or not) starting in [start, end)."""
        starts = self._model_starts
        return self.models[bisect_left(starts, start) : bisect_left(starts, end)]

    def stages_between(self, start: int, end: int) -> list[StageMention]:
        """Return stage mentions starting in [start, end)."""
        starts = self._stage_starts
        return self.stages[bisect_left(starts, start) : bisect_left(starts, end)]

    def outcomes_between(self, start: int, end: int) -> list[OutcomeMatch]:
        """Return outcome cues starting in [start, end)."""
        starts = self._outcome_starts
        return self.outcomes[bisect_left(starts, start) : bisect_left(starts, end)]

    def sentence_index(self, sentence: Sentence) -> int:
        """Return the index of ``sentence`` in ``self.sentences`` (ValueError when absent)."""
        starts = self._sentence_starts
        if starts is not None:
            index = bisect_left(starts, sentence.start)
            if index < len(starts) and self.sentences[index] == sentence:
                return index
        return self.sentences.index(sentence)

    def dates(self, start: int, end: int) -> list[DateExpr]:
        """Return date expressions in [start, end) (none without a publication date)."""
        if self.published is None:
            return []
        if self._dates is None:
            self._dates = find_dates(self.text, 0, len(self.text), self.language, self.published)
            # One finditer's matches: sorted and non-overlapping, so the ends are sorted too.
            self._date_starts = [d.start for d in self._dates]
            self._date_ends = [d.end for d in self._dates]
        low = bisect_left(self._date_starts, start)
        high = bisect_right(self._date_ends, end)
        return self._dates[low:high] if low < high else []

    def context_stage(
        self,
        sentence: Sentence,
        allowed: Callable[[StageMention], bool],
        frequent: bool = False,
    ) -> str | None:
        """Return the stage the article is talking about around ``sentence``.

        By default the nearest earlier mention wins (a strong label before a weak one), else the
        first later one. ``frequent`` first takes the stage named most often in the three
        sentences before (a passing "1차에 이어" does not outvote the stage being reported).
        Mentions "passed through" (서면평가를 거쳐) never count.
        """
        before = [
            s for s in self.stages if s.end <= sentence.start and allowed(s) and not s.transit
        ]
        after = [s for s in self.stages if s.start >= sentence.end and allowed(s) and not s.transit]
        if frequent:
            index = self.sentence_index(sentence)
            recent = self.sentences[max(0, index - 3) : index]
            if recent:
                low = recent[0].start
                counts: dict[str, tuple[int, int]] = {}
                for mention in before:
                    if mention.start >= low and not mention.weak:
                        count, _ = counts.get(mention.effective, (0, 0))
                        counts[mention.effective] = (count + 1, mention.start)
                if counts:
                    return max(counts.items(), key=lambda item: item[1])[0]
        for pool in (
            [s for s in reversed(before) if not s.weak],
            [s for s in after if not s.weak],
            list(reversed(before)),
            after,
        ):
            if pool:
                return pool[0].effective
        return None

    def programme_or_adjacent_blocked(self, clause: Span, start: int, end: int) -> bool:
        """Return True when the nearest context marker around [start, end) in the clause belongs
        to another programme (or, in an article about another programme, when the clause does
        not name this one)."""

        def distance(hit_start: int, hit_end: int) -> int:
            if hit_end <= start:
                return start - hit_end
            if hit_start >= end:
                return hit_start - end
            return 0

        programme = [
            distance(h.start, h.end)
            for h in _starting_in(self.programme_markers, self._programme_starts, clause)
        ] + [
            distance(s.start, s.end) for s in _starting_in(self.stages, self._stage_starts, clause)
        ]
        adjacent = [
            distance(h.start, h.end)
            for h in _starting_in(self.adjacent_markers, self._adjacent_starts, clause)
        ]
        if self.adjacent_article and not programme:
            return True
        if not adjacent:
            return False
        return not programme or min(adjacent) < min(programme)

    def future_only(self, start: int, end: int) -> bool:
        """Return True when [start, end) refers only to coming time (a later date or year)."""
        if self.published is None:
            return False
        dates = self.dates(start, end)
        future = any(d.value > self.published and not d.past_marked for d in dates)
        present = any(d.past_marked or d.value <= self.published for d in dates)
        segment = self.text[start:end]
        pattern = _KO_FUTURE_YEAR if self.language == "ko" else _EN_FUTURE_YEAR
        for match in pattern.finditer(segment):
            year = match.group(1)
            if year is None or int(year) > self.published.year:
                future = True
        return future and not present

    def retro_in_text(self, segment: str) -> bool:
        """Return True when ``segment`` holds a past-time marker or names an earlier month."""
        pattern = self.compiled.modality[self.language]["retrospective"]
        if pattern is not None and pattern.search(segment):
            return True
        if self.published is None or not _MAY_HOLD_DATE.search(segment):
            return False
        return any(
            expr.past_marked
            and (expr.value.year, expr.value.month) < (self.published.year, self.published.month)
            for expr in find_dates(segment, 0, len(segment), self.language, self.published)
        )

    def retro_in_head(self, start: int, end: int) -> bool:
        """Return True when a past-time marker in [start, end) governs what follows it.

        A marker that governs another adnominal verb on the way ("지난달 27일 마감된 공모에")
        belongs to that verb, not to the outcome at ``end``.
        """
        modality = self.compiled.modality[self.language]["retrospective"]
        text = self.text
        markers: list[tuple[int, int]] = []
        if modality is not None:
            markers += [m.span() for m in modality.finditer(self.low, start, end)]
        if self.language == "ko":
            markers += [m.span() for m in _KO_RETRO_MONTH.finditer(text, start, end)]
        for m_start, m_end in markers:
            word_end = m_end
            while word_end < end and not text[word_end].isspace():
                word_end += 1
            if self.language == "ko":
                word = text[eojeol_start(text, m_start, start) : word_end]
                if ADNOMINAL_END.search(word) or _ADNOMINAL_WORD.search(text[word_end:end]):
                    continue
            return True
        if self.published is not None:
            for expr in self.dates(start, end):
                if expr.past_marked and (expr.value.year, expr.value.month) < (
                    self.published.year,
                    self.published.month,
                ):
                    if self.language == "ko":
                        inner = text[expr.end : end]
                        if _ADNOMINAL_WORD.search(inner):
                            continue
                    return True
        return False
