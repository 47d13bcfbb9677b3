"""Normalization, hashing, keyword matching and MinHash: examples and properties."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tracker.text import (
    _MIX,
    _SHINGLE_MULTIPLIERS,
    _WORD_BASE,
    band_hashes,
    content_hash,
    estimated_jaccard,
    keyword_fingerprint,
    matches_keywords,
    minhash_signature,
    normalize_body,
    normalize_text,
    shingle_hashes,
    signature_to_bytes,
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


# Near-duplicate cases shared with bench/neardup.py (grouping quality before/after).
REWRITE_BASE = (
    "과학기술정보통신부는 독자 AI 파운데이션 모델 프로젝트 1차 단계평가 결과 네 개 팀이 "
    "2차 단계로 진출했다고 밝혔다. 평가는 벤치마크와 전문가 평가, 사용자 평가로 이뤄졌으며 "
    "각 팀은 자체 개발한 모델을 공개했다. 정부는 내년 상반기 2차 평가를 진행할 계획이다."
)
REWRITE = REWRITE_BASE.replace("밝혔다", "발표했다").replace("계획이다", "예정이다")
OTHER_STORY = (
    "한 통신사가 새 요금제를 출시했다. 데이터 제공량을 늘리고 가격은 그대로 유지했다. " * 3
)


def test_minhash_similarity_separates_rewrites_from_other_stories() -> None:
    sig = minhash_signature(REWRITE_BASE)
    assert estimated_jaccard(sig, minhash_signature(REWRITE)) > 0.5
    assert estimated_jaccard(sig, minhash_signature(OTHER_STORY)) < 0.2
    assert len(band_hashes(sig, 6)) == 21


# -- the signature scheme, against a plain-Python statement of it ---------------------------

_M64 = (1 << 64) - 1


def _reference_words(text: str) -> list[list[int]]:
    """Words as lists of folded code points, one character at a time (what the table encodes)."""
    words: list[list[int]] = []
    current: list[int] = []
    for char in text:
        folded = char.casefold()
        if ord(char) > 0xFFFF:
            code = 0  # outside the BMP: a separator, like emoji
        elif len(folded) == 1 and (folded == "_" or folded.isalnum()):
            code = ord(folded)
        elif char == "_" or char.isalnum():
            code = ord(char)
        else:
            code = 0
        if code:
            current.append(code)
        elif current:
            words.append(current)
            current = []
    if current:
        words.append(current)
    return words


def _reference_shingles(text: str) -> list[int]:
    """shingle_hashes written with Python integers, one shingle at a time."""
    hashes = [
        sum(code * pow(_WORD_BASE, i, 1 << 64) for i, code in enumerate(word)) & _M64
        for word in _reference_words(text)
    ]
    m0, m1 = int(_SHINGLE_MULTIPLIERS[0]), int(_SHINGLE_MULTIPLIERS[1])
    if not hashes:
        return []
    if len(hashes) < 3:
        combined = hashes[0]
        for value in hashes[1:]:
            combined = (combined * m0 + value) & _M64
        shingles = [combined]
    else:
        shingles = [
            (a * m0 + b * m1 + c) & _M64
            for a, b, c in zip(hashes, hashes[1:], hashes[2:], strict=False)
        ]
    out = []
    for value in shingles:
        value ^= value >> 32
        out.append((value * int(_MIX)) & _M64)
    return out


_TEXT_CHARS = st.sampled_from(
    [*"가나다라 모델AIaiß_1 9.,\n\t", "\xa0", "\u3000", "Ǆ", "İ", "😀", "𠜎", "ﬁ"]
)


@given(st.text(alphabet=_TEXT_CHARS, max_size=80))
def test_shingle_hashes_equal_the_plain_python_definition(text: str) -> None:
    assert shingle_hashes(text).tolist() == _reference_shingles(text)


def test_shingle_hashes_of_a_text_longer_than_the_first_power_table() -> None:
    text = ("독파모 정예팀 2차 평가 " + REWRITE_BASE + "\n") * 500  # ~81,500 characters
    assert len(text) > 1 << 16
    assert shingle_hashes(text).tolist() == _reference_shingles(text)


@given(
    st.lists(st.sampled_from(["독자", "AI", "모델", "Solar", "2차", "평가", "x_1"]), max_size=12),
    st.lists(st.sampled_from([" ", ", ", "\n", " … ", "(", ") ", "\u00a0"]), min_size=12),
)
def test_shingles_are_the_regex_words_of_the_casefolded_text(
    words: list[str], separators: list[str]
) -> None:
    """The shingle set datasketch was fed before 0004: \\w+ words of text.casefold()."""
    text = "".join(w.upper() + sep for w, sep in zip(words, separators, strict=False))
    canonical = " ".join(re.findall(r"\w+", text.casefold()))
    assert shingle_hashes(text).tolist() == shingle_hashes(canonical).tolist()


def test_shingle_count_and_distinct_shingles_follow_the_word_triples() -> None:
    text = normalize_body(REWRITE_BASE + " " + REWRITE_BASE)
    words = re.findall(r"\w+", text.casefold())
    triples = list(zip(words, words[1:], words[2:], strict=False))
    hashes = shingle_hashes(text)
    assert len(hashes) == len(triples)
    assert len(set(hashes.tolist())) == len(set(triples))
    assert shingle_hashes("").tolist() == [] and shingle_hashes("… !").tolist() == []
    assert len(shingle_hashes("두 단어")) == 1


def _jaccard(first: str, second: str) -> float:
    a, b = set(shingle_hashes(first).tolist()), set(shingle_hashes(second).tolist())
    return len(a & b) / len(a | b)


def _paragraph(seed: int, sentences: int) -> str:
    rng = np.random.default_rng(seed)
    vocabulary = [f"{syllable}{i}" for syllable in "가나다라마바사아자차" for i in range(20)]
    return " ".join(" ".join(rng.choice(vocabulary, 8)) + "." for _ in range(sentences))


def test_signature_estimates_the_jaccard_similarity() -> None:
    """Pairs from identical to unrelated: the estimate tracks the exact shingle Jaccard."""
    errors = []
    for seed in range(12):
        base = _paragraph(seed, 30)
        sentences = base.split(". ")
        for keep in (30, 24, 18, 12, 6, 0):
            other = ". ".join(sentences[:keep]) + " " + _paragraph(100 + seed, 30 - keep)
            estimate = estimated_jaccard(minhash_signature(base), minhash_signature(other))
            errors.append(estimate - _jaccard(base, other))
    errors_array = np.array(errors)
    assert np.abs(errors_array).max() < 0.15
    assert abs(errors_array.mean()) < 0.02  # unbiased
    assert errors_array.std() < 0.06  # k = 128: sd ≤ sqrt(J(1-J)/128) ≈ 0.044


def test_short_texts_are_densified_and_consistent() -> None:
    short = minhash_signature("정부가 결과를 발표했다 오늘")  # two shingles, 128 bins
    assert len(set(short.tolist())) == 2  # every bin filled from the two non-empty ones
    assert signature_to_bytes(short) == signature_to_bytes(
        minhash_signature("정부가  결과를\n발표했다, 오늘.")
    )
    nothing = minhash_signature("… !")
    assert estimated_jaccard(nothing, minhash_signature("")) == 1.0  # no words: all alike
    assert estimated_jaccard(nothing, short) == 0.0
    assert len(minhash_signature(REWRITE_BASE, 64)) == 64


def test_signature_does_not_depend_on_the_process() -> None:
    """Stored signatures are compared across processes: no per-process hash seed may leak in."""
    code = (
        "import sys; from tracker.text import minhash_signature, signature_to_bytes;"
        "sys.stdout.write(signature_to_bytes(minhash_signature(sys.argv[1])).hex())"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code, REWRITE_BASE],
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert outputs == {signature_to_bytes(minhash_signature(REWRITE_BASE)).hex()}


def test_band_hashes_change_with_their_band_only() -> None:
    signature = minhash_signature(REWRITE_BASE)
    bands = band_hashes(signature, 6)
    assert len(bands) == 21 and all(-(2**63) <= b < 2**63 for b in bands)
    changed = signature.copy()
    changed[6 * 4 + 2] ^= np.uint64(1)
    other = band_hashes(changed, 6)
    assert [i for i in range(21) if bands[i] != other[i]] == [4]
    same_values = np.full(12, np.uint64(7))
    assert len(set(band_hashes(same_values, 6))) == 2  # equal bands, different positions


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
