"""lxml helpers shared by page objects: parsing, readable text from a subtree, meta tags."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml import etree, html
from lxml.html import HtmlElement

__all__ = [
    "BLOCK_TAGS",
    "NON_TEXT_TAGS",
    "HtmlElement",
    "class_xpath",
    "clean_lines",
    "first_text",
    "meta_map",
    "parse_document",
    "parse_plain_document",
    "readable_text",
    "string_value",
    "strip_trailing_boilerplate",
]

# Tags whose start and end break a line, as a browser would render them.
BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption",
        "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main",
        "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# Tags that never hold article prose.
NON_TEXT_TAGS = frozenset(
    {
        "audio", "button", "canvas", "embed", "form", "iframe", "img", "input", "noscript",
        "object", "picture", "script", "select", "source", "style", "svg", "template",
        "textarea", "video",
    }
)  # fmt: skip

_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>")
# Lines that end Korean articles without being part of them: copyright notices
# ("ⓒ 뉴스1", "<저작권자(c) 연합뉴스 …>", "[Copyright © YTN …]") and promotion links
# ("▶ 네이버 메인에서 구독하기", "[구독하기]").
_TRAILING_BOILERPLATE_RE = re.compile(
    r"^[\[<(]?\s*(?:[©ⓒ]|\(c\)|copyright\b|저작권자|무단\s?전재|[▶☞▷►])"
    r"|^\[[^\]]*(?:구독|바로가기)[^\]]*\]$",
    re.IGNORECASE,
)
_HTML_PARSER = html.HTMLParser(remove_comments=False, remove_pis=True)
# The same parse without lxml.html's element classes: lxml.html picks the class of every
# element proxy in Python (HtmlElementClassLookup.lookup), about 1 µs each time an element is
# reached from Python, which is a good part of reading a page. The UTF-8 variant parses the
# text encoded back to UTF-8, which libxml2 reads faster than the UTF-16/UCS-4 buffer of a str.
# collect_ids=False: no table of id attributes, which only XPath's id() would read.
_PLAIN_PARSER = etree.HTMLParser(remove_comments=False, remove_pis=True, collect_ids=False)
_PLAIN_UTF8_PARSER = etree.HTMLParser(
    remove_comments=False, remove_pis=True, collect_ids=False, encoding="utf-8"
)
# XPath's string value of an element: exactly what HtmlElement.text_content() returns.
string_value: Callable[[etree._Element], str] = etree.XPath("string()", smart_strings=False)


def parse_document(text: str) -> HtmlElement:
    """Return the root <html> element of a (possibly broken or truncated) HTML document.

    Raises ``ValueError`` when there is no element at all.
    """
    # lxml refuses str input that still carries an encoding declaration.
    text = _XML_DECL_RE.sub("", text, count=1)
    try:
        root: HtmlElement = html.document_fromstring(text, parser=_HTML_PARSER)
    except etree.ParserError as exc:  # "Document is empty"
        raise ValueError(str(exc)) from exc
    return root


def parse_plain_document(text: str) -> etree._Element:
    """Return the same tree as ``parse_document``, as plain ``lxml.etree`` elements.

    For page objects that read many elements: see ``_PLAIN_PARSER``. The elements lack the
    ``lxml.html`` methods; use ``string_value(el)`` for ``el.text_content()``.
    """
    text = _XML_DECL_RE.sub("", text, count=1)
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: let lxml read the str itself
        root = etree.fromstring(text, parser=_PLAIN_PARSER)
    else:
        root = etree.fromstring(data, parser=_PLAIN_UTF8_PARSER)
    if root is None:  # as html.document_fromstring
        raise ValueError("Document is empty")
    return root


def class_xpath(name: str) -> str:
    """Return an XPath predicate body matching elements whose class list contains ``name``."""
    # The plain contains() first: the same result (a class token is a substring of @class),
    # but most elements fail it without building the normalized, padded string.
    return (
        f"(contains(@class, '{name}')"
        f" and contains(concat(' ', normalize-space(@class), ' '), ' {name} '))"
    )


def clean_lines(lines: Iterable[str]) -> list[str]:
    """Return lines with whitespace runs collapsed, ends stripped and blank lines dropped."""
    out = []
    for line in lines:
        # Fast path with the same result: every whitespace character but " " is a control or
        # separator character, which isprintable() rejects, so a printable line without a
        # double space only needs its ends stripped (split/join makes a str per word).
        if line.isprintable() and "  " not in line:
            cleaned = line.strip(" ")
        else:
            cleaned = " ".join(line.split())
        if cleaned:
            out.append(cleaned)
    return out


def strip_trailing_boilerplate(lines: list[str]) -> list[str]:
    """Return ``lines`` without trailing copyright and promotion lines."""
    end = len(lines)
    while end and _TRAILING_BOILERPLATE_RE.match(lines[end - 1]):
        end -= 1
    return lines[:end]


def _walk(
    el: etree._Element,
    out: list[str],
    skip: Callable[[etree._Element], bool] | None,
    non_text: frozenset[str] = NON_TEXT_TAGS,
    blocks: frozenset[str] = BLOCK_TAGS,
) -> None:
    # Called for every element of a body: the sets are default arguments (fast locals).
    add = out.append
    for child in el:
        tag = child.tag
        if not isinstance(tag, str):  # comment or processing instruction: keep only its tail
            tail = child.tail
            if tail:
                add(tail.replace("\n", " "))
            continue
        if tag in non_text or (skip is not None and skip(child)):
            pass
        elif tag == "br":
            add("\n")
        else:
            block = tag in blocks
            if block:
                add("\n")
            text = child.text
            if text:
                add(text.replace("\n", " "))
            if len(child):
                _walk(child, out, skip)
            if block:
                add("\n")
        tail = child.tail
        if tail:
            add(tail.replace("\n", " "))


def readable_text(el: etree._Element, skip: Callable[[etree._Element], bool] | None = None) -> str:
    """Return the visible text under ``el``: one paragraph per line, no blank lines.

    Source newlines are only whitespace (as in a browser); ``<br>`` and block elements end a
    line. Elements for which ``skip`` returns true are left out, but their tail text is kept.
    Text nodes only have their newlines turned into spaces here (cheap ``str.replace``, not a
    regex per node): every other run of whitespace is collapsed per line by ``clean_lines``.
    """
    out: list[str] = []
    if el.text:
        out.append(el.text.replace("\n", " "))
    _walk(el, out, skip)
    return "\n".join(clean_lines("".join(out).split("\n")))


def first_text(nodes: Iterable[etree._Element | str]) -> str | None:
    """Return the first non-empty, whitespace-collapsed text among elements or strings."""
    for node in nodes:
        value = node if isinstance(node, str) else string_value(node)
        value = " ".join(value.split())
        if value:
            return value
    return None


_META_XPATH = etree.XPath("//meta[@content]")


def meta_map(root: HtmlElement) -> dict[str, str]:
    """Return meta tags as ``{lowercased property/name/itemprop: content}``, first one wins."""
    metas: dict[str, str] = {}
    for meta in _META_XPATH(root):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        if not key:
            continue
        content = " ".join(meta.get("content", "").split())
        if content:
            metas.setdefault(key.strip().lower(), content)
    return metas
