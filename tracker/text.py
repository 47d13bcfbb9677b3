"""Text normalization, the content hash and MinHash signatures; one definition each."""

from __future__ import annotations

import functools
import hashlib
import html
import re
import struct
import unicodedata
import zlib
from collections.abc import Iterable

import numpy as np

# Lines that are never part of the story: copyright notices, reporter sign-offs, photo credits,
# "related article" teasers. Matched against a whole normalized line.
_BOILERPLATE_LINE_PATTERNS = [
    r".*(무단\s*전재|재배포\s*금지|무단\s*복제|AI\s*학습\s*이용\s*금지).*",
    r"[<\[(〈《]?\s*(저작권자|copyrights?|ⓒ|©)\b.*",
    r".*(copyright|ⓒ|©)\s*\d{4}.*",
    r"[▶▷☞■◆◇]\s*(관련\s*기사|관련기사|좋아요|구독|기사\s*제보|제보).*",
    r".{0,30}(네이버|카카오톡|다음|유튜브).{0,20}(구독|친구\s*추가|채널\s*추가|팔로우).{0,30}",
    r"(\[|\()?\s*(사진|그래픽|자료|영상|이미지)\s*[=:/].{0,80}",
    r"[/]?\s*사진\s*[=:]\s*.{0,80}",
    r"▲.{0,80}",
    r"[가-힣]{2,4}\s*(기자|특파원|인턴기자|선임기자|객원기자)\s*\(?[\w.+-]+@[\w.-]+\)?\s*",
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+",
    r"[가-힣]{2,4}\s*(기자|특파원)\s*$",
    r"(기사\s*원문|원문\s*보기|더\s*보기|기사\s*공유|글자\s*크기).{0,20}",
]
MAX_BOILERPLATE_LINE = 150
_BOILERPLATE_RE = re.compile(
    "|".join(f"(?:{p})" for p in _BOILERPLATE_LINE_PATTERNS), re.IGNORECASE
)

# Leading wire datelines: "(서울=연합뉴스) 홍길동 기자 = ", "[아이뉴스24 홍길동 기자] ",
# "【서울=뉴시스】".
_DATELINE_RE = re.compile(
    r"^\s*(?:"
    r"[\(\[【]\s*[가-힣A-Za-z]{1,10}\s*=\s*[^\)\]】]{1,20}[\)\]】]\s*"
    r"(?:[가-힣]{2,4}(?:\s*[·,]\s*[가-힣]{2,4})*\s*(?:기자|특파원)\s*=\s*)?"
    r"|\[\s*[^\]]{1,20}\s+[가-힣]{2,4}\s*(?:기자|특파원)\s*\]\s*"
    r"|[가-힣]{2,4}\s*(?:기자|특파원)\s*=\s*"
    r")"
)
_INLINE_SPACE_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_ZERO_WIDTH_RE = re.compile(r"[\u200b-\u200d\u2060\ufeff]")
_WORD_RE = re.compile(r"\w+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


def _decode(text: str) -> str:
    """Return ``text`` without zero-width characters, entities decoded to a fixpoint, in NFC.

    Decoding to a fixpoint (double-escaped titles such as ``&amp;#x27;`` occur in the wild)
    is what makes the normalizers idempotent.
    """
    text = _ZERO_WIDTH_RE.sub("", text)
    # Terminates: every decoding step makes the string strictly shorter.
    while (decoded := _ZERO_WIDTH_RE.sub("", html.unescape(text))) != text:
        text = decoded
    return unicodedata.normalize("NFC", text)


def normalize_text(text: str) -> str:
    """Return ``text`` in NFC with HTML entities decoded and whitespace collapsed (one line)."""
    text = _decode(text)
    return _SPACE_RE.sub(" ", text).strip()


def normalize_body(text: str) -> str:
    """Return the article body normalized the same way every time.

    NFC, entities decoded, whitespace collapsed within lines, empty lines dropped, the leading
    wire dateline removed and boilerplate lines (copyright, bylines, photo captions, teasers)
    removed. Idempotent: ``normalize_body(normalize_body(x)) == normalize_body(x)``.
    """
    text = _decode(text)
    kept: list[str] = []
    for raw_line in text.splitlines():
        line = _INLINE_SPACE_RE.sub(" ", raw_line).strip()
        if not kept:
            line = _DATELINE_RE.sub("", line).strip()
        # Boilerplate lines are short; a long line is a paragraph of the story even when it
        # starts like a caption or a teaser ("□ 네이버클라우드는 …" in a press release).
        if not line or (len(line) <= MAX_BOILERPLATE_LINE and _BOILERPLATE_RE.fullmatch(line)):
            continue
        kept.append(line)
    return "\n".join(kept)


def content_hash(normalized_body: str) -> str:
    """Return the sha256 hex digest of an already-normalized body."""
    return hashlib.sha256(normalized_body.encode("utf-8")).hexdigest()


def compact(text: str) -> str:
    """Return ``text`` lowercased with all whitespace removed, for spacing-insensitive matching."""
    return _SPACE_RE.sub("", unicodedata.normalize("NFC", text)).casefold()


def matches_keywords(text: str, any_of: Iterable[str], none_of: Iterable[str] = ()) -> bool:
    """Return True when ``text`` mentions one of ``any_of`` and none of ``none_of``.

    Matching ignores case and spacing, because Korean coverage writes 독자AI파운데이션 and
    독자 AI 파운데이션 interchangeably.
    """
    haystack = compact(text)
    if any(word in haystack for word in _compact_words(tuple(none_of))):
        return False
    return any(word in haystack for word in _compact_words(tuple(any_of)))


@functools.lru_cache(maxsize=64)
def _compact_words(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(compact(word) for word in words if word.strip())


def keyword_fingerprint(any_of: Iterable[str], none_of: Iterable[str] = ()) -> str:
    """Return a short hash of a keyword configuration, to notice when it changes."""
    canonical = "\x1f".join(sorted(compact(w) for w in any_of)) + "\x1e"
    canonical += "\x1f".join(sorted(compact(w) for w in none_of))
    return "filtered:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


# Multipliers that combine three word hashes into one shingle hash (odd, so no bits are lost).
_SHINGLE_MULTIPLIERS = (np.uint64(0x9E3779B1), np.uint64(0x85EBCA77), np.uint64(1))


def shingle_hashes(text: str, size: int = 3) -> np.ndarray:
    """Return the distinct 32-bit hashes of ``text``'s word ``size``-grams (casefolded).

    Each word is hashed once (crc32: C code, stable across processes, which stored signatures
    need) and the n-gram hashes are combined with numpy, instead of building and hashing a
    string per shingle in Python.
    """
    words = _WORD_RE.findall(text.casefold())
    if not words:
        return np.empty(0, dtype=np.uint64)
    hashes = np.fromiter(
        (zlib.crc32(word.encode("utf-8")) for word in words), dtype=np.uint64, count=len(words)
    )
    if len(words) < size:
        combined = np.uint64(0)
        for value in hashes:
            combined = combined * _SHINGLE_MULTIPLIERS[0] + value
        return np.array([combined & np.uint64(0xFFFFFFFF)], dtype=np.uint64)
    count = len(words) - size + 1
    combined = np.zeros(count, dtype=np.uint64)
    for offset in range(size):
        multiplier = _SHINGLE_MULTIPLIERS[offset] if offset < len(_SHINGLE_MULTIPLIERS) else 1
        combined = combined * np.uint64(31) + hashes[offset : offset + count] * multiplier
    return np.unique(combined & np.uint64(0xFFFFFFFF))


def minhash_signature(text: str, num_perm: int = 128) -> np.ndarray:
    """Return the MinHash signature (uint64 array) of ``text``'s word 3-shingles."""
    # Imported here: datasketch pulls in scipy (0.3 s), which only the hashing workers need.
    from datasketch import MinHash

    # The shingles arrive already hashed, so datasketch's hash function is the identity.
    minhash = MinHash(num_perm=num_perm, hashfunc=int)
    hashes = shingle_hashes(text)
    if len(hashes):
        minhash.update_batch(hashes.tolist())
    return np.asarray(minhash.hashvalues, dtype=np.uint64)


def signature_to_bytes(signature: np.ndarray) -> bytes:
    """Return the signature packed for storage."""
    return np.asarray(signature, dtype="<u8").tobytes()


def signature_from_bytes(data: bytes) -> np.ndarray:
    """Return a signature unpacked from storage."""
    return np.frombuffer(data, dtype="<u8")


def estimated_jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """Return the Jaccard similarity estimated from two signatures of the same length."""
    if len(first) != len(second) or not len(first):
        return 0.0
    return float(np.count_nonzero(first == second)) / len(first)


def band_hashes(signature: np.ndarray, rows: int) -> list[int]:
    """Return one signed 64-bit hash per LSH band of ``rows`` values (a trailing partial band
    is dropped), storable in an indexed integer column."""
    bands = len(signature) // rows
    result = []
    for band in range(bands):
        chunk = np.asarray(signature[band * rows : (band + 1) * rows], dtype="<u8").tobytes()
        digest = hashlib.blake2b(chunk, digest_size=8, person=struct.pack("<Q", band)).digest()
        result.append(struct.unpack("<q", digest)[0])
    return result
