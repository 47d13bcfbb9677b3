"""Unit tests for fact extraction: entities, matching, numbers, dates, modality, English."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.facts import EXTRACTOR_VERSION, Fact, extract_facts
from tracker.facts.dates import find_dates
from tracker.facts.entities import Entities, EntitiesError, load_entities
from tracker.facts.matching import compiled_for
from tracker.facts.numbers import find_sizes

REPO = Path(__file__).resolve().parents[1]
KST = timezone(timedelta(hours=9))
PUBLISHED = datetime(2026, 1, 15, 15, 0, tzinfo=KST)


@pytest.fixture(scope="module")
def entities() -> Entities:
    return load_entities(REPO / "config" / "entities.yaml")


def outcomes(entities: Entities, title: str, body: str = "", when: datetime = PUBLISHED) -> set:
    """Return {(team, stage, status, modality)} for the stage outcomes of an article."""
    return {
        (f.subject, f.values["stage"], f.values["status"], f.modality)
        for f in extract_facts(title, body, when, entities)
        if f.type == "stage_outcome"
    }


def facts_of(entities: Entities, kind: str, title: str, body: str = "", when=PUBLISHED) -> list:
    return [f for f in extract_facts(title, body, when, entities) if f.type == kind]


# -- entities file -----------------------------------------------------------------------------


def test_default_entities_load(entities: Entities) -> None:
    teams = {team.canonical for team in entities.teams}
    assert {"LG AI연구원", "SK텔레콤", "업스테이지", "네이버클라우드", "NC AI"} <= teams
    assert [s.key for s in entities.stages][:4] == [
        "call",
        "document_review",
        "presentation_review",
        "elite_selection",
    ]
    assert EXTRACTOR_VERSION


@pytest.mark.parametrize(
    ("yaml_text", "fragments"),
    [
        ("teams:\n  - canonical: X\n    colour: red\n", ["teams.0.colour", "Extra inputs"]),
        ("teams:\n  - canonical: [1, 2]\n", ["teams.0.canonical", "string"]),
        ("stages:\n  - key: s\n    order: first\n", ["stages.0.order"]),
        (
            "teams:\n  - canonical: A\nmodels:\n  - canonical: M\n    team: B\n",
            ["models.0.team", "unknown team 'B'"],
        ),
        ("outcomes:\n  - status: eliminated\n    ko: ['탈락(']\n", ["outcomes.0.ko.0", "regular"]),
        ("outcomes:\n  - status: vanished\n", ["outcomes.0.status"]),
        ("- just\n- a list\n", ["top level", "mapping"]),
        ("teams: [\n", ["invalid YAML"]),
    ],
)
def test_load_entities_errors_name_file_key_and_problem(
    tmp_path: Path, yaml_text: str, fragments: list[str]
) -> None:
    path = tmp_path / "entities.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(EntitiesError) as caught:
        load_entities(path)
    message = str(caught.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_missing_file_is_an_entities_error(tmp_path: Path) -> None:
    with pytest.raises(EntitiesError, match="cannot read"):
        load_entities(tmp_path / "absent.yaml")


def test_empty_entities_extract_nothing(tmp_path: Path) -> None:
    path = tmp_path / "entities.yaml"
    path.write_text("{}\n", encoding="utf-8")
    empty = load_entities(path)
    assert extract_facts("NC AI 탈락", "NC AI가 1차 평가에서 탈락했다.", PUBLISHED, empty) == []


def test_story_lives_in_yaml(tmp_path: Path) -> None:
    """Another competition works by editing YAML only."""
    path = tmp_path / "entities.yaml"
    path.write_text(
        """
programme: {key: robots, names: {ko: [로봇 올림픽]}}
teams:
  - canonical: 알파로봇
    aliases: {ko: [알파로봇]}
stages:
  - {key: heat1, order: 1, kind: evaluation, pass_status: advanced, fail_status: eliminated,
     labels: {ko: ['예선']}}
outcomes:
  - status: eliminated
    ko: ['탈락']
""",
        encoding="utf-8",
    )
    robots = load_entities(path)
    found = extract_facts(
        "로봇 올림픽 예선 결과", "알파로봇이 예선에서 탈락했다.", PUBLISHED, robots
    )
    assert [(f.subject, f.values["stage"], f.values["status"]) for f in found] == [
        ("알파로봇", "heat1", "eliminated")
    ]


# -- names, particles, aliases, ambiguity -------------------------------------------------------

CONTEXT = "독자 AI 파운데이션 모델 1차 단계평가 결과"


@pytest.mark.parametrize(
    ("sentence", "team"),
    [
        ("네이버클라우드와 NC AI가 탈락했다.", "네이버클라우드"),
        ("네이버클라우드와 NC AI가 탈락했다.", "NC AI"),
        ("NC AI는 탈락했다.", "NC AI"),
        ("SKT·업스테이지 진출", "SK텔레콤"),
        ("SKT·업스테이지 진출", "업스테이지"),
        ("엔씨에이아이 컨소시엄은 탈락했다.", "NC AI"),
        ("엔씨소프트AI가 탈락했다.", "NC AI"),
        ("네이버 클라우드는 탈락했다.", "네이버클라우드"),
        ("엘지경영개발원 AI 연구원이 진출했다.", "LG AI연구원"),
        ("모티브테크놀로지스가 탈락했다.", "모티프테크놀로지스"),
        ("에스케이텔레콤까지 탈락했다.", "SK텔레콤"),
        ("LG팀은 2차 평가에 진출했다.", "LG AI연구원"),
    ],
)
def test_particles_aliases_spacing_and_typos(entities: Entities, sentence: str, team: str) -> None:
    teams = {f.subject for f in extract_facts(CONTEXT, sentence, PUBLISHED, entities)}
    assert team in teams


@pytest.mark.parametrize(
    "text",
    [
        "LG전자와 LG유플러스가 신제품을 냈다.",
        "네이버웹툰이 공모전을 열었다.",
        "모티프디자인 전시회",
        "KT&G 실적",
    ],
)
def test_glued_words_are_not_teams(entities: Entities, text: str) -> None:
    compiled = compiled_for(entities)
    assert compiled.teams("독파모 " + text) == []


def test_ambiguous_bare_words_need_programme_context(entities: Entities) -> None:
    sports = "LG 트윈스, 가을야구 탈락"
    assert outcomes(entities, sports, "LG는 결국 탈락이 확정됐다.") == set()
    fashion = "모티프가 돋보이는 가전"
    assert outcomes(entities, fashion, "모티프는 전통 문양에서 왔다. 모티프가 선정됐다.") == set()
    in_context = outcomes(entities, "독파모 1차 평가…LG·SKT 진출", "")
    assert ("LG AI연구원", "stage1", "advanced", "asserted") in in_context


def test_no_programme_context_no_outcomes(entities: Entities) -> None:
    assert outcomes(entities, "KT 위즈 가을야구 탈락", "KT가 5위 싸움에서 밀려 탈락했다.") == set()


# -- stage outcomes and modality ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # asserted
        ("NC AI가 1차 단계평가에서 탈락했다.", ("NC AI", "stage1", "eliminated", "asserted")),
        ("업스테이지는 2차 평가에 진출했다.", ("업스테이지", "stage1", "advanced", "asserted")),
        (
            "네이버클라우드는 2차 단계 진출에 실패했다.",
            ("네이버클라우드", "stage1", "eliminated", "asserted"),
        ),
        ("NC AI는 2차 단계에 진출하지 못했다.", ("NC AI", "stage1", "eliminated", "asserted")),
        # expected / speculative / question / conditional / negated / retrospective
        ("업스테이지는 2차 진출을 노린다.", ("업스테이지", "stage1", "advanced", "expected")),
        (
            "1차 평가에서는 NC AI의 탈락이 유력하다.",
            ("NC AI", "stage1", "eliminated", "speculative"),
        ),
        (
            "1차 평가에서 NC AI가 탈락할 가능성이 높다.",
            ("NC AI", "stage1", "eliminated", "speculative"),
        ),
        (
            "1차 평가에서 NC AI가 탈락할지 관심이 쏠린다.",
            ("NC AI", "stage1", "eliminated", "question"),
        ),
        (
            "1차 평가에서 네이버클라우드가 탈락한다면 파장이 크다.",
            ("네이버클라우드", "stage1", "eliminated", "conditional"),
        ),
        (
            "SK텔레콤은 1차 평가에서 탈락하지 않았다.",
            ("SK텔레콤", "stage1", "eliminated", "negated"),
        ),
        (
            "1차 평가에서 LG AI연구원이 탈락할 가능성은 거의 없다.",
            ("LG AI연구원", "stage1", "eliminated", "negated"),
        ),
        (
            "지난 1월 1차 평가에서 탈락한 NC AI는 재정비에 들어갔다.",
            ("NC AI", "stage1", "eliminated", "retrospective"),
        ),
        (
            "KT는 지난해 정예팀 선정 과정에서 고배를 마신 바 있다.",
            ("KT", "elite_selection", "not_selected", "retrospective"),
        ),
    ],
)
def test_outcome_modality(entities: Entities, body: str, expected: tuple) -> None:
    when = datetime(2026, 3, 2, tzinfo=KST) if "지난 1월" in body else PUBLISHED
    assert expected in outcomes(entities, "독파모 소식", body, when)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        # The shape of the seed headline and lead: an announcement date and a question.
        ("독파모 정예팀 1차 발표회 마쳐…1월 중 탈락팀 결과 발표", ""),
        ("독파모 1차 발표회", "5개 정예팀 가운데 첫 번째 탈락팀이 어디가 될지 관심이 쏠린다."),
        ("독파모 1차 발표회", "정부는 5개 팀 중 1곳만 탈락시킬 계획이다."),
        ("독파모 1차 발표회", "업계는 누가 탈락할지 주목하고 있다."),
        # Denials and hearsay (found on the local news world's day 3).
        ('NC AI "1차 평가 탈락 통보 받은 적 없다"…과기정통부 "결과 확정 전"', ""),
        (
            "독파모 1차 평가 관련 입장",
            "1차 단계평가에서 NC AI가 탈락한다는 일부 보도에 대해 회사와 정부가 선을 그었다.",
        ),
    ],
)
def test_announcements_and_questions_are_not_eliminations(
    entities: Entities, title: str, body: str
) -> None:
    found = outcomes(entities, title, body, datetime(2025, 12, 30, tzinfo=KST))
    assert not any(
        status == "eliminated" and modality == "asserted" for _, _, status, modality in found
    )


def test_reasons_and_each(entities: Entities) -> None:
    found = extract_facts(
        "독파모 1차 평가 결과",
        "지난 1월 1차 평가에서는 NC AI가 최하위 점수로, 네이버클라우드가 독자성 기준 미달로 각각 탈락했다.",
        datetime(2026, 8, 7, tzinfo=KST),
        entities,
    )
    reasons = {f.subject: f.values["reason"] for f in found if f.type == "stage_outcome"}
    assert reasons == {"NC AI": "lowest_score", "네이버클라우드": "originality"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "모티프테크놀로지스가 추가 공모에서 최종 선정됐다.",
            ("모티프테크놀로지스", "additional_call", "selected", "asserted"),
        ),
        (
            "추가 공모에 함께 지원한 트릴리온랩스는 선정되지 못했다.",
            ("트릴리온랩스", "additional_call", "not_selected", "asserted"),
        ),
        (
            "추가 공모에 함께 지원한 트릴리온랩스는 선정되지 못했다.",
            ("트릴리온랩스", "additional_call", "applied", "asserted"),
        ),
        (
            "NC AI는 추가 공모에 참여하지 않기로 했다.",
            ("NC AI", "additional_call", "withdrew", "asserted"),
        ),
        (
            "10개 컨소시엄 가운데 KT 컨소시엄이 서면평가를 통과했다.",
            ("KT", "document_review", "shortlisted", "asserted"),
        ),
    ],
)
def test_selection_statuses(entities: Entities, body: str, expected: tuple) -> None:
    assert expected in outcomes(entities, "독파모 추가 공모", body)


@pytest.mark.parametrize(
    "body",
    [
        # The separate "모두의 AI" public-service programme and a GPU lease are not this one.
        "과기정통부는 '모두의 AI' 대국민 서비스 사업에 SK텔레콤, 카카오, KT 컨소시엄을 선정했다.",
        "네이버클라우드가 정부 GPU 임차 사업 공급 기업으로 선정됐다.",
        "네이버클라우드와 업스테이지는 모두의 AI 공공 서비스 사업에서 탈락했다.",
    ],
)
def test_adjacent_programmes_give_no_stage_outcomes(entities: Entities, body: str) -> None:
    assert outcomes(entities, "독자 AI 파운데이션 모델 정예팀 소식", body) == set()


def test_adjacent_title_limits_to_programme_clauses(entities: Entities) -> None:
    found = outcomes(
        entities,
        "'모두의 AI' 공공서비스 사업에 SKT·카카오 선정",
        "네이버클라우드는 이번 사업에서 탈락했다. "
        "지난달 독파모 1차 평가에서 탈락한 네이버가 공공 서비스 사업에서도 고배를 마셨다.",
        datetime(2026, 2, 11, tzinfo=KST),
    )
    assert found == {("네이버클라우드", "stage1", "eliminated", "retrospective")}


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "total", "active"),
    [
        ("매개변수 500B 규모", 500_000_000_000, None),
        ("5000억 개 파라미터", 500_000_000_000, None),
        ("5,000억 파라미터", 500_000_000_000, None),
        ("2360억개", 236_000_000_000, None),
        ("0.5조 파라미터", 500_000_000_000, None),
        ("1조 2000억 개", 1_200_000_000_000, None),
        ("102.6 billion parameters", 102_600_000_000, None),
        ("a 688-billion-parameter model", 688_000_000_000, None),
        ("519B-A33B", 519_000_000_000, 33_000_000_000),
        ("370억 개만 활성화", None, 37_000_000_000),
        ("37 billion active parameters", None, 37_000_000_000),
    ],
)
def test_parameter_counts(text: str, total: int | None, active: int | None) -> None:
    sizes = find_sizes(text, 0, len(text))
    assert [(s.total, s.active) for s in sizes] == [(total, active)]


@pytest.mark.parametrize(
    "text", ["1000억 원 투자", "B2B 사업", "GPU B200 1000장", "사용자 1000만 명"]
)
def test_money_and_codes_are_not_parameter_counts(text: str) -> None:
    assert find_sizes(text, 0, len(text)) == []


@pytest.mark.parametrize(
    ("body", "model", "total", "active"),
    [
        (
            "SK텔레콤은 매개변수 5000억 개 규모의 'A.X K1'을 공개했다.",
            "A.X K1",
            500_000_000_000,
            None,
        ),
        (
            "LG AI연구원은 'K-EXAONE-236B-A23B'를 공개했다.",
            "K-EXAONE",
            236_000_000_000,
            23_000_000_000,
        ),
        ("업스테이지는 '솔라 오픈 100B'를 발표했다.", "Solar Open 100B", None, None),
        (
            "SK텔레콤은 A.X K1을 6880억 파라미터 규모의 A.X K2로 키운다.",
            "A.X K2",
            688_000_000_000,
            None,
        ),
    ],
)
def test_model_sizes_go_to_the_right_model(
    entities: Entities, body: str, model: str, total: int | None, active: int | None
) -> None:
    found = {
        f.values["model"]: (f.values["params_total"], f.values["params_active"])
        for f in facts_of(entities, "model", "독파모", body)
    }
    assert found[model] == (total, active)


def test_outside_models_yield_nothing_and_keep_their_sizes(entities: Entities) -> None:
    found = facts_of(
        entities, "model", "LG AI연구원, 엑사원 4.5 공개", "엑사원 4.5는 330억 파라미터 규모다."
    )
    assert found == []


@pytest.mark.parametrize(
    ("body", "part", "value", "scale", "rank"),
    [
        (
            "LG AI연구원은 벤치마크 평가에서 40점 만점 중 33.6점을 받았다.",
            "benchmark",
            33.6,
            40.0,
            None,
        ),
        ("SK텔레콤의 벤치마크 점수는 31.2점(40점 만점)이었다.", "benchmark", 31.2, 40.0, None),
        ("LG AI연구원은 100점 만점에 84.7점으로 1위를 차지했다.", "total", 84.7, 100.0, 1),
        ("K-엑사원은 벤치마크 13종 평균 72.03점을 기록했다.", "benchmark", 72.03, None, None),
        ("최하위인 NC AI는 71.2점에 그쳤다.", "total", 71.2, None, "last"),
        ("업스테이지는 사용자 평가에서 25점 만점에 20.7점을 받았다.", "user", 20.7, 25.0, None),
    ],
)
def test_scores_in_prose(
    entities: Entities, body: str, part: str, value: float, scale: float | None, rank: object
) -> None:
    found = facts_of(entities, "score", "독파모 1차 단계평가 점수", body)
    assert [
        (f.values["part"], f.values["value"], f.values["scale"], f.values["rank"]) for f in found
    ] == [(part, value, scale, rank)]
    assert found[0].values["stage"] == "stage1"


def test_bracketed_score_of_another_model_is_skipped(entities: Entities) -> None:
    body = "K-엑사원은 벤치마크 13종 평균 72.03점으로 큐웬3 235B(69.37점)를 앞섰다."
    values = [f.values["value"] for f in facts_of(entities, "score", "독파모 1차 평가", body)]
    assert values == [72.03]


# -- dates -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "published", "value", "precision"),
    [
        ("내년 1월 15일", "ko", date(2025, 12, 30), date(2026, 1, 15), "day"),
        ("1월 중", "ko", date(2025, 12, 31), date(2026, 1, 1), "month"),
        ("8월 초", "ko", date(2026, 3, 26), date(2026, 8, 1), "month_part"),
        ("7월 말", "ko", date(2026, 1, 15), date(2026, 7, 21), "month_part"),
        ("이달 말", "ko", date(2026, 3, 3), date(2026, 3, 21), "month_part"),
        ("다음 달 중순", "ko", date(2026, 2, 20), date(2026, 3, 11), "month_part"),
        ("오는 27일", "ko", date(2026, 2, 25), date(2026, 2, 27), "day"),
        ("2027년 1월 중", "ko", date(2026, 8, 6), date(2027, 1, 1), "month"),
        ("on Jan. 15", "en", date(2026, 1, 8), date(2026, 1, 15), "day"),
        ("in early August", "en", date(2026, 7, 30), date(2026, 8, 1), "month_part"),
        ("at the end of December", "en", date(2025, 8, 4), date(2025, 12, 21), "month_part"),
        ("in January next year", "en", date(2026, 8, 6), date(2027, 1, 1), "month"),
        ("late this month", "en", date(2026, 3, 3), date(2026, 3, 21), "month_part"),
    ],
)
def test_dates_resolve_against_publication(
    text: str, language: str, published: date, value: date, precision: str
) -> None:
    found = find_dates(text, 0, len(text), language, published)
    assert [(d.value, d.precision, d.past_marked) for d in found] == [(value, precision, False)]


@pytest.mark.parametrize(
    ("text", "language"), [("지난달 27일", "ko"), ("지난 1월", "ko"), ("in March", "en")]
)
def test_past_dates_are_marked(text: str, language: str) -> None:
    found = find_dates(text, 0, len(text), language, date(2026, 8, 6))
    assert found and all(d.past_marked for d in found)


def test_schedule_facts(entities: Entities) -> None:
    found = facts_of(
        entities,
        "schedule",
        "'국대 AI' 첫 관문 코앞",
        "과기정통부는 내년 1월 15일 1차 단계평가 결과를 발표할 예정이다. 지난 15일 발표회가 열렸다.",
        datetime(2025, 12, 31, tzinfo=KST),
    )
    assert [
        (f.values["event"], f.values["stage"], f.values["date"], f.values["precision"], f.modality)
        for f in found
    ] == [("results", "stage1", "2026-01-15", "day", "expected")]


# -- programme facts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "values", "modality"),
    [
        ("정부는 2027년까지 최종 2개 팀을 가린다.", ("teams_remaining", 2, None), "expected"),
        ("이로써 2차 단계평가는 4개 팀이 경쟁하게 됐다.", ("teams_remaining", 4, None), "asserted"),
        ("추가 공모에 4개 컨소시엄이 지원했다.", ("applicants", 4, None), "asserted"),
        ("과기정통부는 추가 공모를 공고했다.", ("additional_call", None, "opened"), "asserted"),
        (
            "과기정통부는 추가 공모를 실시할 예정이다.",
            ("additional_call", None, "opened"),
            "expected",
        ),
    ],
)
def test_programme_facts(entities: Entities, body: str, values: tuple, modality: str) -> None:
    found = facts_of(
        entities, "programme", "독파모 정예팀 소식", body, datetime(2026, 2, 2, tzinfo=KST)
    )
    assert [
        ((f.values["kind"], f.values["count"], f.values["status"]), f.modality) for f in found
    ] == [(values, modality)]


# -- English -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Naver Cloud and NC AI were eliminated from the sovereign AI project in the first round.",
            ("NC AI", "stage1", "eliminated", "asserted"),
        ),
        (
            "LG AI Research, SK Telecom and Upstage advanced to the second round.",
            ("SK텔레콤", "stage1", "advanced", "asserted"),
        ),
        (
            "Motif Technologies is likely to be dropped in the second round.",
            ("모티프테크놀로지스", "stage2", "eliminated", "speculative"),
        ),
        (
            "Upstage could be eliminated in the second round if its user scores disappoint.",
            ("업스테이지", "stage2", "eliminated", "conditional"),
        ),
        (
            "LG AI Research is not expected to be eliminated in the first round.",
            ("LG AI연구원", "stage1", "eliminated", "negated"),
        ),
        (
            "Kakao and KT were not selected after the presentation review.",
            ("KT", "presentation_review", "not_selected", "asserted"),
        ),
    ],
)
def test_english_outcomes(entities: Entities, body: str, expected: tuple) -> None:
    assert expected in outcomes(entities, "Sovereign AI foundation model project", body)


def test_english_measures(entities: Entities) -> None:
    found = extract_facts(
        "Sovereign AI project: second round results",
        "LG AI Research ranked first in the second round with 88.2 points out of 100. "
        "SK Telecom's A.X K1 has 519B-A33B parameters. "
        "The ministry will announce the third-round results in early February.",
        datetime(2026, 1, 10, tzinfo=KST),
        entities,
    )
    summary = {(f.type, f.subject): f.values for f in found}
    assert summary[("score", "LG AI연구원")] == {
        "stage": "stage2",
        "part": "total",
        "value": 88.2,
        "scale": 100.0,
        "rank": 1,
    }
    assert summary[("model", "SK텔레콤")]["params_active"] == 33_000_000_000
    assert summary[("schedule", "dokpamo")]["date"] == "2026-02-01"


# -- the Fact value object and purity ------------------------------------------------------------


def test_fact_offsets_dict_and_determinism(entities: Entities) -> None:
    title = "독파모 1차 단계평가 결과…NC AI 탈락"
    body = "과기정통부는 15일 결과를 발표했다.\nNC AI는 최하위 점수를 받아 탈락했다."
    first = extract_facts(title, body, PUBLISHED, entities)
    assert first == extract_facts(title, body, PUBLISHED, entities)
    text = title + "\n" + body
    assert first
    for fact in first:
        assert isinstance(fact, Fact)
        assert text[fact.start : fact.end] == fact.sentence
        assert json.loads(json.dumps(fact.to_dict())) == fact.to_dict()
        assert fact.language == "ko"


def test_language_is_detected(entities: Entities) -> None:
    found = extract_facts(
        "Sovereign AI project", "NC AI was eliminated in the first round.", PUBLISHED, entities
    )
    assert found and {f.language for f in found} == {"en"}


def test_no_publication_date_means_no_schedule(entities: Entities) -> None:
    found = extract_facts("독파모", "1차 단계평가 결과는 1월 15일 발표될 예정이다.", None, entities)
    assert [f for f in found if f.type == "schedule"] == []


@settings(max_examples=60, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("독파모 NC AI 탈락 진출 1차 2차 평가 선정 LG 0.5조 40점 만점 중 33.6점 .?\n")
        ),
        max_size=120,
    )
)
def test_arbitrary_text_never_breaks_extraction(text: str) -> None:
    entities = load_entities(REPO / "config" / "entities.yaml")
    title, _, body = text.partition("\n")
    for fact in extract_facts(title, body, PUBLISHED, entities):
        assert (title + "\n" + body)[fact.start : fact.end] == fact.sentence
