"""URL canonicalization and Naver News article identity (oid/aid); pure functions."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

NAVER_CANONICAL = "https://n.news.naver.com/mnews/article/{oid}/{aid}"

# Query parameters that only say how a reader arrived; removing them never changes the page.
_TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|igshid|mc_cid|mc_eid|_ga|ref|ref_src|"
    r"from|cmpid|ncid|ocid|oc|spm|share|fromrss|nclick|lfrom)$",
    re.IGNORECASE,
)
# Parameters that identify the article on sites that key articles by query string.
_IDENTITY_PARAMS = {"oid", "aid", "artid", "idxno", "no", "id", "nttseqno", "newsid", "article_id"}

_NAVER_PATH_RE = re.compile(r"/(?:mnews/)?(?:article|hotissue/article)/(?:\w+/)?(\d{3})/(\d{10})")
_NAVER_OID_RE = re.compile(r"^\d{3}$")
_NAVER_AID_RE = re.compile(r"^\d{10}$")


def canonical_url(url: str) -> str:
    """Return ``url`` canonicalized: lowercase scheme and host, no default port, no fragment,
    no tracking parameters, remaining parameters sorted, no trailing slash on paths."""
    parts = urlsplit(url.strip())
    scheme = (parts.scheme or "http").lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host
    if port and not (scheme == "http" and port == 80) and not (scheme == "https" and port == 443):
        netloc = f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    query_items = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if key.lower() in _IDENTITY_PARAMS or not _TRACKING_PARAMS.match(key)
    ]
    query = urlencode(sorted(query_items))
    return urlunsplit((scheme, netloc, path, query, ""))


def naver_article_id(url: str, naver_hosts: Iterable[str]) -> tuple[str, str] | None:
    """Return (oid, aid) when ``url`` is a Naver News article on one of ``naver_hosts``."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    hosts = {h.lower() for h in naver_hosts}
    if host not in hosts and netloc not in hosts:
        return None
    match = _NAVER_PATH_RE.search(parts.path)
    if match:
        return match.group(1), match.group(2)
    params = {key.lower(): value for key, value in parse_qsl(parts.query)}
    oid, aid = params.get("oid", ""), params.get("aid", "")
    if _NAVER_OID_RE.match(oid) and _NAVER_AID_RE.match(aid):
        return oid, aid
    return None


def naver_canonical_url(oid: str, aid: str) -> str:
    """Return the canonical n.news.naver.com URL of article (oid, aid)."""
    return NAVER_CANONICAL.format(oid=oid, aid=aid)


def host_of(url: str) -> str:
    """Return the lowercase host of ``url`` (empty when it has none)."""
    return (urlsplit(url).hostname or "").lower()


def is_under_domain(url: str, domains: Iterable[str]) -> bool:
    """Return True when ``url``'s host is one of ``domains`` or a subdomain of one."""
    host = host_of(url)
    return any(host == d or host.endswith("." + d) for d in (d.lower() for d in domains))
