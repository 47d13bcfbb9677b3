"""Query matching, <b> highlighting and snippets shared by the fake search endpoints."""

from __future__ import annotations

import re
from collections.abc import Sequence

_SPACE = re.compile(r"\s+")
# Google-style operators that narrow by time or site; the world ignores them.
_IGNORED_OPERATOR = re.compile(r"^(when|site|after|before|intitle|inurl):", re.I)
_NAVER_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}


def squash(text: str) -> str:
    """Return ``text`` lowercased with all whitespace removed (how matching compares)."""
    return _SPACE.sub("", text).lower()


def parse_query(query: str) -> list[list[str]]:
    """Return OR-alternatives, each a list of tokens that must all be present.

    Quoted phrases stay one token; `` OR `` and ``|`` separate alternatives. Naver and
    Google both roughly ignore spacing inside Korean compounds, so tokens are compared
    with whitespace removed (see :func:`squash`).
    """
    alternatives: list[list[str]] = [[]]
    for match in re.finditer(r'"([^"]*)"|(\S+)', query):
        phrase, word = match.group(1), match.group(2)
        if word is not None and word in ("OR", "|"):
            alternatives.append([])
            continue
        token = phrase if phrase is not None else word
        if token is None or _IGNORED_OPERATOR.match(token):
            continue
        token = token.strip()
        if token and token not in ("+",):
            alternatives[-1].append(token.lstrip("+"))
    return [alt for alt in alternatives if alt]


def matches(flat: str, alternatives: Sequence[Sequence[str]]) -> bool:
    """Return True when every token of some alternative occurs in ``flat`` (a squashed text)."""
    return any(all(squash(token) in flat for token in alt) for alt in alternatives)


def score(flat: str, tokens: Sequence[str]) -> int:
    """Return how often the tokens occur in ``flat`` (the 'sim' sort key)."""
    return sum(flat.count(squash(token)) for token in tokens if squash(token))


def naver_escape(text: str) -> str:
    """Return ``text`` with the HTML entities the Naver API uses (``&quot;``, ``&apos;`` …)."""
    return "".join(_NAVER_ENTITIES.get(ch, ch) for ch in text)


def highlight(text: str, tokens: Sequence[str]) -> str:
    """Return ``text`` escaped for the API with case-insensitive token hits wrapped in <b>."""
    words = sorted({t for t in tokens if t.strip()}, key=len, reverse=True)
    if not words:
        return naver_escape(text)
    pattern = re.compile("|".join(re.escape(w) for w in words), re.I)
    out: list[str] = []
    last = 0
    for hit in pattern.finditer(text):
        out.append(naver_escape(text[last : hit.start()]))
        out.append(f"<b>{naver_escape(hit.group(0))}</b>")
        last = hit.end()
    out.append(naver_escape(text[last:]))
    return "".join(out)


def snippet(body: str, tokens: Sequence[str], width: int = 150) -> str:
    """Return about ``width`` characters of ``body`` around the first token hit, with '...'."""
    flat = _SPACE.sub(" ", body).strip()
    lowered = flat.lower()
    hits = [lowered.find(t.lower()) for t in tokens if t.strip()]
    first = min((h for h in hits if h >= 0), default=0)
    start = 0
    if first > width // 2:
        start = flat.rfind(" ", 0, first - 30) + 1
    piece = flat[start : start + width]
    if start + width < len(flat):
        cut = piece.rfind(" ")
        piece = (piece[:cut] if cut > width // 2 else piece) + "..."
    return piece
