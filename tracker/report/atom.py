"""The Atom 1.0 feed of the change log (changes.xml), built with ElementTree."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from jinja2 import Environment

from tracker.report.views import ChangeView

ATOM_NS = "http://www.w3.org/2005/Atom"
# Tag URIs (RFC 4151) need an authority and a date; both are constants so ids never change.
TAG_AUTHORITY = "dokpamo-tracker"
TAG_YEAR = 2025
FEED_TITLE = "독파모 트래커: 변화 기록"

_ENTRY_HTML = """\
<p><strong>{{ c.kind_label }}</strong> {{ c.subject }}
{%- if c.stage_label %} · {{ c.stage_label }}{% endif %}:
{{ c.before }} → {{ c.after }}</p>
<p>신뢰도: {{ c.confidence_label }}; 처음 확인 {{ c.first_seen }} KST
{%- if c.confirmed %}; 확정 {{ c.confirmed }} KST{% endif %}
{%- if c.retracted %}; 철회 {{ c.retracted }} KST{% endif %}</p>
{% if c.evidence %}<ul>
{% for e in c.evidence %}<li>{{ e.publisher }}{% if e.official %} (공식){% endif %}:
{% if e.url %}<a href="{{ e.url }}">{{ e.title }}</a>{% else %}{{ e.title }}{% endif %}
<blockquote>{{ e.sentence }}</blockquote></li>
{% endfor %}</ul>{% endif %}
"""
_HTML = Environment(autoescape=True).from_string(_ENTRY_HTML)


def entry_id(change_id: int) -> str:
    """Return the change's permanent Atom id."""
    return f"tag:{TAG_AUTHORITY},{TAG_YEAR}:change-{change_id}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def _link(base_url: str | None, path: str) -> str:
    return f"{base_url.rstrip('/')}/{path}" if base_url else path


def atom_feed(changes: Sequence[ChangeView], now: datetime, base_url: str | None = None) -> bytes:
    """Return the feed: one entry per change, newest update first.

    An entry's ``updated`` is when it was confirmed (or retracted), else first seen, so a feed
    reader shows a confirmation as an update of the entry it already has. Links are relative
    to the feed (it sits at the site's root) unless ``base_url`` is given.
    """
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    _sub(feed, "id", f"tag:{TAG_AUTHORITY},{TAG_YEAR}:changes")
    _sub(feed, "title", FEED_TITLE)
    latest = max((c.updated_at for c in changes), default=now)
    _sub(feed, "updated", _stamp(latest))
    _sub(feed, "link", rel="self", type="application/atom+xml", href=_link(base_url, "changes.xml"))
    _sub(
        feed, "link", rel="alternate", type="text/html", href=_link(base_url, "changes/index.html")
    )
    author = _sub(feed, "author")
    _sub(author, "name", "dokpamo-tracker")
    _sub(feed, "generator", "dokpamo-tracker")
    for change in sorted(changes, key=lambda c: (c.updated_at, c.id), reverse=True):
        entry = _sub(feed, "entry")
        _sub(entry, "id", entry_id(change.id))
        _sub(entry, "title", change.feed_title)
        _sub(entry, "published", _stamp(change.first_seen_at))
        _sub(entry, "updated", _stamp(change.updated_at))
        _sub(
            entry,
            "link",
            rel="alternate",
            type="text/html",
            href=_link(base_url, f"changes/{change.id}.html"),
        )
        _sub(entry, "category", term=change.kind, label=change.kind_label)
        _sub(entry, "content", _HTML.render(c=change), type="html")
    ET.indent(feed)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"
