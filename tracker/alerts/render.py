"""Render alert e-mails: pure functions from changes to a Korean text + HTML EmailMessage.

Nothing here reads the clock, the database or the environment: the same change, evidence,
kind, recipient and date always render the same bytes (golden-tested). Article text (titles,
sentences, URLs) only ever reaches the body; the one header built from data, the subject,
is made of the change's subject, stage and kind and is stripped of line breaks and control
characters, so no article can add a header such as ``Bcc``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr
from typing import TYPE_CHECKING

from jinja2 import Environment, StrictUndefined

if TYPE_CHECKING:
    from tracker.config import AlertsConfig
    from tracker.models import Change, ChangeEvidence

KST = timezone(timedelta(hours=9), "KST")
SUBJECT_PREFIX = "[독파모]"
# Outbox kinds this package renders; "operator" rows belong to whoever enqueues them.
CHANGE_ALERT_KINDS = ("immediate", "unconfirmed", "correction")
DIGEST_KIND = "digest"
MAX_SUBJECT_CHARS = 180
MAX_EVIDENCE = 8
FALLBACK_DOMAIN = "dokpamo-tracker.invalid"

# Every Korean label in one place: change kinds, stage keys, team statuses, alert kinds and
# confidences. Unknown keys render as the key itself, so a new kind never breaks a mail.
LABELS: dict[str, dict[str, str]] = {
    "kind": {
        "team_selected": "선정",
        "team_advanced": "통과",
        "team_eliminated": "탈락",
        "team_added": "추가 선정",
        "team_not_selected": "미선정",
        "team_withdrew": "참여 철회",
        "model_announced": "모델 공개",
        "score_published": "점수 공개",
        "schedule_set": "일정 발표",
        "schedule_changed": "일정 변경",
        "programme": "사업 현황",
        "programme_updated": "사업 현황",
    },
    "stage": {
        "call": "공모",
        "document_review": "서면평가",
        "presentation_review": "발표평가",
        "elite_selection": "정예팀 선정",
        "stage1": "1차 단계평가",
        "additional_call": "추가 공모",
        "stage2": "2차 단계평가",
        "stage3": "3차 단계평가",
        "final": "최종 평가",
    },
    "status": {
        "candidate": "후보",
        "applied": "지원",
        "shortlisted": "서면 통과",
        "selected": "선정",
        "active": "진행 중",
        "advanced": "통과",
        "eliminated": "탈락",
        "not_selected": "미선정",
        "withdrew": "참여 철회",
    },
    "alert": {
        "immediate": "확정",
        "unconfirmed": "미확인 보도",
        "correction": "정정",
        "digest": "일일 요약",
        "test": "시험 발송",
    },
    "confidence": {
        "confirmed": "확정",
        "reported": "미확인 (보도 단계)",
        "retracted": "철회됨",
    },
}

_CONTROL_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}
_SAFE_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_SAFE_URL = re.compile(r"^https?://", re.IGNORECASE)


def label(group: str, key: str | None) -> str:
    """Return the Korean label of ``key`` in ``group`` (kind, stage, status, alert, confidence)."""
    if key is None:
        return ""
    return LABELS[group].get(key, key)


def clean_header(text: str, limit: int = MAX_SUBJECT_CHARS) -> str:
    """Return ``text`` on one line: control, format and line-separator characters become spaces."""
    chars = [" " if unicodedata.category(c) in _CONTROL_CATEGORIES else c for c in text]
    one_line = " ".join("".join(chars).split())
    if len(one_line) > limit:
        one_line = one_line[: limit - 1].rstrip() + "…"
    return one_line


def headline(change: Change) -> str:
    """Return e.g. ``NC AI 1차 단계평가 탈락`` (plus ``: after`` for non-team kinds)."""
    parts = [change.subject, label("stage", change.stage), label("kind", change.kind)]
    text = " ".join(p for p in parts if p)
    if not change.kind.startswith("team_") and change.after:
        text += f": {_value(change.after)}"
    return clean_header(text)


def alert_subject(change: Change, kind: str) -> str:
    """Return the subject of a change alert, e.g. ``[독파모] 확정: NC AI 1차 단계평가 탈락``."""
    text = f"{SUBJECT_PREFIX} {label('alert', kind)}: {headline(change)}"
    if kind == "correction":
        text += " (앞선 알림 철회)"
    return clean_header(text)


def digest_subject(day: date) -> str:
    """Return the subject of the digest sent on ``day`` (KST); it also names the digest."""
    return f"{SUBJECT_PREFIX} {label('alert', DIGEST_KIND)} {day.isoformat()}"


_DIGEST_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})$")


def digest_day(subject: str) -> date:
    """Return the day a digest subject names (the inverse of :func:`digest_subject`)."""
    match = _DIGEST_DAY.search(subject)
    if match is None:
        raise ValueError(f"not a digest subject: {subject!r}")
    return date.fromisoformat(match.group(1))


def sender_domain(config: AlertsConfig) -> str:
    """Return the domain of the From address, used to scope Message-IDs."""
    domain = parseaddr(config.sender)[1].rpartition("@")[2]
    return domain if _SAFE_DOMAIN.match(domain) else FALLBACK_DOMAIN


def message_id(kind: str, key: str, recipient: str, config: AlertsConfig) -> str:
    """Return a Message-ID fixed by (what, recipient, kind): a resend is recognisably the same."""
    seed = f"{kind}\x00{key}\x00{recipient.strip().lower()}".encode()
    digest = hashlib.sha256(seed).hexdigest()[:32]
    return f"<{digest}.{kind}@{sender_domain(config)}>"


def change_message_id(change: Change, kind: str, recipient: str, config: AlertsConfig) -> str:
    """Return the Message-ID of ``kind`` mail about ``change`` to ``recipient``."""
    return message_id(kind, f"change:{change.key}", recipient, config)


def digest_message_id(day: date, recipient: str, config: AlertsConfig) -> str:
    """Return the Message-ID of the digest of ``day`` to ``recipient``."""
    return message_id(DIGEST_KIND, f"digest:{day.isoformat()}", recipient, config)


@dataclass(frozen=True, slots=True)
class _Evidence:
    publisher: str
    title: str
    sentence: str
    url: str
    linkable: bool
    official: bool


@dataclass(frozen=True, slots=True)
class _ChangeView:
    """What the templates show of one change: labels resolved, times in KST."""

    id: int
    headline: str
    subject: str
    stage: str
    kind: str
    before: str
    after: str
    confidence: str
    basis: str
    unconfirmed: tuple[str, ...]
    first_seen: str
    confirmed: str
    retracted: str
    evidence: tuple[_Evidence, ...]
    more_evidence: int
    publishers: tuple[str, ...]


def _value(value: str | None) -> str:
    """Return a before/after value for people: status keys translated, None as (없음)."""
    if value is None or value == "":
        return "(없음)"
    words = value.split()
    return " ".join(LABELS["status"].get(w, LABELS["stage"].get(w, w)) for w in words)


def _kst(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M KST")


def _publishers(evidence: Sequence[ChangeEvidence]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in evidence:
        seen.setdefault(clean_header(item.publisher or "(매체 미상)", 100), None)
    return tuple(seen)


def _basis(change: Change, evidence: Sequence[ChangeEvidence]) -> str:
    publishers = _publishers(evidence)
    if change.confidence == "retracted":
        return "공식 발표 또는 여러 매체의 보도와 어긋나 철회되었습니다"
    if any(item.official for item in evidence):
        return "정부 공식 발표로 확인되었습니다"
    if change.confidence == "confirmed":
        return f"서로 다른 매체 {len(publishers)}곳의 보도로 확인되었습니다"
    return f"매체 {len(publishers)}곳의 보도뿐이며 아직 확인되지 않았습니다"


def _unconfirmed(
    change: Change, evidence: Sequence[ChangeEvidence], followup: bool
) -> tuple[str, ...]:
    """Return what the reader should still treat as open (``followup``: a 확정 mail will come)."""
    if change.confidence == "retracted":
        return (
            "앞서 알린 내용은 사실이 아닌 것으로 보입니다. 이 변화는 추적 상태에서 빠졌습니다.",
        )
    if change.confidence == "reported":
        return (
            "이 변화는 아직 공식 발표나 다른 독립 매체의 보도로 확인되지 않았습니다.",
            "확인되면 '확정' 메일을 따로 보내고, 사실이 아니면 정정 메일을 보냅니다."
            if followup
            else "사실이 아닌 것으로 드러나면 정정 메일을 보냅니다.",
        )
    if not any(item.official for item in evidence):
        return ("과학기술정보통신부의 공식 발표는 아직 확인되지 않았습니다.",)
    return ()


def _view(
    change: Change, evidence: Sequence[ChangeEvidence], followup: bool = False
) -> _ChangeView:
    ordered = sorted(evidence, key=lambda item: (not item.official, item.id or 0))
    shown = tuple(
        _Evidence(
            publisher=clean_header(item.publisher or "(매체 미상)", 100),
            title=clean_header(item.title, 300),
            sentence=clean_header(item.sentence, 1000),
            url=clean_header(item.url, 2048),
            linkable=bool(_SAFE_URL.match(item.url.strip())),
            official=item.official,
        )
        for item in ordered[:MAX_EVIDENCE]
    )
    return _ChangeView(
        id=change.id,
        headline=headline(change),
        subject=clean_header(change.subject, 200),
        stage=label("stage", change.stage) or "(단계 없음)",
        kind=label("kind", change.kind),
        before=_value(change.before),
        after=_value(change.after),
        confidence=label("confidence", change.confidence),
        basis=_basis(change, evidence),
        unconfirmed=_unconfirmed(change, evidence, followup),
        first_seen=_kst(change.first_seen_at),
        confirmed=_kst(change.confirmed_at),
        retracted=_kst(change.retracted_at),
        evidence=shown,
        more_evidence=max(0, len(ordered) - MAX_EVIDENCE),
        publishers=_publishers(ordered),
    )


_INTRO = {
    "immediate": "독파모 경쟁의 상태가 바뀐 것이 확인되었습니다.",
    "unconfirmed": "미확인 보도입니다. 아직 공식 발표나 충분한 독립 보도로 확인되지 않았습니다.",
    "correction": (
        "정정: 앞서 알린 아래 변화는 이후 공식 발표 또는 여러 매체의 보도와 어긋나 철회되었습니다."
    ),
}

_TEXT_CHANGE = """\
{% macro change_text(c) %}
■ 무엇이 바뀌었나
- 대상: {{ c.subject }}
- 단계: {{ c.stage }}
- 변화: {{ c.kind }}
- 이전 → 이후: {{ c.before }} → {{ c.after }}
- 처음 확인: {{ c.first_seen }}{{ " / 확정: " ~ c.confirmed if c.confirmed else "" }}
{{- " / 철회: " ~ c.retracted if c.retracted else "" }}

■ 왜 그렇게 보나
- 신뢰도: {{ c.confidence }} — {{ c.basis }}
- 보도 매체: {{ c.publishers | join(", ") or "(없음)" }}
{% for e in c.evidence %}
  {{ loop.index }}. {% if e.official %}[공식] {% endif %}{{ e.publisher }} 「{{ e.title }}」
     “{{ e.sentence }}”
     {{ e.url }}
{% endfor %}
{% if c.more_evidence %}
  외 {{ c.more_evidence }}건
{% endif %}

■ 아직 확인되지 않은 것
{% for line in c.unconfirmed %}
- {{ line }}
{% else %}
- 없음 (공식 발표로 확인됨)
{% endfor %}
{% endmacro %}
"""

_HTML_CHANGE = """\
{% macro change_html(c) %}
<h3 style="margin:16px 0 4px">무엇이 바뀌었나</h3>
<table style="border-collapse:collapse">
<tr><th align="left">대상</th><td>{{ c.subject }}</td></tr>
<tr><th align="left">단계</th><td>{{ c.stage }}</td></tr>
<tr><th align="left">변화</th><td>{{ c.kind }}</td></tr>
<tr><th align="left">이전 → 이후</th><td>{{ c.before }} → {{ c.after }}</td></tr>
<tr><th align="left">처음 확인</th><td>{{ c.first_seen }}
{%- if c.confirmed %} / 확정: {{ c.confirmed }}{% endif %}
{%- if c.retracted %} / 철회: {{ c.retracted }}{% endif %}</td></tr>
</table>
<h3 style="margin:16px 0 4px">왜 그렇게 보나</h3>
<p>신뢰도: <strong>{{ c.confidence }}</strong> — {{ c.basis }}<br>
보도 매체: {{ c.publishers | join(", ") or "(없음)" }}</p>
<ol>
{% for e in c.evidence %}
<li>{% if e.official %}<strong>[공식]</strong> {% endif %}{{ e.publisher }}
 「{% if e.linkable %}<a href="{{ e.url }}">{{ e.title }}</a>
{%- else %}{{ e.title }}{% endif %}」<br>
<q>{{ e.sentence }}</q>{% if not e.linkable %}<br>{{ e.url }}{% endif %}</li>
{% endfor %}
</ol>
{% if c.more_evidence %}
<p>외 {{ c.more_evidence }}건</p>
{% endif %}
<h3 style="margin:16px 0 4px">아직 확인되지 않은 것</h3>
<ul>
{% for line in c.unconfirmed %}
<li>{{ line }}</li>
{% else %}
<li>없음 (공식 발표로 확인됨)</li>
{% endfor %}
</ul>
{% endmacro %}
"""

_TEXT_ALERT = (
    _TEXT_CHANGE
    + """\
{{ intro }}

{{ c.headline }}

{{ change_text(c) }}
--
dokpamo-tracker · 변경 #{{ c.id }} · {{ kind }}
"""
)

_HTML_ALERT = (
    _HTML_CHANGE
    + """\
<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:sans-serif;line-height:1.5">
<p>{{ intro }}</p>
<h2 style="margin:8px 0">{{ c.headline }}</h2>
{{ change_html(c) }}
<hr><p style="color:#666;font-size:small">dokpamo-tracker · 변경 #{{ c.id }} · {{ kind }}</p>
</body></html>
"""
)

_TEXT_DIGEST = (
    _TEXT_CHANGE
    + """\
{{ day }} 독파모 일일 요약: 지난 요약 이후 기록된 변화 {{ changes | length }}건
{% for c in changes %}

==== {{ loop.index }}. {{ c.headline }} [{{ c.confidence }}]

{{ change_text(c) }}
{%- endfor %}

--
dokpamo-tracker · 일일 요약 {{ day }}
"""
)

_HTML_DIGEST = (
    _HTML_CHANGE
    + """\
<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:sans-serif;line-height:1.5">
<p>{{ day }} 독파모 일일 요약: 지난 요약 이후 기록된 변화 {{ changes | length }}건</p>
{% for c in changes %}
<h2 style="margin:16px 0 4px">{{ loop.index }}. {{ c.headline }} [{{ c.confidence }}]</h2>
{{ change_html(c) }}
{% endfor %}
<hr><p style="color:#666;font-size:small">dokpamo-tracker · 일일 요약 {{ day }}</p>
</body></html>
"""
)

_TEXT_TEST = """\
dokpamo-tracker 알림 설정 시험 메일입니다 ({{ when }}).
이 메일이 도착했다면 SMTP 설정이 올바릅니다. 경쟁 상태의 변화는 담고 있지 않습니다.
"""

_HTML_TEST = """\
<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body><p>dokpamo-tracker 알림 설정 시험 메일입니다 ({{ when }}).</p>
<p>이 메일이 도착했다면 SMTP 설정이 올바릅니다.
경쟁 상태의 변화는 담고 있지 않습니다.</p></body></html>
"""

_OPTIONS = {
    "trim_blocks": True,
    "lstrip_blocks": True,
    "keep_trailing_newline": True,
    "undefined": StrictUndefined,
}
# Two environments: the HTML one escapes every value (autoescape), the text one must not.
_TEXT = Environment(autoescape=False, **_OPTIONS)
_HTML = Environment(autoescape=True, **_OPTIONS)


def _build(
    *,
    kind: str,
    subject: str,
    text: str,
    html: str,
    config: AlertsConfig,
    recipient: str | None,
    msg_id: str,
    when: datetime | None,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = clean_header(subject)
    message["From"] = config.sender
    message["To"] = recipient if recipient is not None else ", ".join(config.to)
    message["Message-ID"] = msg_id
    if when is not None:
        message["Date"] = format_datetime(when.astimezone(UTC))
    # RFC 3834: tells vacation responders and list servers not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Dokpamo-Alert"] = kind
    # base64 keeps Korean text safe on servers without 8BITMIME.
    message.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    message.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    # A boundary derived from the Message-ID keeps the rendering byte-for-byte reproducible.
    message.set_boundary("==dokpamo-" + hashlib.sha256(msg_id.encode()).hexdigest()[:24])
    return message


def render_alert(
    change: Change,
    evidence: Sequence[ChangeEvidence],
    kind: str,
    config: AlertsConfig,
    *,
    recipient: str | None = None,
    when: datetime | None = None,
) -> EmailMessage:
    """Return the ``kind`` (immediate | unconfirmed | correction) mail about ``change``.

    ``recipient`` sets To and the Message-ID (default: all configured recipients); ``when`` sets
    the Date header (dispatch passes its clock; leave None for golden tests).
    """
    if kind not in CHANGE_ALERT_KINDS:
        raise ValueError(f"not a change alert kind: {kind!r}")
    subject = alert_subject(change, kind)
    view = _view(change, evidence, followup=kind == "unconfirmed")
    values = {"c": view, "kind": kind, "intro": _INTRO[kind], "subject": subject}
    return _build(
        kind=kind,
        subject=subject,
        text=_TEXT.from_string(_TEXT_ALERT).render(values),
        html=_HTML.from_string(_HTML_ALERT).render(values),
        config=config,
        recipient=recipient,
        msg_id=change_message_id(change, kind, recipient or ",".join(config.to), config),
        when=when,
    )


def render_digest(
    changes: Iterable[Change],
    day: date,
    config: AlertsConfig,
    *,
    recipient: str | None = None,
    when: datetime | None = None,
) -> EmailMessage:
    """Return the digest of ``day`` (KST) listing ``changes`` (with their ``evidence``)."""
    ordered = sorted(changes, key=lambda change: change.id)
    subject = digest_subject(day)
    values = {
        "changes": [_view(change, change.evidence) for change in ordered],
        "day": day.isoformat(),
        "subject": subject,
    }
    return _build(
        kind=DIGEST_KIND,
        subject=subject,
        text=_TEXT.from_string(_TEXT_DIGEST).render(values),
        html=_HTML.from_string(_HTML_DIGEST).render(values),
        config=config,
        recipient=recipient,
        msg_id=digest_message_id(day, recipient or ",".join(config.to), config),
        when=when,
    )


def render_test(config: AlertsConfig, recipient: str, when: datetime) -> EmailMessage:
    """Return the ``tracker alerts test`` mail to ``recipient``."""
    subject = f"{SUBJECT_PREFIX} {label('alert', 'test')} {_kst(when)}"
    values = {"when": _kst(when), "subject": subject}
    return _build(
        kind="test",
        subject=subject,
        text=_TEXT.from_string(_TEXT_TEST).render(values),
        html=_HTML.from_string(_HTML_TEST).render(values),
        config=config,
        recipient=recipient,
        msg_id=message_id("test", f"test:{when.isoformat()}", recipient, config),
        when=when,
    )


def as_bytes(message: EmailMessage) -> bytes:
    """Return the message as sent on the wire (CRLF line ends)."""
    return message.as_bytes(policy=SMTP_POLICY)
