"""Normalization, hashing, keyword matching and MinHash: examples and properties."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tracker.text import (
    band_hashes,
    content_hash,
    estimated_jaccard,
    keyword_fingerprint,
    matches_keywords,
    minhash_signature,
    normalize_body,
    normalize_text,
)


def test_normalize_body_removes_dateline_bylines_captions_and_copyright() -> None:
    raw = (
        "(서울=연합뉴스) 김가상 기자 = 과기정통부가 정예팀 평가 결과를 내놓았다.\n"
        "\n"
        "▲ 발표회 현장 모습\n"
        "   두 번째   문단은\t공백이 많다.  \n"
        "[사진=과학기술정보통신부 제공]\n"
        "김가상 기자 kim@example.com\n"
        "<저작권자 ⓒ 가상뉴스, 무단전재 및 재배포 금지>\n"
    )
    assert (
        normalize_body(raw)
        == "과기정통부가 정예팀 평가 결과를 내놓았다.\n두 번째 문단은 공백이 많다."
    )


def test_normalize_body_keeps_story_paragraphs_that_start_like_boilerplate() -> None:
    paragraphs = [
        "□ 네이버클라우드는 총점 80점을 받았으나 독자성 기준을 충족하지 못해 탈락했다.",
        "▲ 이 문단은 글머리표로 ▲를 쓰는 매체의 본문이다. " * 5,
        "네이버 구독 이벤트와는 상관없이, 정부는 네이버클라우드와 카카오의 참여를 검토했다. " * 3,
    ]
    assert normalize_body("\n".join(paragraphs)).splitlines() == [p.strip() for p in paragraphs]
    assert normalize_body("▶ 네이버에서 가상일보 구독하기\n본문.") == "본문."


def test_normalize_body_composes_hangul_to_nfc() -> None:
    decomposed = "\u1100\u1161\u11a8"  # 각 as jamo
    assert normalize_body(decomposed) == "각"


def test_normalize_body_keeps_ordinary_sentences_with_reporter_word() -> None:
    text = "이 사업은 기자 간담회에서 처음 소개됐다."
    assert normalize_body(text) == text


def test_content_hash_is_sha256_hex_of_utf8() -> None:
    assert content_hash("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert len(content_hash("본문")) == 64


def test_wire_copies_with_different_datelines_hash_the_same() -> None:
    body = "정부는 1차 단계평가 결과를 발표했다.\n두 팀이 탈락했다."
    first = normalize_body("(서울=연합뉴스) 김가상 기자 = " + body)
    second = normalize_body("[가상일보 이가상 기자] " + body + "\n이가상 기자 lee@example.com")
    assert content_hash(first) == content_hash(second)


def test_keywords_ignore_spacing_and_case() -> None:
    assert matches_keywords("독자AI파운데이션모델 2차 평가", ["독자 AI 파운데이션 모델"])
    assert matches_keywords("The SOVEREIGN AI project", ["sovereign ai"])
    assert not matches_keywords("모두의 AI 서비스", ["독파모"])
    assert not matches_keywords("독파모 광고", ["독파모"], ["광고"])


def test_keyword_fingerprint_changes_with_keywords_not_with_order() -> None:
    assert keyword_fingerprint(["a", "b"]) == keyword_fingerprint(["b", "a"])
    assert keyword_fingerprint(["a"]) != keyword_fingerprint(["a", "c"])
    assert keyword_fingerprint(["a"]) != keyword_fingerprint(["a"], ["x"])


def test_minhash_similarity_separates_rewrites_from_other_stories() -> None:
    base = (
        "과학기술정보통신부는 독자 AI 파운데이션 모델 프로젝트 1차 단계평가 결과 네 개 팀이 "
        "2차 단계로 진출했다고 밝혔다. 평가는 벤치마크와 전문가 평가, 사용자 평가로 이뤄졌으며 "
        "각 팀은 자체 개발한 모델을 공개했다. 정부는 내년 상반기 2차 평가를 진행할 계획이다."
    )
    rewrite = base.replace("밝혔다", "발표했다").replace("계획이다", "예정이다")
    other = "한 통신사가 새 요금제를 출시했다. 데이터 제공량을 늘리고 가격은 그대로 유지했다. " * 3
    sig = minhash_signature(base)
    assert estimated_jaccard(sig, minhash_signature(rewrite)) > 0.5
    assert estimated_jaccard(sig, minhash_signature(other)) < 0.2
    assert len(band_hashes(sig, 6)) == 21


def test_double_escaped_entities_decode_fully() -> None:
    assert normalize_text("&amp;#x27;국가대표 AI&amp;#x27; 첫 공개") == "'국가대표 AI' 첫 공개"
    assert normalize_body("a &amp;amp;lt; b") == normalize_body(normalize_body("a &amp;amp;lt; b"))


@given(st.text())
def test_normalize_body_is_idempotent(text: str) -> None:
    once = normalize_body(text)
    assert normalize_body(once) == once


@given(st.text(alphabet=st.sampled_from(["가", "나", "A", " ", "\t", "\u00a0", "\n", "."])))
def test_normalize_body_ignores_whitespace_layout(text: str) -> None:
    spaced = text.replace(" ", "   ").replace("\n", "\n\n  ")
    assert normalize_body(spaced) == normalize_body(text)


@given(st.text())
def test_normalize_text_is_single_line_and_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert "\n" not in once
    assert normalize_text(once) == once
