"""Render publisher RSS/Atom feeds, the MSIT press-release feed and Google News search RSS."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from urllib.parse import quote_plus
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from tracker.world.content import Publisher, WorldArticle
from tracker.world.dates import iso_kst, rfc822_gmt, rfc822_kst
from tracker.world.pages import description
from tracker.world.templates import render

# Google News article ids ("CBMi…") are base64url protobufs whose field 4 holds the URL.
_GNEWS_PREFIX = b"\x08\x13\x22"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One feed entry, already in the strings the templates need."""

    title: str
    title_html: str
    url: str
    guid: str | None
    atom_id: str
    description: str
    summary_html: str
    author: str | None
    creator: str | None
    category: str
    dc_date: str
    updated: str
    pub_date: str


def item_for(
    *,
    title: str,
    title_html: str,
    url: str,
    paragraphs: Sequence[str],
    author: str | None,
    section: str,
    published_at: datetime,
    updated_at: datetime,
    atom_id: str,
    image_url: str | None = None,
    full_text: bool = False,
    creator: str | None = None,
    guid: str | None = None,
) -> FeedItem:
    """Return the feed item for one article (``full_text`` puts the whole body in it)."""
    if full_text:
        body_html = "".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs)
    else:
        lead = escape(description(paragraphs, 200), quote=False)
        img = f'<img src="{escape(image_url)}" width="120" align="left">' if image_url else ""
        body_html = f"{img}{lead}…"
    # Korean CMSs store titles entity-escaped and paste them into CDATA as-is; plain titles go
    # in raw, which is how a hostile title reaches a feed reader unescaped.
    cdata_title = title_html if title_html != escape(title, quote=False) else title
    return FeedItem(
        title=cdata_title,
        title_html=title_html,
        url=url,
        guid=guid,
        atom_id=atom_id,
        description=body_html,
        summary_html=body_html,
        author=author,
        creator=creator,
        category=section,
        dc_date=iso_kst(published_at),
        updated=iso_kst(updated_at),
        pub_date=rfc822_kst(published_at),
    )


def article_item(article: WorldArticle, base: str) -> FeedItem:
    """Return the feed item of a storyline article."""
    official = article.publisher.official
    return item_for(
        title=article.title,
        title_html=article.title_html,
        url=article.publisher_url(base),
        paragraphs=article.paragraphs,
        author=None if official else article.author,
        section=article.section,
        published_at=article.published_at,
        updated_at=article.updated_at,
        atom_id=f"tag:{article.publisher.key}.example,2026:{article.id}",
        image_url=None if official else f"{base}/static/img/{article.publisher.key}/thumb.jpg",
        full_text=official,
        creator=article.publisher.name if official else None,
        guid=article.publisher_url(base),
    )


def _channel(publisher: Publisher, base: str, now: datetime, self_url: str) -> dict[str, str]:
    if publisher.official:
        title = f"정책브리핑 - {publisher.name} 보도자료"
        desc = f"{publisher.name}의 보도자료를 제공합니다."
    else:
        title = (
            f"{publisher.name} 전체기사"
            if publisher.lang == "ko"
            else f"{publisher.name} - All stories"
        )
        desc = publisher.tagline
    return {
        "title": title,
        "link": f"{base}/pub/{publisher.key}/",
        "description": desc,
        "language": publisher.lang,
        "copyright": f"Copyright {now.year} {publisher.name_en}",
        "last_build": rfc822_kst(now),
        "updated": iso_kst(now),
        "self_url": self_url,
        "image": f"{base}/static/img/{publisher.key}/logo.png",
        "id": f"tag:{publisher.key}.example,2026:feed",
    }


def render_rss(
    publisher: Publisher, items: Sequence[FeedItem], *, base: str, now: datetime, self_url: str
) -> bytes:
    """Return an RSS 2.0 feed in the outlet's charset (EUC-KR outlets get cp949 bytes)."""
    encoding = "euc-kr" if publisher.is_euckr else "utf-8"
    xml = render(
        "rss.xml.j2",
        channel=_channel(publisher, base, now, self_url),
        items=list(items),
        encoding=encoding,
    )
    return xml.encode("cp949" if publisher.is_euckr else "utf-8")


def render_atom(
    publisher: Publisher, items: Sequence[FeedItem], *, base: str, now: datetime, self_url: str
) -> bytes:
    """Return an Atom 1.0 feed (always UTF-8)."""
    xml = render("atom.xml.j2", channel=_channel(publisher, base, now, self_url), items=list(items))
    return xml.encode("utf-8")


def gnews_token(url: str) -> str:
    """Return a Google-News-style article id that encodes ``url``."""
    raw = url.encode()
    length = len(raw)
    varint = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        varint.append(byte | (0x80 if length else 0))
        if not length:
            break
    return base64.urlsafe_b64encode(_GNEWS_PREFIX + bytes(varint) + raw).decode().rstrip("=")


def gnews_url(token: str) -> str | None:
    """Return the URL inside a token made by :func:`gnews_token`, or None if malformed."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (ValueError, TypeError):
        return None
    if not raw.startswith(_GNEWS_PREFIX):
        return None
    pos, length, shift = len(_GNEWS_PREFIX), 0, 0
    while pos < len(raw):
        byte = raw[pos]
        pos += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    data = raw[pos : pos + length]
    if len(data) != length:
        return None
    try:
        return data.decode()
    except UnicodeDecodeError:
        return None


def render_google_news(
    query: str,
    articles: Sequence[WorldArticle],
    *,
    base: str,
    now: datetime,
    hl: str,
    gl: str,
    ceid: str,
) -> bytes:
    """Return a Google News search feed (NFE/5.0, one line) for ``articles``."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>',
        "<generator>NFE/5.0</generator>",
        f"<title>{xml_escape(query)} - Google 뉴스</title>",
        f"<link>{xml_escape(f'{base}/search?q={quote_plus(query)}&hl={hl}&gl={gl}&ceid={ceid}')}</link>",
        f"<language>{xml_escape(hl)}</language>",
        "<webMaster>news-webmaster@google.com</webMaster>",
        f"<copyright>Copyright © {now.year} Google. All rights reserved. This XML feed is made "
        "available solely for the purpose of rendering Google News results within a personal "
        "feed reader for personal, non-commercial use.</copyright>",
        f"<lastBuildDate>{rfc822_gmt(now)}</lastBuildDate>",
        f"<image><title>Google 뉴스</title><url>{base}/static/img/gnews.png</url>"
        f"<link>{base}/</link><height>256</height><width>256</width></image>",
        "<description>Google 뉴스</description>",
    ]
    for article in articles:
        token = gnews_token(article.publisher_url(base))
        link = f"{base}/rss/articles/{token}?oc=5"
        source = article.publisher.name
        home = f"{base}/pub/{article.publisher.key}"
        anchor = (
            f'<a href="{link}" target="_blank">{escape(article.title, quote=False)}</a>'
            f'&nbsp;&nbsp;<font color="#6f6f6f">{escape(source, quote=False)}</font>'
        )
        parts.append(
            "<item>"
            f"<title>{xml_escape(f'{article.title} - {source}')}</title>"
            f"<link>{xml_escape(link)}</link>"
            f'<guid isPermaLink="false">{token}</guid>'
            f"<pubDate>{rfc822_gmt(article.published_at)}</pubDate>"
            f"<description>{xml_escape(anchor)}</description>"
            f"<source url={quoteattr(home)}>{xml_escape(source)}</source>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")
