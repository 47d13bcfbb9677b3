"""Stage outcomes: which team was selected, advanced, eliminated… at which stage, and why."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .document import ADNOMINAL_END, Document
from .matching import OutcomeMatch, StageMention, TeamMention
from .modality import decide, flags, window
from .segment import Sentence, Span, eojeol_end, eojeol_start

SELECTION_STATUSES = frozenset({"selected", "applied", "withdrew", "not_selected", "shortlisted"})
# A denied positive outcome is a negative one: "선정되지 못했다" = not selected.
NEGATED_STATUS = {
    "selected": "not_selected",
    "shortlisted": "not_selected",
    "advanced": "eliminated",
    "applied": "withdrew",
}
NEGATIVE_STATUSES = frozenset({"eliminated", "not_selected"})

_KO_CORE = frozenset(
    {"은", "는", "이", "가", "도", "만", "까지", "을", "를", "께서", "만이", "만을", "에서는"}
)
_KO_LIST = frozenset({"와", "과", "", "이나", "나", "랑", "이랑", "하고"})
_KO_LIST_GAP = re.compile(r"(?:\s|,|·|、|['\"‘’“”]|및|그리고)*")
_EN_LIST_GAP = re.compile(
    r"(?:\s|,|&|\band\b|\bnor\b|\bor\b|\bas well as\b|['\"‘’“”])*", re.IGNORECASE
)
_KO_APPOSITION = re.compile(
    r"\s*(?:역시|또한|마저|조차)(?=\s)|\s*등(?:이|가|은|는|도|을|를)(?=\s)|\s*(?:등\s*)?(?:(?:\d+|두|세|네|다섯|여섯)\s*(?:개\s*)?)?(?:정예\s*)?"
    r"(?:팀|곳|기업|컨소시엄|업체)(?:은|는|이|가|도|만|을|를)?(?=\s|$)"
)
_KO_BLOCKER = re.compile(
    r"(?<![가-힣])(?:\d+\s?개\s?|두\s|세\s|네\s|다섯\s|한\s|나머지\s?|일부\s?|다른\s?)?(?:정예\s?)?"
    r"(?:팀|곳|기업|업체|회사)(?:이|가|은|는|만|도)(?=\s)"
)
_EN_BLOCKER = re.compile(
    # plural: "two teams were cut" has its own subject; "the other team cut" is an apposition
    r"\b(?:two|three|four|five|\d+|other|remaining|the rest of the) teams\b",
    re.IGNORECASE,
)
_KO_NOMINAL = re.compile(r"(?:팀|자|기업|곳|업체|컨소시엄|명단)(?:은|는|이|가|으로|로)?['\"’”,]?")
_KO_BOUND_NOUN = re.compile(
    r"(?:것|바|데|뒤|후|가운데|만큼|적|수|듯|채|이후|직후|이유|까닭|점|사실|지|배경|셈|상황)"
)
_KO_SUBJECT_WORD = re.compile(r"(?<![지기고로에서])(?:이|가|은|는)$")
_KO_OBJECT_END = re.compile(r"(?:을|를)$")
_KO_CONNECTIVE = re.compile(r"(?:해|하여|해서|돼|되어|돼서),?$")
_EACH = re.compile(r"각각|respectively", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class OutcomeFact:
    """A stage outcome before it becomes a Fact."""

    team: str
    stage: str
    status: str
    reason: str | None
    modality: str
    sentence: Sentence


def _merge_adjacent(outcomes: list[OutcomeMatch], text: str) -> list[OutcomeMatch]:
    """Join cues of one phrase ("탈락의 고배를") so they count once."""
    merged: list[OutcomeMatch] = []
    for outcome in outcomes:
        if merged:
            last = merged[-1]
            gap = text[last.end : outcome.start]
            if last.status == outcome.status and len(gap) <= 3 and not re.search(r"[,.]", gap):
                merged[-1] = OutcomeMatch(
                    last.status,
                    last.start,
                    outcome.end,
                    last.cue_stage or outcome.cue_stage,
                    last.requires_stage or outcome.requires_stage,
                )
                continue
        merged.append(outcome)
    return merged


def _ko_form(doc: Document, outcome: OutcomeMatch, clause: Span) -> str:
    """Return how a Korean cue is used: predicate, adnominal, nominal or bare."""
    text = doc.text
    last = max(outcome.start, outcome.end - 1)
    word_end = eojeol_end(text, last, clause.end)
    word = text[eojeol_start(text, last, clause.start) : word_end].rstrip(",.'\"’”")
    rest = text[outcome.end : word_end]
    if rest and _KO_NOMINAL.fullmatch(rest):
        return "nominal"
    next_start = word_end
    while next_start < clause.end and text[next_start].isspace():
        next_start += 1
    next_end = eojeol_end(text, next_start, clause.end)
    following = text[next_start:next_end]
    if ADNOMINAL_END.search(word) and following and not _KO_BOUND_NOUN.match(following):
        return "adnominal"
    if _KO_OBJECT_END.search(word) and ADNOMINAL_END.search(following.rstrip(",")):
        after_start = next_end
        while after_start < clause.end and text[after_start].isspace():
            after_start += 1
        after = text[after_start : eojeol_end(text, after_start, clause.end)]
        if after and not _KO_BOUND_NOUN.match(after):
            return "adnominal"
    if not rest.strip("'\"’”") and not any(c.isspace() for c in text[outcome.start : outcome.end]):
        return "bare"
    return "predicate"


def _is_core(doc: Document, team: TeamMention, outcome: OutcomeMatch, title: bool) -> bool:
    if doc.language == "en":
        return team.particle != "의" or outcome.start - team.marker_end <= 1
    gap = doc.text[team.marker_end : outcome.start]
    if team.particle in _KO_CORE:
        return True
    if team.particle == "의":
        return len(gap.strip()) == 0
    if team.particle == "":
        return title or not gap.strip() or _KO_APPOSITION.match(gap) is not None
    return False


def _linked(doc: Document, first: TeamMention, second: TeamMention) -> bool:
    """Return whether ``first`` is listed together with the following ``second``."""
    gap = doc.text[first.marker_end : second.start]
    if doc.language == "ko":
        return first.particle in _KO_LIST and _KO_LIST_GAP.fullmatch(gap) is not None
    return first.particle == "" and _EN_LIST_GAP.fullmatch(gap) is not None and bool(gap.strip())


def _extend_back(
    doc: Document, candidates: list[TeamMention], head: TeamMention
) -> list[TeamMention]:
    group = [head]
    index = candidates.index(head)
    while index > 0 and _linked(doc, candidates[index - 1], group[0]):
        index -= 1
        group.insert(0, candidates[index])
    return group


def _extend_forward(
    doc: Document, candidates: list[TeamMention], first: TeamMention
) -> list[TeamMention]:
    group = [first]
    index = candidates.index(first)
    while index + 1 < len(candidates) and _linked(doc, group[-1], candidates[index + 1]):
        index += 1
        group.append(candidates[index])
    return group


def _blocked(doc: Document, head: TeamMention, outcome: OutcomeMatch) -> bool:
    """Return True when another subject ("2개 팀이") sits between the team and the cue."""
    gap = doc.text[head.marker_end : outcome.start]
    if doc.language == "ko":
        apposition = _KO_APPOSITION.match(gap)
        if apposition is not None:
            gap = gap[apposition.end() :]
        return _KO_BLOCKER.search(gap) is not None
    return _EN_BLOCKER.search(gap) is not None


def _backward(
    doc: Document, outcome: OutcomeMatch, start: int, title: bool, each: bool
) -> list[TeamMention]:
    candidates = [
        t for t in doc.teams_between(start, outcome.start) if t.marker_end <= outcome.start
    ]
    if not candidates:
        return []
    if each:
        group: list[TeamMention] = []
        for team in candidates:
            if _is_core(doc, team, outcome, title) or team.particle in ("가", "이"):
                for member in _extend_back(doc, candidates, team):
                    if member not in group:
                        group.append(member)
        return sorted(group, key=lambda t: t.start)
    for team in reversed(candidates):
        if _is_core(doc, team, outcome, title):
            if _blocked(doc, team, outcome):
                return []
            return _extend_back(doc, candidates, team)
    return []


def _forward(doc: Document, outcome: OutcomeMatch, end: int, max_gap: int) -> list[TeamMention]:
    candidates = doc.teams_between(outcome.end, end)
    if not candidates:
        return []
    first = candidates[0]
    gap = doc.text[outcome.end : first.start]
    if doc.language == "en":
        if ":" not in gap and len(gap.split()) > 4:
            return []
    elif len(gap.strip()) > max_gap:
        return []
    return _extend_forward(doc, candidates, first)


def _topic_group(doc: Document, sentence: Sentence, clause: Span) -> list[TeamMention]:
    """Return the sentence's topic ("NC AI와 네이버클라우드도 …") for a subjectless clause."""
    candidates = doc.teams_between(sentence.start, clause.start)
    for team in candidates:
        if team.particle in ("은", "는", "이", "가", "도", "까지"):
            return _extend_back(doc, candidates, team)
    return []


def _stage_for(
    doc: Document,
    outcome: OutcomeMatch,
    status: str,
    sentence: Sentence,
    clause: Span,
) -> tuple[str | None, str]:
    """Return (stage, where it was found): cue, clause, sentence or context."""
    if outcome.cue_stage:
        return outcome.cue_stage, "cue"
    stages = doc.compiled.stages

    def allowed(mention: StageMention) -> bool:
        if mention.transit:
            return False
        if status in SELECTION_STATUSES:
            return stages[mention.effective].kind == "selection" and not mention.destination
        return True

    def pick(mentions: list[StageMention]) -> str | None:
        usable = [m for m in mentions if allowed(m)]
        if doc.language == "ko":
            usable = [m for m in usable if m.end <= outcome.end]
        if not usable:
            return None

        def distance(m: StageMention) -> int:
            return (
                outcome.start - m.end if m.end <= outcome.start else max(0, m.start - outcome.end)
            )

        strong = [m for m in usable if not m.weak]
        return min(strong or usable, key=distance).effective

    found = pick(doc.stages_between(clause.start, clause.end))
    if found:
        return found, "clause"
    found = pick(doc.stages_between(sentence.start, sentence.end))
    if found:
        return found, "sentence"
    return doc.context_stage(sentence, allowed, frequent=True), "context"


def _reasons(doc: Document, start: int, end: int) -> list[tuple[int, str]]:
    found = []
    for key, pattern in doc.compiled.reasons[doc.language]:
        for match in pattern.finditer(doc.low, start, end):
            found.append((match.start(), key))
    return sorted(found)


# Statuses that inform each other's stage when an outcome names no stage itself.
_FAMILY = {
    "eliminated": "result",
    "advanced": "result",
    "selected": "selection",
    "not_selected": "selection",
    "shortlisted": "selection",
    "applied": "entry",
    "withdrew": "entry",
}
_EXPLICIT = frozenset({"cue", "clause", "sentence"})


@dataclass
class _Pending:
    """An outcome whose stage may still come from the article's other outcomes."""

    teams: list[TeamMention]
    raw: str  # the status before the stage's kind maps it ("advanced" → "selected" …)
    stage: str | None
    found_in: str
    recent_stage: str | None
    requires_stage: bool
    reasons: list[str | None]
    modality: str
    sentence: Sentence
    index: int  # sentence index


def extract_outcomes(doc: Document) -> list[OutcomeFact]:
    """Return the stage outcomes stated in the document."""
    if not doc.in_context:
        return []
    pending: list[_Pending] = []
    for sentence_index, sentence in enumerate(doc.sentences if doc.outcomes else ()):
        cues = _merge_adjacent(doc.outcomes_between(sentence.start, sentence.end), doc.text)
        for index, outcome in enumerate(cues):
            clause = sentence.clause_at(outcome.start)
            prior = [c for c in cues[:index] if c.start >= clause.start]
            window_start = prior[-1].end if prior else clause.start
            next_cue = next(
                (c.start for c in cues[index + 1 :] if c.start < clause.end), clause.end
            )
            item = _one_outcome(doc, sentence, clause, outcome, window_start, next_cue)
            if item is not None:
                item.index = sentence_index
                pending.append(item)
    return _finish(doc, pending)


def _finish(doc: Document, pending: list[_Pending]) -> list[OutcomeFact]:
    """Settle stages taken from context, map statuses to stage kinds, attach reasons."""
    stages = doc.compiled.stages
    explicit = [p for p in pending if p.found_in in _EXPLICIT and p.stage is not None]
    facts: list[OutcomeFact] = []
    for item in pending:
        stage = item.stage
        if item.found_in not in _EXPLICIT:
            # The article's own staged outcomes are better context than a passing label:
            # "함께 탈락한 네이버클라우드" takes the stage of the elimination reported before.
            def distance(other: _Pending, item: _Pending = item) -> tuple[int, int]:
                return (abs(other.index - item.index), other.index > item.index)

            same = [o for o in explicit if o.raw == item.raw]
            family = [o for o in explicit if _FAMILY[o.raw] == _FAMILY[item.raw]]
            if same or family:
                stage = min(same or family, key=distance).stage
            elif item.requires_stage:
                stage = item.recent_stage
            elif (
                item.raw == "eliminated"
                and stage is not None
                and stages[stage].kind == "selection"
                and not _selection_just_before(doc, item.index, stage)
            ):
                # A selection stage named elsewhere in the article is too weak a link for a
                # negative outcome: say nothing rather than a wrong "not selected".
                stage = None
        if stage is None:
            continue
        status = item.raw
        definition = stages.get(stage)
        if definition is not None:
            if status == "advanced" or (status == "selected" and definition.kind == "selection"):
                status = definition.pass_status
            elif status == "eliminated":
                status = definition.fail_status
        seen: set[str] = set()
        for team, reason in zip(item.teams, item.reasons, strict=True):
            if team.team in seen:
                continue
            seen.add(team.team)
            facts.append(
                OutcomeFact(
                    team.team,
                    stage,
                    status,
                    reason if status in NEGATIVE_STATUSES else None,
                    item.modality,
                    item.sentence,
                )
            )
    return facts


def _selection_just_before(doc: Document, index: int, stage: str) -> bool:
    """Return True when the previous sentence names ``stage`` with a strong label and no
    evaluation stage ("…추가 정예팀으로 발탁됐다. 함께 도전한 …는 고배를 마셨다")."""
    if index == 0:
        return False
    previous = doc.sentences[index - 1]
    kinds = doc.compiled.stages
    named = [m for m in doc.stages_between(previous.start, previous.end) if not m.transit]
    return any(m.effective == stage and not m.weak for m in named) and not any(
        kinds[m.effective].kind == "evaluation" for m in named
    )


def _recent_stage(doc: Document, sentence: Sentence, status: str) -> str | None:
    """Return a selection stage named in this or the three previous sentences."""
    index = doc.sentence_index(sentence)
    low = doc.sentences[max(0, index - 3)].start
    stages = doc.compiled.stages
    mentions = [
        m
        for m in doc.stages_between(low, sentence.end)
        if not m.transit
        and (status not in SELECTION_STATUSES or stages[m.effective].kind == "selection")
    ]
    strong = [m for m in mentions if not m.weak]
    pool = strong or mentions
    return pool[-1].effective if pool else None


_KO_EXAMPLE_NOUN = re.compile(
    r"\s?(?:기업|업체|팀|곳|회사|컨소시엄)들?(?:은|는|이|가|도|을|를)?(?=\s|$)"
)


def _examples_before(doc: Document, outcome: OutcomeMatch, clause: Span) -> list[TeamMention]:
    """Return teams given as examples of the noun an adnominal outcome modifies.

    "모티프 등 정예팀 선정에서 떨어졌던 기업들은": the companies that failed include 모티프.
    """
    text = doc.text
    word_end = eojeol_end(text, max(outcome.start, outcome.end - 1), clause.end)
    if _KO_EXAMPLE_NOUN.match(text, word_end) is None:
        return []
    candidates = doc.teams_between(clause.start, outcome.start)
    for team in reversed(candidates):
        if team.particle == "" and re.match(r"\s등(?=\s)", text[team.marker_end :]):
            return _extend_back(doc, candidates, team)
    return []


def _one_outcome(
    doc: Document,
    sentence: Sentence,
    clause: Span,
    outcome: OutcomeMatch,
    window_start: int,
    next_cue: int,
) -> _Pending | None:
    text = doc.text
    title = sentence.is_title
    each = _EACH.search(text, clause.start, clause.end) is not None
    fallback = False
    if doc.language == "ko":
        form = _ko_form(doc, outcome, clause)
        if form == "adnominal":
            group = _forward(doc, outcome, next_cue, 15) or _examples_before(doc, outcome, clause)
        elif form == "nominal":
            group = _forward(doc, outcome, next_cue, 15) or _backward(
                doc, outcome, window_start, title, each
            )
        else:
            group = _backward(doc, outcome, window_start, title, each)
            if not group and form == "bare":
                group = _forward(doc, outcome, next_cue, 8)
        if (
            not group
            and form == "predicate"
            and not title
            and not doc.teams_between(clause.start, clause.end)
            and not any(
                _KO_SUBJECT_WORD.search(word) for word in text[clause.start : outcome.start].split()
            )
        ):
            group = _topic_group(doc, sentence, clause)
            fallback = bool(group)
    else:
        form = "predicate"
        paren = next((p for p in sentence.parentheticals if p.start <= outcome.start < p.end), None)
        group = _backward(doc, outcome, clause.start, title, each)
        if paren is None:
            group = [
                t
                for t in group
                if not any(p.start <= t.start < p.end for p in sentence.parentheticals)
            ] or group
        if not group:
            group = _forward(doc, outcome, clause.end, 0)
    if not group:
        return None
    if doc.programme_or_adjacent_blocked(clause, outcome.start, outcome.end):
        return None

    if doc.language == "ko":
        if form == "adnominal":
            # The modality of "떨어졌던 기업들은 … 준비하고 있다" is the adnominal's own.
            head_start = clause.start
            tail_end = min(group[0].start, next_cue) if group[0].start > outcome.start else next_cue
            tail_end = min(
                tail_end, eojeol_end(text, max(outcome.start, outcome.end - 1), clause.end) + 1
            )
        elif form == "nominal" and group[0].start > outcome.start:
            head_start = clause.start
            tail_end = group[0].start
        else:
            head_start = sentence.start if fallback else group[0].start
            later = [t.start for t in doc.teams_between(outcome.end, clause.end)]
            tail_end = min([next_cue, *later]) if later else next_cue
            # "1차 평가를 통과해 2차 평가를 준비 중이다": what follows a connective "-해" is
            # another predicate with its own modality.
            word_end = eojeol_end(text, max(outcome.start, outcome.end - 1), clause.end)
            if _KO_CONNECTIVE.search(text, outcome.start, word_end):
                tail_end = min(tail_end, word_end)
    else:
        head_start = clause.start
        tail_end = clause.end
    win = window(doc, sentence, clause, outcome.start, outcome.end, head_start, tail_end)
    if doc.language == "ko":
        retro_start = sentence.start if fallback else None
    elif group[0].start < outcome.start:
        # From the comma before the subject: "A month after X were dropped" keeps its marker,
        # "… in January, and Motif was dropped this week" does not borrow one.
        comma = max(text.rfind(",", clause.start, group[0].start), clause.start - 1)
        retro_start = comma + 1
    else:
        retro_start = None
    found = flags(doc, win, retro_start=retro_start)

    status = outcome.status
    if "negated_direct" in found and status in NEGATED_STATUS:
        status = NEGATED_STATUS[status]
        found.discard("negated")
    stage, found_in = _stage_for(doc, outcome, status, sentence, clause)
    recent = _recent_stage(doc, sentence, status) if outcome.requires_stage else None

    reasons: list[str | None] = [None] * len(group)
    if status in ("eliminated", "not_selected"):
        region_start = group[0].start if group[0].start < outcome.start else clause.start
        region_end = max(tail_end, outcome.end)
        if doc.language == "en":
            region_end = clause.end
        if each and len(group) > 1:
            for position, team in enumerate(group):
                limit = group[position + 1].start if position + 1 < len(group) else outcome.start
                found_reasons = _reasons(doc, team.marker_end, limit)
                reasons[position] = found_reasons[0][1] if found_reasons else None
        else:
            found_reasons = _reasons(doc, region_start, region_end)
            if found_reasons:
                reasons = [found_reasons[0][1]] * len(group)
    return _Pending(
        teams=group,
        raw=status,
        stage=stage,
        found_in=found_in if stage is not None else "none",
        recent_stage=recent,
        requires_stage=outcome.requires_stage,
        reasons=reasons,
        modality=decide(found),
        sentence=sentence,
        index=0,
    )
