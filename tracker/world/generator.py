"""Deterministic generated articles for benchmarks (/gen/...), with known duplicates.

Generated article ``i`` (0 ≤ i < N) is a function of ``i`` alone. Duplicates are placed so a
benchmark can compute the expected dedupe result from :func:`duplicate_source`:

* ``i % 10 == 7``: an *exact* copy of article ``i - 1`` (same title and body, other outlet,
  other oid/aid, other time), like a wire story republished verbatim.
* ``i % 10 == 8``: a *light rewrite* of article ``i - 2``: "[종합]" title prefix, the lead's
  sentences swapped, the fourth paragraph dropped, a few verbs replaced. Near-duplicate, not equal.
* every other index is an original.

Generated text talks about models, scores, GPUs and partners but never states a stage outcome
(no 탈락/진출/선정 as facts), so benchmarks of fact extraction are not polluted by fake events.
"""

from __future__ import annotations

import random
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

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
    "한 대형 병원",
    "국내 금융지주",
    "광역 지방자치단체",
    "제조 대기업",
    "대형 법무법인",
    "교육 플랫폼 기업",
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
_LEADS = (
    "{team_topic} 독자 AI 파운데이션 모델 프로젝트에서 개발 중인 '{model}'의 성능을 "
    "끌어올렸다고 {date}일 밝혔다. 독파모 참여 기업 가운데 최근 가장 활발하게 성과를 알리고 "
    "있는 곳 중 하나다.",
    "{team_topic} {date}일 '{model}'의 최신 학습 결과를 공개했다. 이번 발표는 독자 AI "
    "파운데이션 모델(독파모) 프로젝트의 다음 평가를 앞두고 나왔다.",
    "독자 AI 파운데이션 모델 프로젝트에 참여하고 있는 {team_topic} {date}일 '{model}' 개발 "
    "계획을 구체화했다. 회사는 한국어와 산업 데이터에 강한 모델을 목표로 하고 있다.",
)
_SENTENCES = (
    "{model}{model_topic} {params} 파라미터 규모로, 추론 단계에서는 일부 전문가 모듈만 활성화한다.",
    "회사 측은 {month}월까지 학습 데이터를 {n}만 건 추가로 확보할 계획이다.",
    "업계에서는 그래픽처리장치(GPU) 확보 경쟁이 한층 치열해질 것으로 보고 있다.",
    '한 관계자는 "데이터 품질이 결국 모델 성능을 좌우한다"고 말했다.',
    "{team_topic} {partner}와 협력해 산업별 특화 모델을 함께 만들고 있다.",
    "벤치마크 평가에서 {model}{model_subject} {max_score}점 만점 중 {score}점을 받은 것으로 "
    "전해졌다.",
    "이 모델은 수학, 코딩, 법률 문서 요약 등 {k}개 분야 평가 데이터셋으로 검증을 거쳤다.",
    "과학기술정보통신부는 독자 AI 파운데이션 모델 프로젝트 참여 기업에 대한 지원을 이어가고 있다.",
    "전문가들은 한국어 특화 모델이 공공 분야에서 먼저 성과를 낼 것으로 내다봤다.",
    "연구진은 학습 효율을 {pct}% 높이는 새로운 병렬화 기법을 적용했다고 설명했다.",
    "오픈소스 공개 범위를 두고는 업계의 의견이 엇갈린다.",
    "{team_topic} 올해 안에 {model}{model_object} 기반으로 한 기업용 서비스를 출시할 예정이다.",
    "해외 빅테크와의 격차를 줄이려면 장기적인 투자가 필요하다는 지적도 나온다.",
    "국내 AI 반도체 기업들과의 협력도 점차 넓어지는 추세다.",
    "정부는 공공 데이터 개방을 늘려 학습 데이터 부족 문제를 풀겠다는 방침이다.",
    '{partner} 관계자는 "실제 업무 환경에서 쓸 수 있는 모델이 중요하다"고 강조했다.',
    "회사는 모델 경량화 버전도 함께 준비하고 있다고 덧붙였다.",
    "{model}의 컨텍스트 길이는 {ctx}만 토큰으로 늘어났다.",
    "개발진은 안전성 점검을 위해 외부 전문가로 구성된 레드팀을 운영하고 있다.",
    "최근에는 GPU {gpus}장을 추가로 임대해 학습 속도를 높였다.",
    "사용자 평가에 참여한 시민들은 답변의 자연스러움을 높게 평가한 것으로 알려졌다.",
    "다만 긴 문서를 요약할 때 사실과 다른 내용을 덧붙이는 문제는 아직 남아 있다.",
    "회사는 다음 분기 중 모델 가중치 일부를 연구용으로 공개하는 방안도 검토하고 있다.",
    '업계 관계자는 "모델 규모보다 실제 활용 사례가 더 중요해지고 있다"고 전했다.',
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


def josa(word: str, with_batchim: str, without: str) -> str:
    """Return ``word`` plus the Korean particle that fits its last sound (은/는, 을/를 …)."""
    return word + (with_batchim if _has_batchim(word) else without)


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

    @property
    def body(self) -> str:
        """Return the body as plain text, paragraphs separated by blank lines."""
        return "\n\n".join(self.paragraphs)


def _original_text(index: int) -> tuple[str, tuple[str, ...]]:
    rng = random.Random(f"gen-{index}")
    team, model, params = rng.choice(_TEAMS)
    slots = {
        "team": team,
        "team_topic": josa(team, "은", "는"),
        "model": model,
        "model_topic": "은" if _has_batchim(model) else "는",
        "model_subject": "이" if _has_batchim(model) else "가",
        "model_object": "을" if _has_batchim(model) else "를",
        "params": params,
        "partner": rng.choice(_PARTNERS),
        "score": f"{rng.uniform(24, 39):.1f}",
        "max_score": 40,
        "gpus": rng.choice((256, 512, 768, 1024)),
        "n": rng.randint(50, 900),
        "month": rng.randint(4, 12),
        "k": rng.randint(6, 24),
        "pct": rng.randint(8, 45),
        "ctx": rng.choice((3.2, 6.4, 12.8)),
        "date": rng.randint(1, 28),
    }
    title = rng.choice(_TITLES).format(**slots)
    paragraphs = [rng.choice(_LEADS).format(**slots)]
    for _ in range(rng.randint(12, 18)):
        picked = rng.sample(_SENTENCES, rng.randint(2, 3))
        paragraphs.append(" ".join(s.format(**slots) for s in picked))
    return title, tuple(paragraphs)


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


def make_doc(index: int) -> GenDoc:
    """Return generated article ``index`` (see the module docstring for duplicates)."""
    source = duplicate_source(index)
    title, paragraphs = _original_text(source[0] if source else index)
    if source and source[1] == "rewrite":
        title, paragraphs = _rewrite(title, paragraphs)
    press, oid = GEN_PRESSES[index % len(GEN_PRESSES)]
    reporter = _REPORTERS[(index * 5) % len(_REPORTERS)]
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
    """The generated corpus of one world: docs are memoised, rendered bytes kept in an LRU."""

    def __init__(self, count: int, cache_size: int = 2048) -> None:
        self.count = count
        self._docs: dict[int, GenDoc] = {}
        self._rendered: OrderedDict[tuple[str, int], bytes] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def doc(self, index: int) -> GenDoc:
        """Return generated article ``index`` (0 ≤ index < count)."""
        if not 0 <= index < self.count:
            raise IndexError(index)
        found = self._docs.get(index)
        if found is None:
            found = self._docs.setdefault(index, make_doc(index))
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
