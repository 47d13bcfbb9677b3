"""The response value the route handlers return and the HTTP server writes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from tracker.world.dates import rfc822_gmt


@dataclass(slots=True)
class Response:
    """Status, headers and body bytes; ``hang`` makes the server stall without answering."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    hang: bool = False


def text(
    status: int, body: str | bytes, content_type: str, charset: str | None = "UTF-8"
) -> Response:
    """Return a response with ``body`` encoded as ``charset`` (bytes are sent untouched)."""
    data = body if isinstance(body, bytes) else body.encode(charset or "utf-8")
    ctype = f"{content_type}; charset={charset}" if charset else content_type
    return Response(status, data, [("Content-Type", ctype)])


def html(body: str | bytes, status: int = 200, charset: str = "UTF-8") -> Response:
    """Return an HTML response."""
    return text(status, body, "text/html", charset)


def json_body(payload: Any, status: int = 200) -> Response:
    """Return a JSON response formatted like Naver's Open API (tabs, ``\\/`` escapes)."""
    raw = json.dumps(payload, ensure_ascii=False, indent="\t", separators=(",", ":"))
    # Slashes only occur inside JSON strings, so escaping them all is safe and matches the API.
    raw = raw.replace("/", "\\/")
    return text(status, raw, "application/json", "UTF-8")


def not_found(what: str = "Not Found") -> Response:
    """Return a small 404 HTML page."""
    page = (
        f"<!doctype html><html><head><title>404</title></head><body><h1>{what}</h1></body></html>"
    )
    return html(page, status=404)


def redirect(location: str, status: int = 302) -> Response:
    """Return a redirect to ``location``."""
    body = (
        f'<HTML><HEAD><TITLE>Moved</TITLE></HEAD><BODY><A HREF="{location}">here</A></BODY></HTML>'
    )
    response = html(body, status=status)
    response.headers.append(("Location", location))
    return response


def strong_etag(body: bytes, salt: str) -> str:
    """Return a strong ETag for ``body``; ``salt`` (the world day) changes it between days."""
    digest = hashlib.sha256(salt.encode() + b"\0" + body).hexdigest()[:24]
    return f'"{digest}"'


def conditional(
    response: Response,
    headers: dict[str, str],
    last_modified: datetime,
    salt: str,
) -> Response:
    """Add ETag/Last-Modified and return 304 instead when the client's copy is current.

    If-None-Match wins over If-Modified-Since, as RFC 9110 section 13.2.2 orders them.
    """
    etag = strong_etag(response.body, salt)
    validators = [("ETag", etag), ("Last-Modified", rfc822_gmt(last_modified))]
    response.headers.extend(validators)
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        if etag in tags or "*" in tags:
            return Response(304, b"", validators)
        return response
    if_modified_since = headers.get("if-modified-since")
    if if_modified_since:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return response
        if since.tzinfo is not None and last_modified.replace(microsecond=0) <= since:
            return Response(304, b"", validators)
    return response
