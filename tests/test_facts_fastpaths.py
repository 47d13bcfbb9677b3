"""The speed-ups in tracker.facts keep every match: rewritten regexes, unions, look-ups."""

from __future__ import annotations

import random
import re
from datetime import date
from pathlib import Path

import pytest

from tracker.facts import dates, numbers, scores, segment
from tracker.facts.document import Document
from tracker.facts.entities import load_entities
from tracker.facts.matching import _name_parts, any_of, compiled_for, fast_start
from tracker.facts.segment import split_sentences

REPO = Path(__file__).resolve().parents[1]
ENTITIES = load_entities(REPO / "config" / "entities.yaml")

ARTICLE = (
    "독파모 2차 평가, 모티프테크놀로지스 탈락…3개 팀 3차 진출\n"
    "과학기술정보통신부는 15일 독자 AI 파운데이션 모델 프로젝트 2차 단계평가 결과를 발표했다. "
    "LG AI연구원과 SK텔레콤, 업스테이지가 3차 평가에 진출했고 모티프테크놀로지스는 탈락했다. "
    "LG AI연구원의 K-엑사원은 100점 만점에 92.5점으로 1위를 차지했으며 A.X K1은 88.1점을 받았다. "
    "A.X K1은 5000억 파라미터 규모로, 활성 매개변수는 330억 개다. 반면 NC AI는 지난 1월 1차 "
    "평가에서 고배를 마신 뒤 추가 공모에 다시 도전할지 검토하고 있다. 3차 평가는 내년 1월 말 "
    '진행될 예정이며, 결과는 2월 중순 나온다... 업계 관계자는 "결과를 지켜봐야 한다"고 말했다.'
)


def _fuzz(alphabet: list[str], count: int, seed: int, longest: int = 24) -> list[str]:
    rng = random.Random(seed)
    return [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, longest))) for _ in range(count)
    ]


def _spans(pattern: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], tuple[object, ...]]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        (r"(?P<count>\d+|두|세|네|다섯)\s?(?:개\s?)?(?:팀|곳)", 0),
        (r"(?:정예\s?팀)|(?:단계\s?평가)|(?:\belite teams?\b)", 0),
        (r"(?<![\d.])(\d+(?:\.\d+)?)[\s-]?(billion|trillion)", re.IGNORECASE),
        (r"\bscored (?:an? )?(?P<v>\d+)|(?P<w>\d+) points?\b", re.IGNORECASE),
        (r"a?b*", 0),  # can match empty: left as it is
    ],
)
def test_fast_start_keeps_every_match(source: str, flags: int) -> None:
    plain = re.compile(source, flags)
    fast = fast_start(source, flags)
    alphabet = [*"0123456789 .-두세네다섯개팀곳정예단계평가abBsSſİı", "elite", "scored ", "billion"]
    for text in _fuzz(alphabet, 3000, seed=1):
        assert _spans(fast, text) == _spans(plain, text), text


def test_fast_start_leaves_unknown_starts_alone() -> None:
    assert fast_start(r"a?b*").pattern == r"a?b*"  # may match empty
    assert fast_start(r"(?i:ab)c").pattern == r"(?i:ab)c"  # scoped flags change classes
    assert fast_start(r"[0-9]x").pattern == r"[0-9]x"  # the engine scans for the class itself
    assert fast_start(r"(?<!a)\d+x").pattern.startswith("(?=[")


def _class_first_alternation(names: list[str]) -> re.Pattern[str]:
    """The former form: one class of all first characters, then every name's remainder."""
    unique = sorted(set(names), key=lambda n: (-len(n), n))
    parts = [_name_parts(n) for n in unique]
    firsts = sorted({c for first, _ in parts for c in first[1:-1].replace("\\", "")})
    return re.compile(
        f"[{''.join(re.escape(c) for c in firsts)}](?:{'|'.join(rest for _, rest in parts)})"
    )


def test_name_alternation_matches_the_plain_class_form() -> None:
    compiled = compiled_for(ENTITIES)
    team_names = [
        n for team in ENTITIES.teams for n in (*team.unambiguous_names(), *team.ambiguous_aliases)
    ]
    model_names = [
        n
        for model in (*ENTITIES.models, *ENTITIES.other_models)
        for n in (model.canonical, *model.aliases)
    ]
    pieces = [*team_names, *model_names, " ", "-", "은", "가", "x", "1", "'s", "팀"]
    texts = [*_fuzz(pieces, 1500, seed=2, longest=6), ARTICLE]
    texts += [t.swapcase() for t in texts[:300]]
    for ours, names in (
        (compiled._team_pattern, team_names),
        (compiled._model_pattern, model_names),
    ):
        assert ours is not None and names
        reference = _class_first_alternation(names)
        for text in texts:
            assert [m.span() for m in ours.finditer(text)] == [
                m.span() for m in reference.finditer(text)
            ], text


def test_any_of_finds_a_match_whenever_one_pattern_does() -> None:
    compiled = compiled_for(ENTITIES)
    for language in ("ko", "en"):
        patterns = [p for _, p, _, _ in compiled._outcomes[language]]
        patterns += [p for _, p, _ in compiled._stage_patterns[language]]
        union = any_of(patterns)
        assert union is not None
        alphabet = [
            *"탈락고배진출통과선정합류평가 1차2차도전지원공모에",
            "eliminated",
            " advanced ",
            "cut",
        ]
        for text in [*_fuzz(alphabet, 2000, seed=3), ARTICLE, ARTICLE.lower()]:
            assert (union.search(text) is not None) == any(p.search(text) for p in patterns)
    assert any_of([re.compile(r"(a)\1")]) is None  # back-references: no union


def test_korean_clause_boundaries_match_the_look_behind_first_form() -> None:
    reference = re.compile(
        r"(?<=[하되했됐였었았졌렸켰쳤웠혔받내열넘쓰두지리기])고,?(?=\s)(?!\s+(?:있|싶|말|나서|계))"
        r"|(?<=[가-힣])(?:으며|며|지만|으나|는데|면서),?(?=\s)"
        r"|(?<=[한된는])\s(?:가운데|뒤|후|이후),?(?=\s)"
        r"|…|\.\.\.|;"
    )
    before = re.compile(r"(?<=\s)(?:반면(?:에)?|한편),?(?=\s)")
    alphabet = [*"고하되는한된가운데뒤후이며으지만나데면서있싶말계반면에한편 ,.…;\n"]
    for text in [*_fuzz(alphabet, 20000, seed=4, longest=14), ARTICLE]:
        assert [m.end() for m in segment._KO_BOUNDARIES.finditer(text)] == [
            m.end() for m in reference.finditer(text)
        ], text
        assert [m.start() for m in segment._KO_BOUNDARY_BEFORE.finditer(text)] == [
            m.start() for m in before.finditer(text)
        ], text


def test_score_and_date_look_aheads_keep_every_match() -> None:
    score = re.compile(scores._KO_SCORE.pattern[len(r"(?=\d+(?:\.\d+)?\s?점)") :])
    day = re.compile(
        dates._KO_DAY.pattern.replace(
            r"(?=[0-9](?:\d{3}년|\d?\s?[월일])|지난|내년|올해|금년|이달|이번|다음|내달|오는)", ""
        )
    )
    assert day.pattern != dates._KO_DAY.pattern
    alphabet = [
        *"0123456789 .점만중에서(위년월일지난내년올해금년이달번다음오는초말순경께",
        "이번 달",
    ]
    for text in [*_fuzz(alphabet, 20000, seed=5), ARTICLE]:
        assert _spans(scores._KO_SCORE, text) == _spans(score, text), text
        assert _spans(dates._KO_DAY, text) == _spans(day, text), text


def test_size_hints_cover_every_size() -> None:
    alphabet = [*"0123456789 .,-BTAbt억조개의활성", "billion", "TRILLION", " param", "파라미터"]
    for text in _fuzz(alphabet, 5000, seed=6, longest=30):
        hints = numbers.size_hints(text)
        for size in numbers.find_sizes(text, 0, len(text)):
            assert any(size.start <= h < size.end for h in hints), text


def test_document_look_ups_equal_the_plain_filters() -> None:
    text = ARTICLE
    title_end = text.index("\n")
    doc = Document.build(
        text, title_end, "ko", date(2026, 1, 15), compiled_for(ENTITIES), split_sentences
    )
    assert doc.teams and doc.models and doc.stages and doc.sentences
    for start in range(0, len(text), 7):
        for end in (start, start + 13, start + 60, len(text)):
            assert doc.teams_between(start, end) == [t for t in doc.teams if start <= t.start < end]
            assert doc.stages_between(start, end) == [
                s for s in doc.stages if start <= s.start < end
            ]
            assert doc.programme_models_between(start, end) == [
                m for m in doc.models if m.team is not None and start <= m.start < end
            ]
            assert doc.dates(start, end) == [
                d
                for d in dates.find_dates(text, 0, len(text), "ko", date(2026, 1, 15))
                if start <= d.start and d.end <= end
            ]
        expected = next((s for s in doc.sentences if s.start <= start < s.end), doc.sentences[-1])
        assert doc.sentence_of(start) == expected
    for index, sentence in enumerate(doc.sentences):
        assert doc.sentence_index(sentence) == index
