"""Turn a parsed article into its normalized, hashed, identified form; pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tracker.article import ParsedArticle
from tracker.text import (
    content_hash,
    minhash_signature,
    normalize_body,
    normalize_text,
    signature_to_bytes,
)
from tracker.urls import canonical_url, naver_article_id, naver_canonical_url


@dataclass(frozen=True, slots=True)
class PreparedArticle:
    """A parsed article after normalization: what the store keys and saves."""

    parsed: ParsedArticle
    title: str
    body: str
    content_hash: str
    canonical_url: str
    naver_id: tuple[str, str] | None
    # Every URL this article is known under (canonical forms) with its kind.
    urls: dict[str, str]
    # MinHash signature of the body (packed), when computed where the article was prepared.
    signature: bytes | None = None


def prepare_article(
    parsed: ParsedArticle,
    naver_hosts: Iterable[str],
    seen_urls: Iterable[str] = (),
    permutations: int | None = None,
) -> PreparedArticle:
    """Return the normalized article with its content hash, canonical URL and URL aliases.

    ``seen_urls`` are the other URLs that led here (an API ``link``/``originallink``, a feed
    link that redirected); they are recorded so later listings of them are known without a fetch.
    With ``permutations`` the body's MinHash signature is computed too (CPU work that is best
    done in the same worker process as the parsing).
    """
    hosts = tuple(naver_hosts)
    naver_id = (
        (parsed.naver_oid, parsed.naver_aid)
        if parsed.naver_oid and parsed.naver_aid
        else naver_article_id(parsed.url, hosts)
    )
    canonical = naver_canonical_url(*naver_id) if naver_id else canonical_url(parsed.url)
    urls: dict[str, str] = {canonical: "canonical"}
    _add(urls, parsed.url, "fetched")
    for url in seen_urls:
        _add(urls, url, "listing")
    if parsed.original_url:
        _add(urls, parsed.original_url, "original")
    body = normalize_body(parsed.body)
    return PreparedArticle(
        parsed=parsed,
        title=normalize_text(parsed.title),
        body=body,
        content_hash=content_hash(body),
        canonical_url=canonical,
        naver_id=naver_id,
        urls=urls,
        signature=signature_to_bytes(minhash_signature(body, permutations))
        if permutations
        else None,
    )


def _add(urls: dict[str, str], url: str, kind: str) -> None:
    if url and url.startswith(("http://", "https://")):
        urls.setdefault(canonical_url(url), kind)
