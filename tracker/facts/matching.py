"""Compile entities into matchers and find mentions (teams, models, stages, markers, cues)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .entities import Entities, Stage

try:  # the regex parser, to read which characters can start a match (Python >= 3.11)
    from re import _constants as _sre
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - older Pythons just skip the optimization
    _sre = _sre_parse = None  # type: ignore[assignment]

LANGUAGES = ("ko", "en")
_HANGUL_CHAR = re.compile(r"[가-힣]")
_WORD_CHAR = re.compile(r"[가-힣A-Za-z0-9]")

# Korean particles and suffixes that may be glued to a name ("네이버클라우드와", "LG팀은").
_PARTICLES = (
    "에서는|에서도|에게는|으로는|으로도|이라는|이라고|이었다|과의|와의|에서|에게|으로|까지|부터|"
    "보다|처럼|이나|이며|이고|이랑|하고|께서|만이|만을|만의|마저|조차|라는|라고|이다|였다|에는|"
    "에도|로는|로도|은|는|이|가|을|를|의|와|과|도|만|에|로|나|며|고|랑|다|인|엔"
)
_NAME_TAIL = re.compile(
    rf"(?P<suffix>정예\s?팀|팀|측|컨소시엄|연합)?(?P<particle>(?:{_PARTICLES}){{0,2}})"
    r"(?![가-힣A-Za-z0-9])"
)
# A name followed by a separate suffix word: "엔씨에이아이 컨소시엄은".
_SUFFIX_WORD = re.compile(
    rf"\s(?:정예\s?팀|팀|측|컨소시엄|연합)(?P<particle>(?:{_PARTICLES}){{0,2}})(?=[\s,.]|$)"
)
# "2차 평가에 (무난히) 진출": reaching a stage means passing the one before it.
_KO_DESTINATION = re.compile(
    r"(?:\s?(?:에|으로|로)\s?(?:[가-힣]+\s)?|\s?)(?:진출|직행|行|합류|올라|오르|오른|올랐)"
)
_EN_TAIL = re.compile(r"(?P<particle>['’]s)?(?![A-Za-z0-9])")


@dataclass(frozen=True, slots=True)
class TeamMention:
    team: str
    start: int
    end: int
    particle: str
    marker_end: int
    ambiguous: bool


@dataclass(frozen=True, slots=True)
class ModelMention:
    model: str
    team: str | None  # None for models outside the programme
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class StageMention:
    stage: str
    effective: str
    start: int
    end: int
    weak: bool
    transit: bool
    destination: bool


@dataclass(frozen=True, slots=True)
class OutcomeMatch:
    status: str
    start: int
    end: int
    cue_stage: str | None
    requires_stage: bool


@dataclass(frozen=True, slots=True)
class Hit:
    key: str
    start: int
    end: int


def _script(char: str) -> str:
    if _HANGUL_CHAR.match(char):
        return "hangul"
    if char.isalnum():
        return "latin"
    return "other"


def _name_parts(name: str) -> tuple[str, str]:
    """Return (class of the first character, regex for the rest with its boundaries)."""
    name = name.strip()
    pieces: list[str] = []
    previous = ""
    for char in name:
        if char.isspace() or char == "-":
            if pieces and pieces[-1] != r"[\s\-]{0,2}":
                pieces.append(r"[\s\-]{0,2}")
            previous = ""
            continue
        scripts = (_script(previous), _script(char)) if previous else ("", "")
        if previous and scripts[0] != scripts[1] and "other" not in scripts:
            pieces.append(r"\s?")
        pieces.append(re.escape(char))
        previous = char
    folded = sum(1 for c in name if c.isascii() and c.isalpha()) >= 4
    first = name[0]
    variants = sorted({first.lower(), first.upper()}) if folded else [first]
    first_class = "[" + "".join(re.escape(c) for c in variants) + "]"
    rest = "".join(pieces[1:])
    if folded and rest:
        rest = f"(?i:{rest})"
    left = "[A-Za-z0-9]" if _script(first) == "latin" else "[가-힣]"
    right = r"(?![A-Za-z0-9])" if _script(name[-1]) == "latin" else ""
    # The first character is consumed by the caller's class; look back at it to check both
    # which name this is and that no letter glues onto its left.
    return first_class, f"(?<={first_class})(?<!{left}.){rest}{right}"


def name_pattern(name: str) -> str:
    """Return a regex for a literal name that tolerates spacing, hyphens and (for long Latin
    names) case."""
    first_class, rest = _name_parts(name)
    return first_class + rest


def normalize_name(text: str) -> str:
    """Return the lookup key of a matched name: no spaces or hyphens, case-folded."""
    return re.sub(r"[\s\-]+", "", text).casefold()


def _alternation(names: Iterable[str]) -> re.Pattern[str] | None:
    unique = sorted(set(names), key=lambda n: (-len(n), n))
    if not unique:
        return None
    # One branch per first character, each holding (in the original order) the remainders of
    # the names that can start with it: every branch starts with a literal, so the engine scans
    # for the first characters at C speed and, at a candidate, skips the other characters'
    # branches with one comparison instead of trying each name's look-behind in turn.
    # (Same matches as "[all first chars](?:rest1|rest2|…)".)
    by_first: dict[str, list[str]] = {}
    for name in unique:
        first_class, rest = _name_parts(name)
        for char in dict.fromkeys(first_class[1:-1].replace("\\", "")):
            by_first.setdefault(char, []).append(rest)
    return re.compile(
        "|".join(f"{re.escape(char)}(?:{'|'.join(rests)})" for char, rests in by_first.items())
    )


def any_of(patterns: Iterable[re.Pattern[str] | None]) -> re.Pattern[str] | None:
    """Return one pattern that matches somewhere in a text when any of ``patterns`` does.

    Most articles contain none of a language's outcome cues or stage labels: one search with
    the union replaces a full scan per cue. It is only a yes/no test (the union's matches are
    not the patterns' own); None when the union cannot be built (nothing to combine, named or
    numbered back-references, inline global flags).
    """
    sources = []
    for pattern in patterns:
        if pattern is None:
            continue
        if pattern.flags & ~re.UNICODE or re.search(r"\\\d|\(\?P=", pattern.pattern):
            return None
        # Group names may repeat across patterns: the union captures nothing anyway.
        sources.append(re.sub(r"\(\?P<\w+>", "(?:", pattern.pattern))
    if not sources:
        return None
    try:
        return fast_start("|".join(f"(?:{source})" for source in sources))
    except re.error:
        return None


def lower_literals(pattern: str) -> str:
    """Return ``pattern`` with its letters lower-cased, escapes (\\S, \\W, \\B …) kept."""
    out = []
    escaped = False
    for char in pattern:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            out.append(char)
            escaped = True
        elif out[-2:] == ["(", "?"]:
            out.append(char)  # "(?P<name>…)" and other extension letters stay as written
        else:
            out.append(char.lower())
    return "".join(out)


def vocab(pattern: str) -> re.Pattern[str]:
    """Compile a vocabulary regex for matching against lower-cased text.

    Matching lower-cased text without the ignore-case flag keeps the engine's fast literal
    scan (several times faster on English text) and is still case-insensitive.
    """
    return fast_start(_literal_first(lower_literals(pattern)))


_CATEGORY_ESCAPES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}


def _first_items(items: object) -> tuple[list[tuple[object, object]], bool] | None:
    """Return (class items covering every character that can start a match of the parsed
    sequence ``items``, whether the sequence can match empty), or None when unknown."""
    c = _sre
    firsts: list[tuple[object, object]] = []
    for op, av in items:  # type: ignore[attr-defined]
        if op is c.LITERAL:
            firsts.append((op, av))
            return firsts, False
        if op is c.IN:
            if any(item_op is c.NEGATE for item_op, _ in av):
                return None
            firsts.extend(av)
            return firsts, False
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # zero-width: the first consumed character comes after it
        if op is c.BRANCH:
            nullable = False
            for alternative in av[1]:
                found = _first_items(alternative)
                if found is None:
                    return None
                firsts.extend(found[0])
                nullable = nullable or found[1]
            if not nullable:
                return firsts, False
            continue
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            if add_flags or del_flags:
                return None  # (?i:…) and friends change what a class matches
            found = _first_items(sub)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, getattr(c, "POSSESSIVE_REPEAT", None)):
            low, _high, sub = av
            found = _first_items(sub)
            if found is not None and low == 0:
                found = (found[0], True)
        elif op is getattr(c, "ATOMIC_GROUP", None):
            found = _first_items(av)
        else:
            return None  # ANY, NOT_LITERAL, back-references, conditionals …
        if found is None:
            return None
        firsts.extend(found[0])
        if not found[1]:
            return firsts, False
    return firsts, True


def _class_source(items: list[tuple[object, object]]) -> str | None:
    parts: list[str] = []
    for op, av in items:
        if op is _sre.LITERAL:
            parts.append(f"\\U{av:08x}")
        elif op is _sre.RANGE:
            low, high = av  # type: ignore[misc]
            parts.append(f"\\U{low:08x}-\\U{high:08x}")
        elif op is _sre.CATEGORY and str(av) in _CATEGORY_ESCAPES:
            parts.append(_CATEGORY_ESCAPES[str(av)])
        else:
            return None
    return "[" + "".join(dict.fromkeys(parts)) + "]" if parts else None


def _fast_already(items: object) -> bool:
    """Return whether the engine already scans for the pattern's start (a literal, a class or a
    branch of literals first) — a look-ahead in front would only hide that scan."""
    c = _sre
    while True:
        if not items:
            return False
        op, av = items[0]  # type: ignore[index]
        if op is not c.SUBPATTERN or av[1] or av[2]:
            break
        items = av[3]
    if op in (c.LITERAL, c.IN):
        return True
    if op is c.BRANCH:
        return all(alt and alt[0][0] is c.LITERAL for alt in av[1])
    return False


def fast_start(pattern: str, flags: int = 0) -> re.Pattern[str]:
    r"""Compile ``pattern`` with a look-ahead for the characters that can start a match.

    A pattern starting with a look-behind, a group or a branch of classes makes the engine try
    the whole pattern at every position; ``(?=[\d두세네])`` in front fails fast and is ~2x
    quicker over an article. The matches are the same: every match starts with one of those
    characters (patterns that can match empty, or whose start is unknown, stay as they are).
    """
    compiled = re.compile(pattern, flags)
    if _sre is None:
        return compiled
    try:
        parsed = _sre_parse.parse(pattern, flags)
    except Exception:  # any parser difference: keep the plain pattern
        return compiled
    if _fast_already(parsed.data):
        return compiled
    found = _first_items(parsed.data)
    if found is None or found[1]:
        return compiled
    first = _class_source(found[0])
    if first is None:
        return compiled
    try:
        return re.compile(f"(?={first})(?:{pattern})", flags)
    except re.error:  # e.g. a global "(?i)" that must stay at the very start
        return compiled


def _has_top_level_bar(pattern: str) -> bool:
    depth = 0
    in_class = escaped = False
    for char in pattern:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
    return False


_LEADING_WORD = re.compile(r"\\b([a-z]+)(?![a-z])")


def _literal_first(pattern: str) -> str:
    r"""Return ``\bword…`` rewritten as ``word(?<![a-z0-9_]word)…`` (same matches).

    A leading ``\b`` stops the engine from scanning for the literal; after the rewrite the scan
    is about ten times faster. Only a plain word right after ``\b`` is moved; a letter followed by
    a quantifier ("wins?") stays in place.
    """
    if _has_top_level_bar(pattern):
        return pattern  # another top-level alternative might not start with the word
    match = _LEADING_WORD.match(pattern)
    if match is None:
        return pattern
    word = match.group(1)
    rest = pattern[match.end() :]
    if rest[:1] in ("?", "*", "+", "{"):
        word, rest = word[:-1], word[-1] + rest
    if not word:
        return pattern
    return f"{word}(?<![a-z0-9_]{word}){rest}"


def lowered(text: str) -> str:
    """Return ``text`` lower-cased with unchanged length (so offsets stay valid)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _regex_list(patterns: Sequence[str]) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return vocab("|".join(f"(?:{p})" for p in patterns))


def longest_first(hits: list[Hit]) -> list[Hit]:
    """Return non-overlapping hits, preferring the longer of overlapping ones, in text order."""
    chosen: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (-(h.end - h.start), h.start)):
        if all(hit.end <= other.start or hit.start >= other.end for other in chosen):
            chosen.append(hit)
    return sorted(chosen, key=lambda h: h.start)


class Compiled:
    """Matchers built once per Entities object."""

    def __init__(self, entities: Entities) -> None:
        self.entities = entities
        self.programme_key = entities.programme.key
        self.stages: dict[str, Stage] = {stage.key: stage for stage in entities.stages}

        self._team_lookup: dict[str, tuple[str, bool]] = {}
        names: list[str] = []
        for team in entities.teams:
            for name in team.unambiguous_names():
                self._team_lookup[normalize_name(name)] = (team.canonical, False)
                names.append(name)
            for name in team.ambiguous_aliases:
                self._team_lookup.setdefault(normalize_name(name), (team.canonical, True))
                names.append(name)
        self._team_pattern = _alternation(names)
        # Matched text -> normalize_name(text): the same few spellings recur in every article.
        self._normalized: dict[str, str] = {}
        self._team_excludes = {
            team.canonical: _regex_list(team.exclude) for team in entities.teams if team.exclude
        }

        self._model_lookup: dict[str, tuple[str, str | None]] = {}
        model_names: list[str] = []
        for model in entities.models:
            for name in (model.canonical, *model.aliases):
                self._model_lookup[normalize_name(name)] = (model.canonical, model.team)
                model_names.append(name)
        for other in entities.other_models:
            for name in (other.canonical, *other.aliases):
                self._model_lookup.setdefault(normalize_name(name), (other.canonical, None))
                model_names.append(name)
        self._model_pattern = _alternation(model_names)

        programme = entities.programme
        self._programme_names = _alternation(
            [
                *programme.names.ko,
                *programme.names.en,
                *programme.abbreviations,
                *programme.nicknames,
            ]
        )
        self._context_cues = _regex_list(programme.context_cues)

        self._stage_patterns: dict[str, list[tuple[str, re.Pattern[str], bool]]] = {
            lang: [
                (stage.key, vocab(label.pattern), label.weak)
                for stage in entities.stages
                for label in stage.labels.for_language(lang)
            ]
            for lang in LANGUAGES
        }
        self._outcomes: dict[str, list[tuple[str, re.Pattern[str], str | None, bool]]] = {
            lang: [
                (
                    outcome.status,
                    vocab(cue.pattern),
                    cue.stage,
                    outcome.requires_stage if cue.requires_stage is None else cue.requires_stage,
                )
                for outcome in entities.outcomes
                for cue in getattr(outcome, lang)
            ]
            for lang in LANGUAGES
        }
        self._not_outcome = {
            lang: _regex_list(entities.not_outcome_before.for_language(lang)) for lang in LANGUAGES
        }
        self.reasons = {
            lang: [
                (key, vocab(p))
                for key, by in entities.reasons.items()
                for p in by.for_language(lang)
            ]
            for lang in LANGUAGES
        }
        modality = entities.modality
        self.modality: dict[str, dict[str, re.Pattern[str] | None]] = {
            lang: {
                name: _regex_list(getattr(modality, name).for_language(lang))
                for name in (
                    "question",
                    "conditional",
                    "speculative",
                    "expected",
                    "retrospective",
                )
            }
            for lang in LANGUAGES
        }
        self.negation: dict[str, list[re.Pattern[str]]] = {
            lang: [vocab(p) for p in modality.negation.for_language(lang)] for lang in LANGUAGES
        }
        self.unlikely: dict[str, list[re.Pattern[str]]] = {
            lang: [vocab(p) for p in modality.unlikely.for_language(lang)] for lang in LANGUAGES
        }
        scores = entities.scores
        self.score_parts = {
            lang: [
                (part, vocab(p)) for part, by in scores.parts.items() for p in by.for_language(lang)
            ]
            for lang in LANGUAGES
        }
        self.rank_first = {
            lang: _regex_list(scores.rank_first.for_language(lang)) for lang in LANGUAGES
        }
        self.rank_last = {
            lang: _regex_list(scores.rank_last.for_language(lang)) for lang in LANGUAGES
        }
        self.events = {
            lang: [
                (event, _regex_list(by.for_language(lang)))
                for event, by in entities.schedule_events.items()
            ]
            for lang in LANGUAGES
        }
        facts = entities.programme_facts
        self.teams_remaining = {
            lang: [vocab(p) for p in facts.teams_remaining.for_language(lang)] for lang in LANGUAGES
        }
        self.applicants = {
            lang: [vocab(p) for p in facts.applicants.for_language(lang)] for lang in LANGUAGES
        }
        self.call_stage = facts.additional_call.stage
        self.call_opened = {
            lang: _regex_list(facts.additional_call.opened.for_language(lang)) for lang in LANGUAGES
        }
        self.call_closed = {
            lang: _regex_list(facts.additional_call.closed.for_language(lang)) for lang in LANGUAGES
        }
        self._adjacent = {
            lang: _regex_list(
                [marker for adj in entities.adjacent for marker in adj.markers.for_language(lang)]
            )
            for lang in LANGUAGES
        }
        # Unions of the vocabulary scanned over whole articles: a miss skips every scan.
        self._any_stage = {
            lang: any_of(p for _, p, _ in self._stage_patterns[lang]) for lang in LANGUAGES
        }
        self._any_outcome = {
            lang: any_of(p for _, p, _, _ in self._outcomes[lang]) for lang in LANGUAGES
        }
        self._any_count = {
            lang: any_of([*self.teams_remaining[lang], *self.applicants[lang]])
            for lang in LANGUAGES
        }

    # -- mentions -----------------------------------------------------------------------------

    def may_count(self, text: str, language: str) -> bool:
        """Return False when no teams-remaining or applicants pattern matches in ``text``."""
        union = self._any_count[language]
        return union is None or union.search(text) is not None

    def _normalize(self, matched: str) -> str:
        """Return normalize_name(matched), cached (bounded: cleared when it grows large)."""
        key = self._normalized.get(matched)
        if key is None:
            if len(self._normalized) >= 4096:
                self._normalized.clear()
            key = self._normalized[matched] = normalize_name(matched)
        return key

    def teams(self, text: str) -> list[TeamMention]:
        """Return team mentions (ambiguous ones flagged), with the particle glued to each."""
        if self._team_pattern is None:
            return []
        found = []
        for match in self._team_pattern.finditer(text):
            entry = self._team_lookup.get(self._normalize(match.group()))
            if entry is None:
                continue
            team, ambiguous = entry
            exclude = self._team_excludes.get(team)
            if exclude is not None and exclude.match(
                lowered(text[match.start() : match.start() + 40])
            ):
                continue
            end = match.end()
            following = text[end : end + 1]
            if _HANGUL_CHAR.match(following):
                tail = _NAME_TAIL.match(text, end)
                if tail is None:
                    continue
                particle, marker_end = tail.group("particle"), tail.end()
            elif following.isalnum():
                continue
            else:
                particle, marker_end = "", end
                apostrophe = _EN_TAIL.match(text, end)
                if apostrophe is not None and apostrophe.group("particle"):
                    particle, marker_end = "의", apostrophe.end()
                suffix = _SUFFIX_WORD.match(text, end)
                if suffix is not None:
                    particle, marker_end = suffix.group("particle"), suffix.end()
            found.append(TeamMention(team, match.start(), end, particle, marker_end, ambiguous))
        return found

    def models(self, text: str) -> list[ModelMention]:
        """Return mentions of programme models and of the masked outside models."""
        if self._model_pattern is None:
            return []
        found = []
        for match in self._model_pattern.finditer(text):
            entry = self._model_lookup.get(self._normalize(match.group()))
            if entry is None:
                continue
            end = match.end()
            if _HANGUL_CHAR.match(text[end : end + 1]) and _NAME_TAIL.match(text, end) is None:
                continue
            found.append(ModelMention(entry[0], entry[1], match.start(), end))
        return found

    def stage_mentions(self, text: str, language: str) -> list[StageMention]:
        """Return stage label mentions with their effective stage (destinations, transits)."""
        union = self._any_stage[language]
        if union is not None and union.search(text) is None:
            return []
        hits = []
        weak_labels: set[tuple[int, int]] = set()
        for key, pattern, weak in self._stage_patterns[language]:
            for match in pattern.finditer(text):
                hits.append(Hit(key, match.start(), match.end()))
                if weak:
                    weak_labels.add(match.span())
        mentions = []
        for hit in longest_first(hits):
            stage = self.stages[hit.key]
            weak_label = (hit.start, hit.end) in weak_labels
            after = text[hit.end : hit.end + 24]
            before = text[max(0, hit.start - 12) : hit.start]
            if language == "ko":
                destination = _KO_DESTINATION.match(after) is not None
                transit = (
                    re.match(r"(?:(?:와|과|및|,|·)\s?\S*?\s?)?(?:을|를)?\s?거쳐", after) is not None
                )
            else:
                destination = re.search(r"\b(?:to|into)\s+(?:the\s+)?$", before) is not None
                transit = False
            effective = stage.key
            destination = destination and stage.advance_from is not None
            if destination and stage.advance_from:
                effective = stage.advance_from
            mentions.append(
                StageMention(
                    stage=stage.key,
                    effective=effective,
                    start=hit.start,
                    end=hit.end,
                    weak=self.stages[effective].weak or weak_label,
                    transit=transit,
                    destination=destination,
                )
            )
        return mentions

    def outcomes(self, text: str, language: str) -> list[OutcomeMatch]:
        """Return outcome cues; overlapping cues resolve to the longest."""
        union = self._any_outcome[language]
        if union is not None and union.search(text) is None:
            return []
        hits = []
        details: dict[tuple[int, int], tuple[str, str | None, bool]] = {}
        for status, pattern, cue_stage, requires_stage in self._outcomes[language]:
            for match in pattern.finditer(text):
                if match.end() == match.start():
                    continue
                hits.append(Hit(status, match.start(), match.end()))
                details.setdefault(
                    (match.start(), match.end()), (status, cue_stage, requires_stage)
                )
        result = []
        ignore = self._not_outcome[language]
        for hit in longest_first(hits):
            if ignore is not None and ignore.match(text[hit.end : hit.end + 30]):
                continue
            status, cue_stage, requires_stage = details[(hit.start, hit.end)]
            result.append(OutcomeMatch(status, hit.start, hit.end, cue_stage, requires_stage))
        return result

    def programme_markers(self, text: str) -> list[Hit]:
        """Return programme names, abbreviations, nicknames and context cues."""
        hits = []
        if self._programme_names is not None:
            hits += [Hit("name", m.start(), m.end()) for m in self._programme_names.finditer(text)]
        if self._context_cues is not None:
            low = lowered(text)
            hits += [Hit("cue", m.start(), m.end()) for m in self._context_cues.finditer(low)]
        return sorted(hits, key=lambda h: h.start)

    def adjacent_markers(self, text: str, language: str) -> list[Hit]:
        """Return markers of adjacent programmes (모두의 AI service, GPU lease, …)."""
        pattern = self._adjacent[language]
        if pattern is None:
            return []
        return [Hit("adjacent", m.start(), m.end()) for m in pattern.finditer(text)]


def compiled_for(entities: Entities) -> Compiled:
    """Return the (cached) compiled matchers of ``entities``."""
    cached = entities._compiled
    if isinstance(cached, Compiled):
        return cached
    compiled = Compiled(entities)
    entities._compiled = compiled
    return compiled
