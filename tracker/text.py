"""Text normalization, the content hash and MinHash signatures; one definition each."""

from __future__ import annotations

import functools
import hashlib
import html
import re
import unicodedata
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


# -- near-duplicate signatures ---------------------------------------------------------------
#
# Scheme "oph1": one-permutation MinHash with optimal densification over word 3-shingles.
#
# The shingle *set* is the one datasketch was fed before (``\w+`` words of the case-folded
# text, consecutive triples), so the Jaccard similarity being estimated and the 0.7 threshold
# keep their meaning. What changed is how it is estimated, because a k-permutation MinHash
# (datasketch.MinHash) costs O(shingles × k): ~0.35 ms per article at k = 128, half of what
# parsing the page costs, plus ~0.1 ms to construct the object (it regenerates its
# permutations). datasketch has no one-permutation variant, so the scheme is written here:
#
# * every shingle is hashed once, vectorised over the text's code points (no Python loop per
#   word): a lookup table folds case and marks word characters, a polynomial hash mod 2**64 per
#   word (one segment sum per word, made position-free by the inverse power of its start), a
#   linear combination per word triple and a xorshift-multiply finaliser;
# * one-permutation hashing (Li, Owen & Zhang 2012): the top bits of a shingle's hash pick one
#   of k bins, each bin keeps the minimum hash that falls into it;
# * optimal densification (Shrivastava 2017): an empty bin copies the value of the first
#   non-empty bin along a probe sequence that depends only on (bin, attempt), so two documents
#   that agree on the donor agree on the copy and the collision probability of every bin is
#   still the Jaccard similarity.
#
# The result is a drop-in replacement: k uint64 values, estimated Jaccard = share of equal
# positions, LSH bands of ``rows`` values. Stored signatures and bands of another scheme are
# not comparable with these: migration 0004 recomputed them from the stored bodies, and any
# later change of this code needs the same.

SIGNATURE_SCHEME = "oph1"

_U64 = np.uint64
_EMPTY = _U64(0xFFFFFFFFFFFFFFFF)  # an empty bin (only left when the text has no word at all)
_SHIFT32 = _U64(32)
_WORD_BASE = 0x100000001B3  # odd, so it has an inverse mod 2**64
_GOLDEN = 0x9E3779B97F4A7C15
_MIX = _U64(0xBF58476D1CE4E5B9)
# Per-position multipliers of the words in a shingle (odd; the last word is added as is).
_SHINGLE_MULTIPLIERS = (_U64(_GOLDEN), _U64(0xC2B2AE3D27D4EB4F), _U64(0x165667B19E3779F9))
_DENSIFY_ATTEMPTS = 16


@functools.cache
def _fold_table() -> np.ndarray:
    r"""Return code point → case-folded code point for word characters, 0 for the rest (BMP).

    Word characters are those of ``\w`` (alphanumeric or ``_``) after ``str.casefold``. A
    character whose case fold is several characters (ß → ss) keeps its own code point. Code
    points outside the BMP arrive as UTF-16 surrogates and count as separators, like emoji.
    Built on first use (~20 ms) rather than at import: only hashing processes need it.
    """
    table = np.zeros(0x10000, dtype=_U64)
    for code in range(0x10000):
        if 0xD800 <= code <= 0xDFFF:
            continue
        char = chr(code)
        folded = char.casefold()
        if len(folded) == 1 and (folded == "_" or folded.isalnum()):
            table[code] = ord(folded)
        elif char == "_" or char.isalnum():
            table[code] = code
    return table


@functools.cache
def _power_tables(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return ``B**i`` and ``B**-i`` mod 2**64 for i < size (B: the word hash base)."""
    tables = []
    for base in (_WORD_BASE, pow(_WORD_BASE, -1, 1 << 64)):
        powers = np.full(size, base, dtype=_U64)
        powers[0] = 1
        tables.append(np.cumprod(powers, dtype=_U64))
    return tables[0], tables[1]


def shingle_hashes(text: str, size: int = 3) -> np.ndarray:
    """Return a 64-bit hash per word ``size``-gram of ``text`` (case-folded), in text order.

    Repeated shingles repeat their hash (MinHash does not care). A text with fewer than
    ``size`` words is one shingle of all its words; a text without words has none. The hash
    of a shingle depends only on its words, not on the text around it or on the process.
    """
    # A leading separator makes every word start visible as a 0 → non-0 step.
    codes = np.frombuffer((" " + text).encode("utf-16-le"), dtype=np.uint16)
    folded = _fold_table().take(codes)
    is_word = folded != 0
    starts = np.flatnonzero(is_word[1:] > is_word[:-1])
    count = len(starts)
    if count == 0:
        return np.empty(0, dtype=_U64)
    # Tables in powers of two from 64 Ki: few sizes, each computed once per process.
    powers, inverses = _power_tables(1 << max(16, (len(codes) - 1).bit_length()))
    # Word hash: sum of c_j * B**j over the word's characters (separators are 0), shifted to
    # start at B**0 by the inverse power of its first position; uint64 arithmetic wraps.
    words = np.add.reduceat(folded[1:] * powers[: len(codes) - 1], starts)
    words *= inverses.take(starts)
    if count < size:
        combined = words[:1].copy()
        for value in words[1:]:
            combined = combined * _SHINGLE_MULTIPLIERS[0] + value
        hashes = combined
    else:
        n = count - size + 1
        hashes = words[:n] * _SHINGLE_MULTIPLIERS[0]
        for offset in range(1, size):
            word = words[offset : offset + n]
            if offset == size - 1:
                hashes += word
            else:
                hashes += word * _SHINGLE_MULTIPLIERS[offset % len(_SHINGLE_MULTIPLIERS)]
    # Finaliser: the bin is taken from the top bits, so they must depend on every input bit.
    hashes ^= hashes >> _SHIFT32
    hashes *= _MIX
    return hashes


@functools.cache
def _probe_table(bins: int) -> np.ndarray:
    """Return the densification probe sequence: row a holds the donor of every bin at try a."""
    index = np.arange(bins, dtype=_U64)
    rows = []
    for attempt in range(_DENSIFY_ATTEMPTS):
        value = (index + _U64(attempt * bins + 1)) * _U64(_GOLDEN)
        value ^= value >> _SHIFT32
        value *= _MIX
        rows.append((value >> _SHIFT32) * _U64(bins) >> _SHIFT32)
    return np.array(rows, dtype=np.intp)


def _densify(signature: np.ndarray, empty: np.ndarray) -> None:
    """Fill the ``empty`` bins of ``signature`` in place from non-empty donor bins."""
    filled = signature != _EMPTY
    # Every attempt at once (a few array operations instead of a loop per attempt): the donor
    # of an empty bin is its first probe that lands on a non-empty bin.
    probes = _probe_table(len(signature))[:, empty]
    found = filled[probes]
    first = found.argmax(axis=0)
    columns = np.arange(len(empty))
    donors = probes[first, columns]
    missing = ~found[first, columns]
    if missing.any():
        # Very short texts (a few shingles, most bins empty) can miss on every probe: then
        # the next non-empty bin to the right, circularly. Still a function of the filled
        # bins only, so two texts with the same filled bins agree.
        nonempty = np.flatnonzero(filled)
        lost = empty[missing]
        donors[missing] = nonempty[np.searchsorted(nonempty, lost) % len(nonempty)]
    signature[empty] = signature[donors]


@functools.cache
def _empty_signature(bins: int) -> np.ndarray:
    return np.full(bins, _EMPTY, dtype=_U64)  # copied per text: cheaper than np.full each time


def minhash_signature(text: str, num_perm: int = 128) -> np.ndarray:
    """Return the MinHash signature (``num_perm`` uint64 values) of ``text``'s word 3-shingles.

    One-permutation hashing with densification (see the comment above ``SIGNATURE_SCHEME``):
    the share of equal positions of two signatures estimates the Jaccard similarity of the
    two shingle sets, as with a k-permutation MinHash, for a fraction of the cost.
    """
    hashes = shingle_hashes(text)
    signature = _empty_signature(num_perm).copy()
    if not len(hashes):
        return signature  # no words: every such text looks alike, as with datasketch
    # Multiply-shift: the bin is monotone in the hash and uniform for any number of bins; for
    # a power of two it equals the top bits, which one shift gives.
    if num_perm > 1 and num_perm & (num_perm - 1) == 0:
        bins = hashes >> _U64(64 - num_perm.bit_length() + 1)
    else:
        bins = (hashes >> _SHIFT32) * _U64(num_perm) >> _SHIFT32
    np.minimum.at(signature, bins, hashes)
    empty = np.flatnonzero(signature == _EMPTY)
    if len(empty):
        _densify(signature, empty)
    return signature


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


@functools.cache
def _band_constants(bands: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the odd per-row multipliers and a per-band offset of the band hashes."""
    multipliers = (np.arange(1, rows + 1, dtype=_U64) * _U64(_GOLDEN)) | _U64(1)
    offsets = np.arange(1, bands + 1, dtype=_U64) * _MIX
    return multipliers, offsets


def band_hashes(signature: np.ndarray, rows: int) -> list[int]:
    """Return one signed 64-bit hash per LSH band of ``rows`` values (a trailing partial band
    is dropped), storable in an indexed integer column.

    A band's hash is a linear combination of its values with odd multipliers plus a per-band
    offset (mod 2**64): the values are already uniform 64-bit hashes, so no further mixing is
    needed, and equal values in different bands still give different hashes.
    """
    bands = len(signature) // rows
    multipliers, offsets = _band_constants(bands, rows)
    values = np.asarray(signature[: bands * rows], dtype=_U64).reshape(bands, rows)
    keys = values @ multipliers
    keys += offsets
    result: list[int] = keys.view(np.int64).tolist()
    return result
