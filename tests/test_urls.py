"""Canonical URLs and Naver article identity."""

from __future__ import annotations

import pytest

from tracker.urls import canonical_url, is_under_domain, naver_article_id, naver_canonical_url

NAVER_HOSTS = ("n.news.naver.com", "news.naver.com", "m.news.naver.com", "127.0.0.1:8080")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/a/b/?utm_source=naver&utm_medium=x#top",
            "https://www.example.com/a/b",
        ),
        ("http://example.com:80/news?b=2&a=1", "http://example.com/news?a=1&b=2"),
        ("http://example.com:8080//x//y/", "http://example.com:8080/x/y"),
        (
            "https://example.com/view?idxno=123&fbclid=zz&from=rss",
            "https://example.com/view?idxno=123",
        ),
        ("https://example.com/", "https://example.com/"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent() -> None:
    url = "https://Example.com/a/?z=1&utm_campaign=q&a=2"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://n.news.naver.com/mnews/article/009/0005614000?sid=105",
        "https://n.news.naver.com/article/009/0005614000",
        "https://m.news.naver.com/article/009/0005614000",
        "https://news.naver.com/main/read.naver?mode=LSD&mid=sec&sid1=105&oid=009&aid=0005614000",
        "https://news.naver.com/main/read.nhn?oid=009&aid=0005614000",
        "http://127.0.0.1:8080/mnews/article/009/0005614000",
    ],
)
def test_naver_article_id_variants(url: str) -> None:
    assert naver_article_id(url, NAVER_HOSTS) == ("009", "0005614000")


def test_naver_article_id_rejects_other_hosts_and_shapes() -> None:
    assert naver_article_id("https://example.com/mnews/article/009/0005614000", NAVER_HOSTS) is None
    assert naver_article_id("https://n.news.naver.com/main/ranking", NAVER_HOSTS) is None
    assert (
        naver_article_id("https://news.naver.com/main/read.naver?oid=9&aid=1", NAVER_HOSTS) is None
    )


def test_naver_canonical_and_domains() -> None:
    assert (
        naver_canonical_url("421", "0008770777")
        == "https://n.news.naver.com/mnews/article/421/0008770777"
    )
    assert is_under_domain("https://www.korea.kr/briefing/x", ["korea.kr"])
    assert not is_under_domain("https://notkorea.kr/x", ["korea.kr"])
