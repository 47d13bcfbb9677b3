"""Deterministic generated articles for benchmarks (/gen/...), with known duplicates.

Generated article ``i`` (0 ≤ i < N) is a function of ``i`` alone. Duplicates are placed so a
benchmark can compute the expected dedupe result from :func:`duplicate_source`:

* ``i % 10 == 7``: an *exact* copy of article ``i - 1`` (same title and body, other outlet,
  other oid/aid, other time), like a wire story republished verbatim.
* ``i % 10 == 8``: a *light rewrite* of article ``i - 2``: "[종합]" title prefix, the lead's
  sentences swapped, the fourth paragraph dropped, a few verbs replaced. Near-duplicate, not equal.
* every other index is an original.

Each article has two pages: a Naver-layout copy (``/gen/naver/{i}``, whose 기사원문 link is the
publisher page) and the outlet's own page (``/gen/publisher/{i}``). The Naver copy opens its
``#dic_area`` the way saved Naver pages do (:data:`NAVER_HEADS`): a sub-headline and photo, a
video player, or the bare text; the sub-headline, captions and player are not body text.
Listings link one of them: ``naver``, ``publisher`` or ``mix``, where :func:`gen_layout` picks
per index (even indexes Naver, odd ones the publisher), so an exact copy (odd) is a publisher
page repeating a Naver page.

Everything is a function of the index, so a corpus of 100k articles costs nothing until asked:
docs are regenerated on demand (about 0.3 ms each) and only the most recent few thousand are kept.

Generated text talks about models, scores, GPUs and partners but never states a stage outcome
(no 탈락/진출/선정 as facts), so benchmarks of fact extraction are not polluted by fake events.
Its sentences draw a new partner, domain, product, person or number every two or three words,
so unrelated articles share few word 3-shingles (Jaccard ≈ 0.04, as real articles about
different events), while a rewrite keeps ≈ 0.85 with its source: near-duplicate detection
meets a realistic load, not one where every article resembles every other.
"""

from __future__ import annotations

import functools
import random
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from tracker.world.content import Publisher
from tracker.world.dates import KST

GEN_START = datetime(2026, 3, 2, 9, 0, tzinfo=KST)
GEN_STEP = timedelta(minutes=11)
GEN_PRESSES = (
    ("오늘의AI", "951"),
    ("코리아테크", "952"),
    ("미래일보", "953"),
    ("데이터저널", "954"),
    ("산업경제신문", "955"),
    ("AI브리핑", "956"),
    ("테크인사이트", "957"),
    ("디지털데일리뉴스", "958"),
)
_TEAMS = (
    ("LG AI연구원", "K-EXAONE", "2360억"),
    ("SK텔레콤", "A.X K1", "5000억"),
    ("업스테이지", "Solar Open 100B", "1026억"),
    ("네이버클라우드", "HyperCLOVA X SEED 32B Think", "320억"),
    ("NC AI", "VAETKI", "1130억"),
    ("모티프테크놀로지스", "Motif-3", "3140억"),
)
_PARTNERS = (
    "서울아산병원",
    "한빛금융지주",
    "경기도청",
    "대한조선",
    "법무법인 정음",
    "에듀온",
    "한국전력",
    "새봄물류",
    "누리보험",
    "세종시청",
    "미래반도체",
    "하나로통신",
    "푸른제약",
    "대성건설",
    "한결회계법인",
    "국립중앙도서관",
    "바른교육청",
    "온누리쇼핑",
    "한울자동차",
    "청담게임즈",
    "도담은행",
    "국민건강보험공단",
    "한국도로공사",
    "서해화학",
    "가온전자",
    "나래항공",
    "다솜카드",
    "마루증권",
    "바다해운",
    "사랑병원",
    "아름방송",
    "자람학원",
    "차세대로보틱스",
    "큰빛에너지",
    "태양광협회",
    "파란클라우드",
    "한국기상공단",
    "별빛엔터",
    "초록농협",
    "은하철강",
)
_REPORTERS = ("김도현", "이서진", "박민재", "정하린", "최윤호", "한지우", "오세린", "윤태경")
_TITLES = (
    "{team}, '{model}' 성능 개선…{params} 파라미터로 한국어 능력 강화",
    "독파모 참여 {team}, 산업 특화 모델 개발 속도",
    '{model} 벤치마크 {score}점…{team} "추론 능력 개선"',
    "국대 AI 경쟁 속 {team}, GPU {gpus}장 추가 확보",
    "{team}, {partner}와 AI 협력 확대…'{model}' 현장 적용",
    '[인터뷰] {team} 개발 총괄 "{model}은 시작일 뿐"',
    "독자 AI 파운데이션 모델 {team} 개발 현황 점검",
    "{team} '{model}' 경량화 버전 공개 예고",
    "{team}, 학습 데이터 {n}만 건 추가…독자 AI 고도화",
    "\"한국어는 우리가 최고\"…{team} '{model}' 자신감",
)
_DOMAINS = (
    "의료 영상 판독",
    "법률 문서 검토",
    "금융 상담",
    "제조 공정 관리",
    "콜센터 상담",
    "교육 콘텐츠 제작",
    "공공 민원 처리",
    "물류 경로 최적화",
    "신약 후보 탐색",
    "기상 예측",
    "농업 생산 관리",
    "게임 시나리오 작성",
    "상품 추천",
    "보험 심사",
    "특허 분석",
    "회계 감사",
    "반도체 설계 검증",
    "에너지 수요 예측",
    "교통 신호 제어",
    "국방 정보 분석",
    "뉴스 요약",
    "전문 번역",
    "코딩 보조",
    "음성 비서",
    "건강 상담",
    "부동산 시세 분석",
    "여행 일정 추천",
    "채용 서류 검토",
    "고객 리뷰 분석",
    "보안 관제",
    "선박 설계",
    "건축 도면 검토",
    "세무 신고",
    "도서 추천",
    "방송 자막 생성",
    "재난 대응",
    "수질 관리",
    "철강 품질 검사",
    "항공 정비 기록",
    "전력망 운영",
    "법원 판결문 검색",
    "약관 비교",
    "학술 논문 요약",
    "주식 공시 분석",
    "의료 기록 정리",
    "민원 전화 응대",
    "스마트팜 제어",
    "물류 창고 관리",
    "자동차 결함 분석",
    "화학 공정 시뮬레이션",
)
_PRODUCTS = (
    "상담 챗봇",
    "문서 요약 도구",
    "검색 서비스",
    "코딩 에이전트",
    "번역 엔진",
    "분석 대시보드",
    "음성 인식 모듈",
    "추천 시스템",
    "업무 비서",
    "개발자용 API",
    "경량 모델",
    "온디바이스 모델",
    "멀티모달 모델",
    "추론 엔진",
    "데이터 정제 파이프라인",
    "평가 도구",
    "보고서 작성 도구",
    "질의응답 서비스",
    "사내 검색 엔진",
    "모바일 앱",
    "교육용 튜터",
    "고객센터 솔루션",
    "문서 작성 도우미",
    "이미지 설명 기능",
    "회의록 정리 기능",
)
_METRICS = (
    "응답 정확도",
    "추론 속도",
    "한국어 이해력",
    "수학 풀이 능력",
    "코드 생성 정확도",
    "환각 비율",
    "처리량",
    "전력 효율",
    "학습 비용",
    "응답 지연 시간",
    "긴 문서 이해력",
    "지시 이행률",
    "안전성 점수",
    "다국어 성능",
    "표 해석 능력",
)
_PLACES = (
    "판교",
    "서울 강남",
    "대전 대덕",
    "광주",
    "부산 센텀",
    "세종",
    "인천 송도",
    "수원",
    "대구 수성",
    "울산",
    "제주",
    "춘천",
    "청주 오송",
    "전주",
    "창원",
    "평택",
    "구미",
    "여수",
)
_ROLES = (
    "연구소장",
    "개발총괄",
    "최고기술책임자",
    "책임연구원",
    "데이터팀장",
    "사업본부장",
    "교수",
    "수석연구원",
    "전략담당 상무",
    "플랫폼 리더",
    "인프라팀장",
    "대표",
)
_SURNAMES = "김이박최정강조윤장임한오서신권황안송전홍"
_GIVEN = (
    "민준",
    "서연",
    "지호",
    "하은",
    "도윤",
    "지우",
    "시우",
    "서윤",
    "주원",
    "하린",
    "예준",
    "수아",
    "건우",
    "지안",
    "우진",
    "채원",
    "현우",
    "다은",
    "선우",
    "유나",
    "정훈",
    "미경",
    "성민",
    "혜진",
    "태현",
    "은지",
    "동욱",
    "소영",
    "재원",
    "나연",
)
_SLOT_CHOICES: dict[str, tuple[str, ...]] = {
    "partner": _PARTNERS,
    "domain": _DOMAINS,
    "product": _PRODUCTS,
    "metric": _METRICS,
    "place": _PLACES,
    "role": _ROLES,
    "say": ("밝혔다", "설명했다", "전했다", "강조했다", "덧붙였다", "말했다", "내다봤다"),
    "plan": ("계획이다", "방침이다", "예정이다"),
    "better": ("개선됐다", "높아졌다", "향상됐다", "좋아졌다"),
    "when": ("올해 안에", "내년 상반기", "연말까지", "다음 분기", "하반기 중", "상반기 중"),
}
# The lead names the programme (every generated article passes the keyword filter).
_LEADS = (
    "{team:은} 독자 AI 파운데이션 모델 프로젝트에서 개발 중인 '{model}'의 {domain} 성능을 "
    "{pct}% 끌어올렸다고 {day}일 밝혔다.",
    "{team:은} {day}일 '{model}'의 {metric} 개선 결과를 공개했다. 독자 AI 파운데이션 모델"
    "(독파모) 프로젝트 참여 기업 가운데 {month}월 들어 {k}번째 발표다.",
    "독자 AI 파운데이션 모델 프로젝트에 참여하고 있는 {team:은} {day}일 '{model}' 기반 "
    "{product} 계획을 구체화했다.",
    "{place}에서 {day}일 열린 행사에서 {team:은} 독자 AI 파운데이션 모델 '{model}'의 "
    "{domain} 적용 사례를 소개했다.",
    "독파모 참여 기업 {team:이} {day}일 {partner:과} 손잡고 독자 AI 파운데이션 모델 "
    "'{model}'{model_o} {domain}에 쓰기로 했다.",
)
# Slots change every two or three words, so two articles share few word 3-shingles unless one
# copies the other (as real articles about different events do); the rewrites stay close.
_SENTENCES = (
    "{team:은} {domain} 분야 {product:을} {when} 선보일 {plan}",
    "{model:은} {params} 파라미터 규모로 {domain} 데이터 {n}만 건을 추가 학습했다.",
    '{role} {person:은} "{metric:이} {pct}% {better}"고 {say}',
    "{partner} 측은 {product} 시범 운영 뒤 {domain} 처리 시간이 {pct}% 줄었다고 {say}",
    "{team:은} {place} 데이터센터에 GPU {gpus}장을 {when} 추가로 들일 {plan}",
    "{model}의 {metric} 점수는 {max}점 만점에 {score}점으로 집계됐다.",
    "{partner:과} {team:은} {domain} 전용 {product:을} {month}월 {day}일부터 함께 시험한다.",
    "{role} {person:은} {place} 행사에서 {model}의 {metric:을} 직접 시연했다.",
    "{team:은} {k}개 {domain} 과제에서 {model:을} 검증했다고 {say}",
    '{person} {role:은} "{domain}에서는 {metric:이} 관건"이라고 {say}',
    "{model}의 컨텍스트 길이는 {ctx}만 토큰이며 {product}에 우선 적용된다.",
    "{partner} {domain} 부서 직원 {people}명이 {month}월부터 {product:을} 쓰고 있다.",
    "{team:은} {domain} 학습 데이터 {n}만 건을 {partner}에서 넘겨받았다.",
    "{place}의 {partner} 연구진은 {model:과} {product:을} 묶어 {domain}에 투입했다.",
    "{team} 관계자는 {when} {model} 경량판을 {product}용으로 내놓을 {plan}",
    "{month}월 {day}일 기준 {model:은} {metric}에서 {pct}% 앞선 것으로 집계됐다.",
    "{team:은} {won}억 원을 {domain} 연구에 {when} 쓰기로 했다.",
    "{partner:은} {model} 기반 {product} 도입 뒤 민원 {n}건을 자동 분류했다.",
    "{role} {person:은} {domain} 현장에서 {metric:이} 가장 중요하다고 {say}",
    "{team:은} {place}에 {domain} 연구 인력 {people}명을 {when} 배치할 {plan}",
    "{model} 개발진은 {metric:을} 높이려고 {domain} 문서 {n}만 건을 정제했다.",
    "{partner:과}의 {domain} 실증은 {month}월 {day}일 {place}에서 시작된다.",
    "{person} {role:은} {product} 이용자가 {people}만 명을 넘었다고 {say}",
    "{team:은} {model}의 {metric:을} {k}주마다 공개할 {plan}",
    "{domain} 분야 고객 {people}곳이 {model} 기반 {product:을} 쓰고 있다.",
    "{partner:은} {domain} 업무의 {pct}%를 {product:으로} 처리한다고 {say}",
    "{model:은} {domain} 시험에서 {max}점 만점에 {score}점을 얻었다.",
    "{team:은} {place} 센터의 GPU {gpus}장으로 {model} 차기판을 학습하고 있다.",
    "{role} {person:은} {partner:과} {domain} 협력을 {when} 넓힐 {plan}",
    "{team} {role} {person:은} {product} 요금을 {pct}% 낮추겠다고 {say}",
)
_REWRITES = (
    ("밝혔다", "설명했다"),
    ("계획이다", "방침이다"),
    ("전해졌다", "알려졌다"),
    ("내다봤다", "전망했다"),
)
_DIGIT_BATCHIM = set("0136778")  # 영, 일, 삼, 육, 칠, 팔 end in a consonant
_LETTER_BATCHIM = set("LMNRlmnr")


def _has_batchim(word: str) -> bool:
    last = word.rstrip(" ')\"")[-1]
    if "가" <= last <= "힣":
        return (ord(last) - 0xAC00) % 28 != 0
    if last.isdigit():
        return last in _DIGIT_BATCHIM
    return last in _LETTER_BATCHIM


def _ends_in_rieul(word: str) -> bool:
    last = word[-1]
    return "가" <= last <= "힣" and (ord(last) - 0xAC00) % 28 == 8


def josa(word: str, with_batchim: str, without: str) -> str:
    """Return ``word`` plus the Korean particle that fits its last sound (은/는, 을/를 …)."""
    return word + (with_batchim if _has_batchim(word) else without)


# How a Naver copy's #dic_area begins, weighted by how many of the saved Naver article pages in
# ../shared/real-samples/naver_article begin that way (bench/extract_speed.py prints the count):
# a media_end_summary sub-headline plus an end_photo_org photo (뉴스1 2026, 뉴스1 2020), a
# vod_player_wrap video block (JTBC 2026), bare text with only <br>s (이데일리 2022). All four put
# the body text straight into the container, paragraphs split by <br><br>, with no <p>.
NaverHead = Literal["summary_photo", "video", "text"]
NAVER_HEADS: tuple[tuple[NaverHead, int], ...] = (("summary_photo", 2), ("video", 1), ("text", 1))
# One of the two pages that open with a photo has a second photo mid-body (뉴스1 2026).
MID_PHOTO_CHANCE = 0.5
_SUMMARIES = (
    "{team}, '{model}' {domain} 적용 확대",
    "'{model}' {metric} {pct}% 개선",
    "{partner:과} {product} 시범 운영",
    "{team}, {place}에 {domain} 연구 거점",
    '{team} "{metric}에서 앞서겠다"',
    "'{model}' 기반 {product} {when} 공개",
)
_CAPTIONS = (
    "{role} {person:이} {place}에서 열린 행사에서 '{model}'{model_o} 소개하고 있다. ({team} 제공)",
    "{team} 연구진이 {place} 데이터센터에서 GPU 서버를 점검하고 있다. ({team} 제공)",
    "'{model}' 기반 {product} 시연 화면. ({team} 제공)",
    "{partner} 직원이 {product:을} 시험하고 있다. ({partner} 제공)",
    "{place} {team} 사옥 전경. ({team} 제공)",
)

Layout = Literal["naver", "publisher"]
LAYOUTS = ("naver", "publisher", "mix")


def gen_layout(index: int, layout: str = "mix") -> Layout:
    """Return which page of article ``index`` a listing of ``layout`` links.

    ``mix`` alternates: even indexes link the Naver-layout copy, odd ones the publisher page.
    """
    if layout == "naver":
        return "naver"
    if layout == "publisher":
        return "publisher"
    if layout == "mix":
        return "naver" if index % 2 == 0 else "publisher"
    raise ValueError(f"layout must be one of {LAYOUTS}, got {layout!r}")


def duplicate_source(index: int) -> tuple[int, str] | None:
    """Return ``(source_index, "exact" | "rewrite")`` for duplicates, None for originals."""
    if index % 10 == 7:
        return index - 1, "exact"
    if index % 10 == 8:
        return index - 2, "rewrite"
    return None


@dataclass(frozen=True, slots=True)
class GenDoc:
    """One generated article."""

    index: int
    title: str
    paragraphs: tuple[str, ...]
    press: str
    oid: str
    aid: str
    published_at: datetime
    author: str
    email: str
    naver_head: NaverHead = "text"
    summary: str | None = None
    photo_caption: str | None = None
    mid_photo_caption: str | None = None

    @property
    def body(self) -> str:
        """Return the body as plain text, paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)


_SLOT = re.compile(r"\{(\w+)(?::(\w*))?\}")
# Particle pairs: (after a final consonant, after a vowel); 으로/로 also after ㄹ.
_PARTICLES = {
    "은": ("은", "는"),
    "이": ("이", "가"),
    "을": ("을", "를"),
    "과": ("과", "와"),
    "으로": ("으로", "로"),
}


def _number(name: str, rng: random.Random) -> str:
    if name == "n":
        return str(rng.randint(2, 990))
    if name == "pct":
        return str(rng.randint(3, 68))
    if name == "gpus":
        return str(64 * rng.randint(1, 64))
    if name == "month":
        return str(rng.randint(1, 12))
    if name == "day":
        return str(rng.randint(1, 28))
    if name == "score":
        return f"{rng.uniform(20, 39.9):.1f}"
    if name == "max":
        return "40"
    if name == "k":
        return str(rng.randint(3, 40))
    if name == "ctx":
        return rng.choice(("3.2", "6.4", "12.8", "25.6"))
    if name == "won":
        return str(rng.randint(12, 950))
    if name == "people":
        return str(rng.randint(12, 480))
    raise KeyError(name)


@functools.cache
def _parts(template: str) -> tuple[tuple[str, str, str | None], ...]:
    """Return ``template`` as (literal text before, slot name, particle) parts, the last one
    with an empty slot name."""
    parts = []
    last = 0
    for match in _SLOT.finditer(template):
        parts.append((template[last : match.start()], match.group(1), match.group(2)))
        last = match.end()
    parts.append((template[last:], "", None))
    return tuple(parts)


def _fill(template: str, fixed: dict[str, str], rng: random.Random) -> str:
    """Return ``template`` with each slot filled: article-wide values from ``fixed``, the rest
    drawn from ``rng`` (so each sentence varies), with the particle after ``:`` fitted."""
    out = []
    for literal, name, particle in _parts(template):
        out.append(literal)
        if not name:
            break
        if name in fixed:
            word = fixed[name]
        elif name in _SLOT_CHOICES:
            word = rng.choice(_SLOT_CHOICES[name])
        elif name == "person":
            word = rng.choice(_SURNAMES) + rng.choice(_GIVEN)
        else:
            word = _number(name, rng)
        if particle:
            with_batchim, without = _PARTICLES[particle]
            if particle == "으로" and _ends_in_rieul(word):
                word += without
            else:
                word = josa(word, with_batchim, without)
        out.append(word)
    return "".join(out)


def _original_text(index: int) -> tuple[str, tuple[str, ...]]:
    rng = random.Random(f"gen-{index}")
    team, model, params = rng.choice(_TEAMS)
    fixed = {
        "team": team,
        "model": model,
        "model_o": "을" if _has_batchim(model) else "를",
        "params": params,
    }
    title_slots = {
        "team": team,
        "model": model,
        "params": params,
        "partner": rng.choice(_PARTNERS),
        "score": f"{rng.uniform(24, 39):.1f}",
        "gpus": rng.choice((256, 512, 768, 1024)),
        "n": rng.randint(50, 900),
    }
    title = rng.choice(_TITLES).format(**title_slots)
    paragraphs = [_fill(rng.choice(_LEADS), fixed, rng)]
    templates = list(_SENTENCES)
    rng.shuffle(templates)
    sentences = iter(templates * 2)
    for _ in range(rng.randint(12, 18)):
        picked = [next(sentences) for _ in range(rng.randint(2, 3))]
        paragraphs.append(" ".join(_sentence(t, fixed, rng) for t in picked))
    return title, tuple(paragraphs)


def _sentence(template: str, fixed: dict[str, str], rng: random.Random) -> str:
    text = _fill(template, fixed, rng)
    return text if text.endswith(".") else text + "."


def _rewrite(title: str, paragraphs: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    lead = " ".join(reversed(re.split(r"(?<=[.!?])\s+", paragraphs[0])))
    rest = [p for i, p in enumerate(paragraphs[1:], start=1) if i != 3]
    changed = []
    for i, paragraph in enumerate(rest):
        if i % 2 == 0:
            for old, new in _REWRITES:
                paragraph = paragraph.replace(old, new)
        changed.append(paragraph)
    return f"[종합] {title.replace('…', ', ')}", (lead, *changed)


def _naver_extras(index: int, source: int) -> tuple[NaverHead, str | None, str | None, str | None]:
    """Return how the Naver copy of article ``index`` opens its body (head, sub-headline, lead
    photo caption, mid-body photo caption).

    The layout is drawn per page (an outlet's copy need not look like the wire original); the
    sub-headline and captions belong to the story, so a copy shares them with its ``source``.
    A separate seed keeps the article text (``gen-{i}``) as it was.
    """
    layout = random.Random(f"gen-naver-head-{index}")
    heads, weights = zip(*NAVER_HEADS, strict=True)
    head: NaverHead = layout.choices(heads, weights)[0]
    mid_photo = head == "summary_photo" and layout.random() < MID_PHOTO_CHANCE
    if head != "summary_photo":
        return head, None, None, None
    # The same first draw as _original_text, so the sub-headline names the article's team.
    team, model, _ = random.Random(f"gen-{source}").choice(_TEAMS)
    fixed = {"team": team, "model": model, "model_o": "을" if _has_batchim(model) else "를"}
    rng = random.Random(f"gen-naver-text-{source}")
    summary = _fill(rng.choice(_SUMMARIES), fixed, rng)
    caption = _fill(rng.choice(_CAPTIONS), fixed, rng)
    mid_caption = _fill(rng.choice(_CAPTIONS), fixed, rng) if mid_photo else None
    return head, summary, caption, mid_caption


def make_doc(index: int) -> GenDoc:
    """Return generated article ``index`` (see the module docstring for duplicates)."""
    source = duplicate_source(index)
    title, paragraphs = _original_text(source[0] if source else index)
    if source and source[1] == "rewrite":
        title, paragraphs = _rewrite(title, paragraphs)
    press, oid = GEN_PRESSES[index % len(GEN_PRESSES)]
    reporter = _REPORTERS[(index * 5) % len(_REPORTERS)]
    head, summary, caption, mid_caption = _naver_extras(index, source[0] if source else index)
    return GenDoc(
        index=index,
        title=title,
        paragraphs=paragraphs,
        press=press,
        oid=oid,
        aid=f"{1_000_000 + index:010d}",
        published_at=GEN_START + GEN_STEP * index,
        author=f"{reporter} 기자",
        email=f"reporter{index % 97}@gen{oid}.example",
        naver_head=head,
        summary=summary,
        photo_caption=caption,
        mid_photo_caption=mid_caption,
    )


def gen_publisher(doc: GenDoc) -> Publisher:
    """Return the synthetic outlet that publishes generated article ``doc``."""
    return Publisher(
        key=f"gen{doc.oid}",
        name=doc.press,
        name_en=f"Generated press {doc.oid}",
        oid=doc.oid,
        charset="utf-8",
        lang="ko",
        kind="daily",
        email_domain=f"gen{doc.oid}.example",
        body_class="article-body",
        naver_origin_query="",
        tagline="생성된 기사 모음",
    )


class Generated:
    """The generated corpus of one world: docs and rendered bytes kept in small LRUs.

    Memory stays bounded however large ``count`` is: a doc is cheap to regenerate.
    """

    def __init__(self, count: int, cache_size: int = 2048, doc_cache_size: int = 8192) -> None:
        self.count = count
        self._docs: OrderedDict[int, GenDoc] = OrderedDict()
        self._doc_cache_size = doc_cache_size
        self._rendered: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def doc(self, index: int) -> GenDoc:
        """Return generated article ``index`` (0 ≤ index < count)."""
        if not 0 <= index < self.count:
            raise IndexError(index)
        with self._lock:
            found = self._docs.get(index)
            if found is not None:
                self._docs.move_to_end(index)
                return found
        found = make_doc(index)
        with self._lock:
            self._docs[index] = found
            while len(self._docs) > self._doc_cache_size:
                self._docs.popitem(last=False)
        return found

    def now(self) -> datetime:
        """Return the clock of the generated corpus (shortly after its newest article)."""
        return GEN_START + GEN_STEP * max(self.count - 1, 0) + timedelta(minutes=30)

    def cached(self, kind: str, index: int) -> bytes | None:
        """Return previously rendered bytes for (kind, index), if still cached."""
        with self._lock:
            data = self._rendered.get((kind, index))
            if data is not None:
                self._rendered.move_to_end((kind, index))
            return data

    def store(self, kind: str, index: int, data: bytes) -> bytes:
        """Remember rendered bytes for (kind, index) and return them."""
        with self._lock:
            self._rendered[(kind, index)] = data
            while len(self._rendered) > self._cache_size:
                self._rendered.popitem(last=False)
        return data
