"""Render Naver article pages, publisher article/home pages and the index page as HTML."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from html import escape
from typing import Any

import yaml
from markupsafe import Markup

from tracker.world.content import DATA_DIR, Publisher, WorldArticle
from tracker.world.dates import KST, iso_kst, naver_attr, naver_text, publisher_text
from tracker.world.templates import render

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class PageDoc:
    """What an article page needs, whether it comes from the storyline or the generator."""

    title: str
    paragraphs: tuple[str, ...]
    press: str
    published_at: datetime
    modified_at: datetime | None
    author: str | None
    email: str | None
    section: str
    sid: int
    seed: int
    title_html: str | None = None
    summary: str | None = None
    photo_caption: str | None = None
    oid: str | None = None
    aid: str | None = None
    # Naver layout only: a video player opening the body, a second photo mid-body.
    video: bool = False
    mid_photo_caption: str | None = None


@cache
def _chrome_data() -> dict[str, list[str]]:
    data: dict[str, list[str]] = yaml.safe_load(
        (DATA_DIR / "chrome.yaml").read_text(encoding="utf-8")
    )
    return data


def description(paragraphs: Sequence[str], limit: int = 150) -> str:
    """Return the first ``limit`` characters of the body as one line (og:description style)."""
    return _SPACE.sub(" ", " ".join(paragraphs)).strip()[:limit]


def doc_from_article(article: WorldArticle) -> PageDoc:
    """Return the page fields of a storyline article."""
    return PageDoc(
        title=article.title,
        title_html=article.title_html,
        paragraphs=article.paragraphs,
        press=article.publisher.name,
        published_at=article.published_at,
        modified_at=article.modified_at,
        author=article.author,
        email=article.email,
        section=article.section,
        sid=article.sid,
        seed=sum(ord(ch) for ch in article.id),
        summary=article.summary,
        photo_caption=article.photo_caption,
        oid=article.oid,
        aid=article.aid,
    )


def naver_origin_url(article: WorldArticle, base: str) -> str:
    """Return the 기사원문 link: the publisher URL plus the outlet's referral tracking query."""
    url = article.publisher_url(base)
    extra = article.publisher.naver_origin_query
    if not extra:
        return url
    return f"{url}{'&' if '?' in url else '?'}{extra}"


def _naver_photo_html(number: int, caption_text: str, image_url: str) -> str:
    caption = escape(caption_text)
    return (
        '<span class="end_photo_org"><div class="nbd_im_w _LAZY_LOADING_WRAP">\n'
        f'\t<div class="nbd_a _LAZY_LOADING_ERROR_HIDE" id="img_a{number}">\n'
        f'\t\t<img id="img{number}" data-src="{escape(image_url)}" class="_LAZY_LOADING '
        f'_LAZY_LOADING_INIT_HIDE" alt="{caption}" style="display: none;" />\n'
        "\t</div>\n"
        f'</div><em class="img_desc">{caption}</em></span>'
    )


# A broadcaster's player as saved pages have it before the script is run (no text inside).
_NAVER_VIDEO = (
    '<div class="vod_player_wrap _VIDEO_AREA_WRAP">\n'
    '\t<div class="VOD_PLAYER_ERROR_WRAP"></div>\n'
    '\t<div id="video_area_0" class="video_area _VIDEO_AREA"></div>\n'
    "</div>\n"
)


def _naver_body_html(doc: PageDoc, image_url: str) -> Markup:
    # Naver's #dic_area as in saved pages: optional video player (then one <br>), or optional
    # summary and photo block (then <br><br>), then the text straight in the container,
    # paragraphs joined by <br><br>, an optional second photo between two paragraphs.
    parts: list[str] = []
    if doc.summary:
        parts.append(f'<strong class="media_end_summary">{escape(doc.summary)}</strong>')
    if doc.photo_caption:
        parts.append(_naver_photo_html(1, doc.photo_caption, image_url))
    paragraphs = [escape(p, quote=False) for p in doc.paragraphs]
    if doc.mid_photo_caption and len(paragraphs) > 1:
        middle = len(paragraphs) // 2
        second = image_url.replace("_001.", "_002.")
        photo = _naver_photo_html(2, doc.mid_photo_caption, second)
        paragraphs[middle - 1 : middle + 1] = [
            f"{paragraphs[middle - 1]}<br><br>{photo}<br><br>{paragraphs[middle]}"
        ]
    text = "<br><br>".join(paragraphs)
    if doc.video:
        return Markup(f"{_NAVER_VIDEO}<br>{text}")
    head = "".join(parts)
    return Markup(f"{head}<br><br>{text}" if head else text)


_REACTIONS = (
    ("useful", "쏠쏠정보"),
    ("wow", "흥미진진"),
    ("touched", "공감백배"),
    ("analytical", "분석탁월"),
    ("recommend", "후속강추"),
)
_SERVICES = (
    ("엔터", "entertain"),
    ("스포츠", "sports"),
    ("날씨", "weather"),
    ("프리미엄", "premium"),
)
_LNB = (
    ("언론사별", "press", 0),
    ("정치", "pol", 100),
    ("경제", "eco", 101),
    ("사회", "soc", 102),
    ("생활/문화", "lif", 103),
    ("IT/과학", "it", 105),
    ("세계", "wor", 104),
    ("랭킹", "rank", 0),
    ("신문보기", "paper", 0),
    ("오피니언", "opi", 110),
    ("TV", "tv", 0),
    ("팩트체크", "fact", 0),
)
_FONT_SIZES = ("작게", "보통", "크게", "아주크게", "최대크게")
_SHARE = (
    ("band", "밴드"),
    ("kakao", "카카오톡"),
    ("facebook", "페이스북"),
    ("x", "X"),
    ("mail", "메일"),
    ("url", "URL복사"),
)
_AD_UNITS = (
    "p_news_newsend",
    "p_news_sidebox",
    "p_news_newsend_feed",
    "p_news_article_body",
    "p_news_article_bottom",
    "p_news_aside_1",
    "p_news_aside_2",
)
_BOXES = (
    ("RANKING_PRESS", "언론사별 많이 본 뉴스", "최근 1시간 동안 많이 본 기사를 집계합니다.", "rkp"),
    ("RANKING_SECTION", "분야별 많이 본 뉴스", "섹션별로 많이 본 기사를 보여줍니다.", "rks"),
    (
        "FEED_ARTICLE_NEXT",
        "함께 볼만한 뉴스",
        "이용자의 관심사를 바탕으로 추천한 기사입니다.",
        "nxt",
    ),
)


def _ranking_boxes(rng: random.Random) -> list[dict[str, Any]]:
    chrome = _chrome_data()
    boxes = []
    for template_id, title, help_text, clk in _BOXES:
        items = [
            {
                "title": rng.choice(chrome["headlines"]),
                "press": rng.choice(chrome["press"]),
                "ago": f"{rng.randint(1, 23)}시간 전",
            }
            for _ in range(7)
        ]
        boxes.append(
            {
                "template_id": template_id,
                "title": title,
                "help": help_text,
                "entries": items,
                "clk": clk,
            }
        )
    return boxes


def render_naver(
    doc: PageDoc,
    *,
    press_home: str,
    origin_url: str,
    linked: Sequence[tuple[str, str]],
    now: datetime,
) -> str:
    """Return a modern n.news.naver.com article page for ``doc`` (oid/aid required)."""
    if doc.oid is None or doc.aid is None:
        raise ValueError("a Naver page needs oid and aid")
    rng = random.Random(doc.seed)
    image_url = f"/static/img/news/{doc.oid}/{doc.aid}_001.jpg"
    age = max(0, int((now - doc.published_at).total_seconds() // 60))
    view: dict[str, Any] = {
        "title": doc.title,
        "oid": doc.oid,
        "aid": doc.aid,
        "sid": doc.sid,
        "second_sid": "228" if doc.sid == 105 else "230",
        "gdid": f"{int(doc.oid) * 91021 % 10**8:08d}_{int(doc.aid):024d}",
        "hash_aid": f"{(int(doc.aid) * 2654435761) % 16**16:016x}",
        "press": doc.press,
        "press_category": "종합/통신사",
        "press_home": press_home,
        "origin_url": origin_url,
        "author": doc.author,
        "journalist_id": 70000 + doc.seed % 9000,
        "email": doc.email,
        "date_attr": naver_attr(doc.published_at),
        "date_text": naver_text(doc.published_at),
        "age_minutes": age,
        "modify_attr": naver_attr(doc.modified_at) if doc.modified_at else None,
        "modify_text": naver_text(doc.modified_at) if doc.modified_at else None,
        "modify_age_minutes": (
            max(0, int((now - doc.modified_at).total_seconds() // 60)) if doc.modified_at else 0
        ),
        "body_html": _naver_body_html(doc, image_url),
        "description": description(doc.paragraphs),
        "og_image": image_url,
        "section": doc.section,
        "comment_count": rng.randint(0, 480),
        "build_id": "20260101-world",
        "svt": now.astimezone(KST).strftime("%Y%m%d%H%M%S.000"),
    }
    return render(
        "naver_article.html.j2",
        a=view,
        linked=list(linked),
        reactions=[(code, label, rng.randint(0, 90)) for code, label in _REACTIONS],
        ranking_boxes=_ranking_boxes(rng),
        ad_units=_AD_UNITS,
        services=_SERVICES,
        lnb=_LNB,
        font_sizes=_FONT_SIZES,
        share_targets=_SHARE,
        page_config=[(f"flag{i}", "true" if i % 3 else "false") for i in range(12)],
    )


_LABELS = {
    "ko": {
        "skip": "본문 바로가기",
        "util": ["로그인", "회원가입", "모바일웹", "기사제보", "구독신청"],
        "search": "검색",
        "breaking": "속보",
        "most_viewed": "많이 본 뉴스",
        "footer_menu": [
            "회사소개",
            "광고문의",
            "제휴문의",
            "개인정보처리방침",
            "청소년보호정책",
            "이메일무단수집거부",
        ],
        "home": "홈",
        "by": "",
        "published": "입력",
        "updated": "수정",
        "share": ["페이스북", "카카오톡", "X", "링크복사", "인쇄"],
        "rights": "저작권자 ⓒ 무단전재 및 재배포, AI 학습 및 활용 금지",
        "related": "관련기사",
        "latest": "최신기사",
        "empty": "등록된 기사가 없습니다.",
    },
    "en": {
        "skip": "Skip to content",
        "util": ["Sign in", "Subscribe", "Newsletters", "Contact"],
        "search": "Search",
        "breaking": "Breaking",
        "most_viewed": "Most read",
        "footer_menu": ["About us", "Advertise", "Privacy policy", "Terms of use", "Corrections"],
        "home": "Home",
        "by": "By ",
        "published": "Published",
        "updated": "Updated",
        "share": ["Facebook", "X", "LinkedIn", "Copy link", "Print"],
        "rights": "All rights reserved. No reproduction or AI training without permission.",
        "related": "Related stories",
        "latest": "Latest news",
        "empty": "No stories yet.",
    },
}
_NAV = {
    "ko": ["정치", "경제", "사회", "국제", "IT·과학", "문화", "스포츠", "오피니언", "포토"],
    "en": ["National", "Business", "Technology", "World", "Culture", "Opinion"],
    "gov": ["알림·소식", "보도자료", "정책·정보", "정보공개", "국민소통", "기관소개"],
}


def site_context(
    publisher: Publisher, base: str, now: datetime, rss_url: str | None = None
) -> dict[str, Any]:
    """Return the chrome (header, nav, sidebar, footer) of ``publisher``'s site."""
    rng = random.Random(publisher.key)
    chrome = _chrome_data()
    lang = publisher.lang
    labels = _LABELS[lang]
    nav = _NAV["gov"] if publisher.official else _NAV[lang]
    local = now.astimezone(KST)
    today = local.strftime("%A, %B %d, %Y") if lang == "en" else f"{local:%Y년 %m월 %d일}"
    if publisher.official:
        footer = [
            "(30121) 세종특별자치시 가름로 194 정부세종청사",
            "대표전화 1335 (평일 09:00~18:00)",
        ]
        copyright_line = f"Copyright ⓒ {publisher.name_en}. All rights reserved."
    else:
        footer = [
            f"{publisher.name} | 주소: 서울특별시 중구 세종대로 {rng.randint(10, 200)}",
            f"등록번호: 서울 아 {rng.randint(10000, 99999)} | 발행·편집인: {publisher.name} 편집국",
            f"대표전화: 02-{rng.randint(100, 999)}-{rng.randint(1000, 9999)} "
            "| 청소년보호책임자: 편집국장",
        ]
        copyright_line = f"Copyright ⓒ {local.year} {publisher.name}. All rights reserved."
    return {
        "key": publisher.key,
        "name": publisher.name,
        "lang": lang,
        "locale": "en_US" if lang == "en" else "ko_KR",
        "meta_charset": "euc-kr" if publisher.is_euckr else "utf-8",
        "tagline": publisher.tagline,
        "home_url": f"{base}/pub/{publisher.key}/",
        "rss_url": rss_url or f"{base}/rss/{publisher.key}.xml",
        "body_class": publisher.body_class,
        "labels": labels,
        "nav": nav,
        "ticker": rng.sample(chrome["headlines"], 3),
        "most_viewed": rng.sample(chrome["headlines"], 10),
        "today": today,
        "footer_lines": footer,
        "copyright": copyright_line,
    }


def _json_ld(
    publisher: Publisher, doc: PageDoc, url: str, image_url: str, base: str
) -> dict[str, Any]:
    author: dict[str, Any] | list[dict[str, Any]]
    if doc.author:
        author = [{"@type": "Person", "name": doc.author}]
    else:
        author = {"@type": "Organization", "name": publisher.name}
    return {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "headline": doc.title,
        "description": description(doc.paragraphs),
        "image": [image_url],
        "datePublished": iso_kst(doc.published_at),
        "dateModified": iso_kst(doc.modified_at or doc.published_at),
        "author": author,
        "publisher": {
            "@type": "Organization",
            "name": publisher.name,
            "logo": {"@type": "ImageObject", "url": f"{base}/static/img/{publisher.key}/logo.png"},
        },
        "articleSection": doc.section,
        "inLanguage": publisher.lang,
    }


def render_publisher_article(
    publisher: Publisher,
    doc: PageDoc,
    *,
    canonical_url: str,
    related: Sequence[tuple[str, str, str]],
    base: str,
    now: datetime,
    rss_url: str | None = None,
) -> bytes:
    """Return the outlet's own article page, encoded in the outlet's charset."""
    image_url = f"{base}/static/img/{publisher.key}/{doc.seed}.jpg"
    view: dict[str, Any] = {
        "title": doc.title,
        "title_html": Markup(doc.title_html or escape(doc.title, quote=False)),
        "summary": doc.summary,
        "author": doc.author,
        "email": doc.email,
        "section": doc.section,
        "paragraphs": doc.paragraphs,
        "photo_caption": doc.photo_caption,
        "description": description(doc.paragraphs),
        "canonical_url": canonical_url,
        "image_url": image_url,
        "published_iso": iso_kst(doc.published_at),
        "published_text": publisher_text(doc.published_at),
        "published_date": doc.published_at.astimezone(KST).strftime("%Y-%m-%d"),
        "modified_iso": iso_kst(doc.modified_at) if doc.modified_at else None,
        "modified_text": publisher_text(doc.modified_at) if doc.modified_at else None,
        "json_ld": _json_ld(publisher, doc, canonical_url, image_url, base),
        "related": list(related),
        "views": 1000 + doc.seed * 7 % 9000,
    }
    site = site_context(publisher, base, now, rss_url)
    template = "msit_article.html.j2" if publisher.official else "publisher_article.html.j2"
    page = render(template, a=view, site=site)
    return page.encode("cp949" if publisher.is_euckr else "utf-8")


def render_publisher_home(
    publisher: Publisher, articles: Sequence[WorldArticle], *, base: str, now: datetime
) -> bytes:
    """Return the outlet's front page listing ``articles``, encoded in the outlet's charset."""
    items = [
        {
            "url": a.publisher_url(base),
            "title_html": Markup(a.title_html),
            "lead": description(a.paragraphs, 90),
            "author": a.author,
            "when": publisher_text(a.published_at),
        }
        for a in articles
    ]
    page = render("publisher_home.html.j2", items=items, site=site_context(publisher, base, now))
    return page.encode("cp949" if publisher.is_euckr else "utf-8")


def render_index(context: dict[str, Any]) -> str:
    """Return the world's index page (everything a demo user can click)."""
    return render("index.html.j2", **context)
