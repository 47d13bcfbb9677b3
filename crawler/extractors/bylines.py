"""Turn Korean bylines ("홍길동 기자 (hong@x.com)", "(서울=뉴스1) 홍길동 기자 =") into names."""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "dateline_reporters",
    "leading_byline",
    "names_from_byline",
    "trailing_byline",
    "unique",
]

# Job titles that follow (or precede) a reporter's name in Korean bylines. Longer first so
# "선임기자" is removed whole rather than leaving "선임".
_ROLES = (
    "선임기자", "수석기자", "전문기자", "객원기자", "인턴기자", "기자", "특파원", "논설위원",
    "편집위원", "칼럼니스트", "기상캐스터", "앵커", "리포터", "통신원", "디자이너", "에디터",
    "PD", "인턴",
)  # fmt: skip
_ROLE_RE = re.compile("|".join(_ROLES))
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PAREN_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]|<[^>]*>")
_SPLIT_RE = re.compile(r"[,·ㆍ/&|;]|\s+및\s+|\s+and\s+")
_HANGUL_NAME_RE = re.compile(r"^[가-힣]{2,5}$")
# A Latin name needs a lowercase letter, so acronyms such as "YTN" or "AP" are not people.
_LATIN_NAME_RE = re.compile(r"^(?=.*[a-z])[A-Za-z][A-Za-z .'-]{1,40}$")
_DATELINE_PLACE_RE = re.compile(r"[^\s=()\[\]]+\s*=")
_BY_RE = re.compile(r"^\s*by\s+", re.IGNORECASE)
# Words that show up where a byline is expected but are not names.
_NOT_NAMES = frozenset(
    {"입력", "수정", "등록", "기사입력", "최종수정", "사진", "영상", "그래픽", "디자인", "뉴스"}
)

# "(서울=뉴스1) 홍길동 기자 =" / "[서울=뉴시스]홍길동 김철수 기자 =" at the start of a wire story.
_DATELINE_RE = re.compile(
    r"^\s*[(\[]\s*[^()\[\]=]{1,20}=\s*[^()\[\]]{1,20}[)\]]\s*"
    r"(?P<names>[가-힣]{2,4}(?:\s*[,·ㆍ]?\s*[가-힣]{2,4})*)\s*(?:선임|수석|객원|인턴)?"
    r"(?:기자|특파원)\s*="
)
# A line that is only a byline: "이윤주 기자 runyj@kyunghyang.com", "이창곤 선임기자".
_BYLINE_LINE_RE = re.compile(
    r"^(?P<names>[가-힣]{2,4}(?:\s*[,·ㆍ]\s*[가-힣]{2,4})*)\s*(?:선임|수석|객원|인턴|전문)?"
    r"(?:기자|특파원)\s*(?:[(\[]?\s*[\w.+-]+@[\w-]+(?:\.[\w-]+)+\s*[)\]]?)?$"
)


def unique(names: Iterable[str]) -> tuple[str, ...]:
    """Return names without duplicates, first occurrence order."""
    return tuple(dict.fromkeys(n for n in names if n))


def names_from_byline(text: str | None) -> tuple[str, ...]:
    """Return the person names in a byline, without titles, emails or parentheses.

    Tokens that do not look like a Korean (2–5 syllables) or Latin name are dropped, so a
    desk credit such as "뉴스1" or a garbled string yields nothing rather than a fake person.
    """
    if not text:
        return ()
    text = _PAREN_RE.sub(" ", _EMAIL_RE.sub(" ", text))
    # "워싱턴=홍길동 특파원": the place before "=" is a dateline, not a person.
    text = _DATELINE_PLACE_RE.sub(" ", _ROLE_RE.sub(" ", text)).replace("=", " ")
    names = []
    for part in _SPLIT_RE.split(text):
        part = " ".join(_BY_RE.sub("", part).split()).strip(" .")
        if _LATIN_NAME_RE.match(part):
            names.append(part)
            continue
        # Korean names carry no inner space, so "홍길동 김철수" is two people.
        for token in part.split():
            if token not in _NOT_NAMES and _HANGUL_NAME_RE.match(token):
                names.append(token)
    return unique(names)


def dateline_reporters(body: str) -> tuple[str, ...]:
    """Return reporters named in a wire-style dateline at the start of ``body``."""
    match = _DATELINE_RE.match(body)
    return names_from_byline(match["names"]) if match else ()


def leading_byline(line: str) -> tuple[str, ...]:
    """Return the names when ``line`` is nothing but a byline, else an empty tuple."""
    match = _BYLINE_LINE_RE.match(line.strip())
    return names_from_byline(match["names"]) if match else ()


# A closing byline sits in the last few lines, often followed by an email line.
_TRAILING_BYLINE_LINES = 3


def trailing_byline(lines: list[str]) -> tuple[str, ...]:
    """Return the names of a byline-only line among the last lines of a body."""
    for line in reversed(lines[-_TRAILING_BYLINE_LINES:]):
        names = leading_byline(line)
        if names:
            return names
    return ()
