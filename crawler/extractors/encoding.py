"""Decode raw HTML bytes to text: BOM, HTTP header, <meta> charset, and a strict-decode check."""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DecodedHtml",
    "charset_from_content_type",
    "charset_from_meta",
    "decode_html",
    "is_cp949_mojibake",
    "normalize_charset",
]

DecisionSource = Literal["bom", "header", "meta", "sniffed", "replacement"]

# The meta prescan looks this far into the body. Browsers stop at 1 KiB, but old Korean
# publisher pages put kilobytes of inline script before their <meta>, and scanning is cheap.
_PRESCAN_BYTES = 16 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# EUC-KR labels all map to CP949 (its superset): servers that say "euc-kr" routinely send
# CP949-only syllables (똠, 햏 …), which a strict EUC-KR codec would reject.
_ALIASES: dict[str, str] = {
    "euc-kr": "cp949",
    "euc_kr": "cp949",
    "euckr": "cp949",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "korean": "cp949",
    "windows-949": "cp949",
    "x-windows-949": "cp949",
    "ms949": "cp949",
    "uhc": "cp949",
    "utf8": "utf-8",
    "unicode-1-1-utf-8": "utf-8",
    # WHATWG: these labels mean windows-1252 on the web.
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
}

_CHARSET_PARAM_RE = re.compile(r"""charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_META_CHARSET_RE = re.compile(
    rb"""<meta\b[^>]*?\bcharset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE
)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml\b[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)""")


@dataclass(frozen=True, slots=True)
class DecodedHtml:
    """HTML text plus how its encoding was decided.

    ``encoding`` is the Python codec actually used; ``declared`` is the normalized charset the
    header or document claimed (``None`` when nothing was declared); ``lossy`` is true when
    undecodable bytes were replaced with U+FFFD.
    """

    text: str
    encoding: str
    declared: str | None
    source: DecisionSource
    lossy: bool = False


def normalize_charset(label: str | None) -> str | None:
    """Return the Python codec name for a charset label, or None when it is unknown."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    key = _ALIASES.get(key, key)
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    # codecs.lookup("cp949").name is "cp949"; lookup("utf-8").name is "utf-8".
    return _ALIASES.get(name, name)


def charset_from_content_type(headers: Mapping[str, str] | None) -> str | None:
    """Return the normalized charset of a Content-Type header, looked up case-insensitively."""
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == "content-type" and value:
            match = _CHARSET_PARAM_RE.search(value)
            return normalize_charset(match.group(1)) if match else None
    return None


def charset_from_meta(body: bytes) -> str | None:
    """Return the normalized charset from an XML declaration or <meta> tag near the start."""
    # endpos bounds the scan without copying the first 16 KiB of the body.
    xml = _XML_DECL_RE.match(body, 0, _PRESCAN_BYTES)
    if xml:
        return normalize_charset(xml.group(1).decode("ascii", "replace"))
    # Covers both <meta charset="x"> and <meta http-equiv="Content-Type" content="…; charset=x">.
    match = _META_CHARSET_RE.search(body, 0, _PRESCAN_BYTES)
    if match:
        return normalize_charset(match.group(1).decode("ascii", "replace"))
    return None


def _strict(body: bytes, codec: str) -> str | None:
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, headers: Mapping[str, str] | None = None) -> DecodedHtml:
    """Return the decoded text of an HTML body and the evidence behind the chosen encoding.

    Order: a byte-order mark always wins (a saved UTF-16 page keeps its stale
    ``<meta charset="utf-8">``). Otherwise the declaration (header, then <meta>) is used when the
    bytes decode strictly with it, unless the bytes are *also* valid non-ASCII UTF-8: most
    CP949 Hangul lead bytes (0xB0–0xC1) are UTF-8 continuation or invalid bytes, so real CP949
    Korean text is practically never valid UTF-8, while a short UTF-8 text can survive a strict
    CP949 decode as garbage. When the declaration fails, UTF-8 then CP949 are tried strictly;
    as a last resort the declared (or UTF-8) codec decodes with replacement characters.
    """
    from_header = charset_from_content_type(headers)
    from_meta = charset_from_meta(body)
    for bom, codec in _BOMS:
        if body.startswith(bom):
            bom_text = body[len(bom) :].decode(codec, errors="replace")
            lossy = "\ufffd" in bom_text
            return DecodedHtml(bom_text, codec, from_header or from_meta, "bom", lossy)

    declarations = [c for c in dict.fromkeys((from_header, from_meta)) if c]
    # Apache's default "charset=ISO-8859-1" header is the classic lie on old Korean sites
    # whose pages say euc-kr in <meta>; let a more specific <meta> go first in that case.
    if len(declarations) == 2 and declarations[0] == "cp1252":
        declarations.reverse()
    declared = from_header or from_meta

    utf8_text: str | None = None
    for codec in declarations:
        if codec != "utf-8":
            # Checked first because it is decisive and a failing UTF-8 decode stops at the
            # first CP949 byte, whereas a failing CP949 decode of UTF-8 may run far.
            if utf8_text is None:
                utf8_text = _strict(body, "utf-8")
            if utf8_text is not None and not utf8_text.isascii():
                return DecodedHtml(utf8_text, "utf-8", declared, "sniffed")
        text = _strict(body, codec)
        if text is not None:
            source: DecisionSource = "header" if codec == from_header else "meta"
            return DecodedHtml(text, codec, declared, source)

    for codec in ("utf-8", "cp949"):
        if codec in declarations:
            continue  # already failed strictly above
        sniffed = _strict(body, codec)
        if sniffed is not None:
            return DecodedHtml(sniffed, codec, declared, "sniffed")
    codec = declared or "utf-8"
    return DecodedHtml(body.decode(codec, errors="replace"), codec, declared, "replacement", True)


def _ksx1001_syllables() -> str:
    # KS X 1001 (the EUC-KR core) holds the 2,350 Hangul syllables in rows 0xB0–0xC8.
    chars = []
    for lead in range(0xB0, 0xC9):
        for trail in range(0xA1, 0xFF):
            try:
                chars.append(bytes((lead, trail)).decode("euc_kr"))
            except UnicodeDecodeError:
                continue
    return "".join(chars)


_KSX1001 = frozenset(_ksx1001_syllables())
_HANGUL_RE = re.compile("[\uac00-\ud7a3]")
_RARE_HANGUL_RE = re.compile(
    "[" + "".join(chr(c) for c in range(0xAC00, 0xD7A4) if chr(c) not in _KSX1001) + "]"
)

# Below this many syllables the ratio is noise; above this share of rare syllables the text
# is CP949-misread UTF-8. Real Korean news text (all 24 real samples) scores 0%; the saved
# mojibake page scores 77%.
_MOJIBAKE_MIN_SYLLABLES = 8
_MOJIBAKE_RARE_SHARE = 0.3


def is_cp949_mojibake(text: str) -> bool:
    """Return True when Korean text looks like UTF-8 bytes that were decoded as CP949.

    That corruption maps UTF-8 continuation bytes onto CP949's extension rows, so most of
    the resulting syllables lie outside the 2,350 KS X 1001 syllables that real text uses.
    """
    # Real text has no rare syllable at all: one scan that allocates nothing settles it (a
    # share of 0 is below any threshold), where counting makes a str object per syllable.
    if _RARE_HANGUL_RE.search(text) is None:
        return False
    total = len(_HANGUL_RE.findall(text))
    if total < _MOJIBAKE_MIN_SYLLABLES:
        return False
    return len(_RARE_HANGUL_RE.findall(text)) / total >= _MOJIBAKE_RARE_SHARE
