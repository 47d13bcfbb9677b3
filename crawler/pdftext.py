"""Read the text of a PDF attachment (press releases) with pypdf; pure, bytes in, text out."""

from __future__ import annotations

import io
import logging
import re
import zlib
from collections.abc import Sequence

__all__ = ["MAX_PAGES", "PdfTextError", "pdf_text", "reflow_lines"]

# Press releases run to a few pages plus annexes; a 300-page report is not one, and reading it
# all would hold a parser worker for seconds.
MAX_PAGES = 60

# Page furniture that is not prose: "- 3 -", "3 / 12", "3".
_PAGE_NUMBER_RE = re.compile(r"^(?:-\s*\d{1,3}\s*-|\d{1,3}\s*/\s*\d{1,3}|\d{1,3})$")
# A line that opens a new paragraph in a Korean government document: □ ○ ◦ - ※ ▶ · 1. 가.
_BULLET_RE = re.compile(r"^(?:[□■○●◦◇◆▶▷※·∙•]|[-–]\s|\d{1,2}[.)]\s|[가-하][.)]\s|\(\d{1,2}\)|<)")
_TERMINAL = (".", "!", "?", ":", "-", "”", '"')
# A line was wrapped only when the next line's first word would not have fitted after it; the
# width is the longest line, with slack for proportional fonts (Latin letters are narrower).
_FIT_SLACK = 0.9

# pypdf raises its own errors for most damage, but a truncated or hand-mangled file can surface
# as a plain ValueError/KeyError/... from deep inside the object parser.
# (PyPdfError joins them at the call: pypdf is imported only when a PDF is read, since it costs
# ~20 MB in every crawl and worker process and only ministry attachments need it.)
_READ_ERRORS = (
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    AssertionError,
    RecursionError,
    zlib.error,
    OSError,
)

logger = logging.getLogger(__name__)


class PdfTextError(Exception):
    """The bytes are not a readable PDF, or the PDF holds no extractable text."""


def pdf_text(data: bytes, *, max_pages: int = MAX_PAGES) -> str:
    """Return the PDF's text as paragraphs, one per line, or raise PdfTextError.

    Lines that the PDF wrapped are joined back into paragraphs (see ``reflow_lines``) and page
    numbers are dropped, so the result reads like an article body. Only the first ``max_pages``
    pages are read.
    """
    if not data.strip():
        raise PdfTextError("empty file: the response has no bytes")
    start = data.find(b"%PDF-", 0, 1024)
    if start < 0:
        head = data[:40].decode("latin-1").strip()
        raise PdfTextError(f"not a PDF: no %PDF- header (starts with {head!r})")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data[start:]), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfTextError("the PDF is encrypted with a password")
        pages = reader.pages
        count = len(pages)
        lines: list[str] = []
        for index in range(min(count, max_pages)):
            text = pages[index].extract_text() or ""
            lines.extend(text.splitlines())
    except PdfTextError:
        raise
    except (PyPdfError, *_READ_ERRORS) as exc:
        raise PdfTextError(f"unreadable PDF: {type(exc).__name__}: {exc}") from None
    if count > max_pages:
        logger.info("PDF has %d pages; read the first %d", count, max_pages)
    paragraphs = reflow_lines(lines)
    if not paragraphs:
        raise PdfTextError(
            f"the PDF has no extractable text ({count} page(s); scanned images or no font map)"
        )
    return "\n".join(paragraphs)


def reflow_lines(lines: Sequence[str]) -> list[str]:
    """Return paragraphs rebuilt from a PDF's wrapped lines, without page numbers.

    A line starts a new paragraph when it opens with a bullet (□ ○ - ※ 1. …), when the line
    before ended a sentence (. ! ? : - …) or when the line before was not wrapped: its first
    word would have fitted at the end of the line before. Korean documents wrap between words
    (어절), so joined lines get one space.
    """
    cleaned = [" ".join(line.split()) for line in lines]
    cleaned = [line for line in cleaned if line and not _PAGE_NUMBER_RE.match(line)]
    if not cleaned:
        return []
    width = max(len(line) for line in cleaned) * _FIT_SLACK
    paragraphs: list[str] = []
    previous = ""
    for line in cleaned:
        starts_new = (
            not paragraphs
            or _BULLET_RE.match(line) is not None
            or previous.endswith(_TERMINAL)
            or len(previous) + 1 + len(line.split(" ", 1)[0]) <= width
        )
        if starts_new:
            paragraphs.append(line)
        else:
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        previous = line
    return paragraphs
