"""Map world requests (path, query, headers) to responses; no sockets here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, overload
from urllib.parse import parse_qs, urlsplit

from tracker.world import failures, feeds, naver_api, responses
from tracker.world.catalog import Catalog
from tracker.world.content import Publisher, WorldArticle
from tracker.world.dates import publisher_text
from tracker.world.generator import (
    LAYOUTS,
    GenDoc,
    Generated,
    gen_layout,
    gen_publisher,
    make_doc,
)
from tracker.world.msit import MsitBoard
from tracker.world.pages import (
    PageDoc,
    doc_from_article,
    naver_origin_url,
    render_index,
    render_naver,
    render_publisher_article,
    render_publisher_home,
)
from tracker.world.responses import Response
from tracker.world.search import matches, parse_query, score, squash

FEED_LIMIT = 30
GNEWS_LIMIT = 100
GEN_FEED_DEFAULT = 100
GEN_FEED_MAX = 5000
# Storyline articles reused by the failure routes.
WRONG_CHARSET_ARTICLE = "d4-kyungje-stage1-wire"
BROKEN_ARTICLE = "d4-digitalpost-stage1-wire"
_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00"
    b"\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)


class WorldSettings(Protocol):
    """The mutable knobs of a running world that routing reads on every request."""

    day: int | None
    api_mode: str
    client_id: str
    client_secret: str


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed request; ``headers`` keys are lowercase."""

    method: str
    target: str
    headers: dict[str, str]
    base: str

    @property
    def path(self) -> str:
        """Return the path without the query string."""
        return urlsplit(self.target).path

    @property
    def query(self) -> str:
        """Return the raw query string."""
        return urlsplit(self.target).query

    @property
    def params(self) -> dict[str, list[str]]:
        """Return the decoded query parameters."""
        return parse_qs(self.query, keep_blank_values=True)


Handler = Callable[[Request, WorldSettings, "re.Match[str]"], Response]


class Router:
    """Dispatch requests to the renderers of the storyline, feeds, APIs and failures."""

    def __init__(self, catalog: Catalog, generated: Generated | None = None) -> None:
        self.catalog = catalog
        self.generated = generated
        self._api_entries: dict[tuple[str, int | None], list[naver_api.ApiEntry]] = {}
        # Per (query, sort): the matching generated indexes in the API's order (ints only, so
        # a 100k corpus costs a few MB, not its text).
        self._gen_hits: dict[tuple[str, str], list[int]] = {}
        self._gen_scores: dict[str, list[tuple[int, int]]] = {}
        self.msit = MsitBoard(catalog)
        self._routes: list[tuple[re.Pattern[str], Handler]] = [
            (re.compile(r"/"), self._index),
            (re.compile(r"/robots\.txt"), self._robots),
            (re.compile(r"/(?:favicon\.ico|static/.*)"), self._static),
            (re.compile(r"/(?:mnews/)?article/(\d{3})/(\d{10})"), self._naver_article),
            (re.compile(r"/pub/([a-z0-9]+)/?"), self._publisher_home),
            (re.compile(r"/pub/([a-z0-9]+)(/.+)"), self._publisher_article),
            (re.compile(r"/rss/search"), self._google_news),
            (re.compile(r"/rss/articles/([A-Za-z0-9_-]+)"), self._google_redirect),
            (re.compile(r"/rss/([a-z0-9]+)\.xml"), self._rss),
            (re.compile(r"/atom/([a-z0-9]+)\.xml"), self._atom),
            (re.compile(r"/v1/search/news\.json"), self._api),
            (re.compile(r"/v1/search/.*"), self._api_unknown),
            (re.compile(r"/gen/naver/(\d+)"), self._gen_naver),
            (re.compile(r"/gen/publisher/(\d+)"), self._gen_publisher),
            (re.compile(r"/gen/feed\.xml"), self._gen_feed),
            (re.compile(r"/gen/v1/search/news\.json"), self._gen_api),
            (re.compile(r"/fail/([a-z0-9.]+)"), self._fail),
            (re.compile(r"/bbs/list\.do"), self._msit_list),
            (re.compile(r"/bbs/view\.do"), self._msit_view),
            (re.compile(r"/ssm/file/fileDown\.do"), self._msit_file),
        ]

    def handle(self, request: Request, settings: WorldSettings) -> Response:
        """Return the response to ``request`` under the current ``settings``."""
        for pattern, handler in self._routes:
            match = pattern.fullmatch(request.path)
            if match:
                return handler(request, settings, match)
        return responses.not_found()

    # -- site furniture -------------------------------------------------------------------

    def _index(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        publishers = self.catalog.publishers.values()
        page = render_index(
            {
                "base": request.base,
                "day": settings.day,
                "max_day": max(self.catalog.days),
                "now": self.catalog.now(settings.day).isoformat(),
                "api_mode": settings.api_mode,
                "articles": self.catalog.visible(settings.day),
                "feeds": [(p.name, p.key, p.charset) for p in publishers],
                "fail_routes": failures.FAIL_ROUTES,
                "generated": self.generated.count if self.generated else 0,
            }
        )
        return responses.html(page)

    def _robots(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        return responses.text(200, "User-agent: *\nAllow: /\n", "text/plain")

    def _static(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        path = request.path
        if path.endswith(".css"):
            return responses.text(200, "/* world */\n", "text/css")
        if path.endswith(".js"):
            return responses.text(200, "/* world */\n", "application/javascript")
        return responses.text(200, _GIF, "image/gif", charset=None)

    # -- storyline article pages ------------------------------------------------------------

    def _visible(self, article: WorldArticle | None, settings: WorldSettings) -> bool:
        return article is not None and Catalog.is_visible(article, settings.day)

    def _linked(self, article: WorldArticle, base: str, day: int | None) -> list[tuple[str, str]]:
        others = [
            a for a in self.catalog.by_publisher(article.publisher.key, day) if a is not article
        ]
        return [(a.title, a.publisher_url(base)) for a in others[:5]]

    def _naver_article(
        self, request: Request, settings: WorldSettings, match: re.Match[str]
    ) -> Response:
        article = self.catalog.by_naver.get((match.group(1), match.group(2)))
        if article is None or not self._visible(article, settings):
            return responses.not_found("기사를 찾을 수 없습니다")
        page = render_naver(
            doc_from_article(article),
            press_home=f"{request.base}/pub/{article.publisher.key}/",
            origin_url=naver_origin_url(article, request.base),
            linked=self._linked(article, request.base, settings.day),
            now=self.catalog.now(settings.day),
        )
        return responses.html(page)

    def _publisher(self, key: str) -> Publisher | None:
        return self.catalog.publishers.get(key)

    def _publisher_home(
        self, request: Request, settings: WorldSettings, match: re.Match[str]
    ) -> Response:
        publisher = self._publisher(match.group(1))
        if publisher is None:
            return responses.not_found()
        body = render_publisher_home(
            publisher,
            self.catalog.by_publisher(publisher.key, settings.day),
            base=request.base,
            now=self.catalog.now(settings.day),
        )
        return responses.html(body, charset=publisher.charset.upper())

    def render_article_page(self, article: WorldArticle, base: str, day: int | None) -> bytes:
        """Return the outlet page of ``article`` as served on ``day``."""
        siblings = self.catalog.by_publisher(article.publisher.key, day)
        if article.publisher.official:
            # Government boards link the neighbouring releases (이전글/다음글).
            pos = siblings.index(article) if article in siblings else -1
            related = []
            if 0 <= pos + 1 < len(siblings):
                older = siblings[pos + 1]
                related.append(("이전글", older.title, older.publisher_url(base)))
            if pos > 0:
                newer = siblings[pos - 1]
                related.append(("다음글", newer.title, newer.publisher_url(base)))
        else:
            related = [
                (a.title, a.publisher_url(base), publisher_text(a.published_at))
                for a in siblings
                if a is not article
            ][:5]
        return render_publisher_article(
            article.publisher,
            doc_from_article(article),
            canonical_url=article.publisher_url(base),
            related=related,
            base=base,
            now=self.catalog.now(day),
        )

    def _publisher_article(
        self, request: Request, settings: WorldSettings, match: re.Match[str]
    ) -> Response:
        key, path = match.group(1), match.group(2)
        target = f"{path}?{request.query}" if request.query else path
        article = self.catalog.resolve_publisher_url(key, target)
        if article is None or not self._visible(article, settings):
            return responses.not_found("요청하신 기사를 찾을 수 없습니다")
        body = self.render_article_page(article, request.base, settings.day)
        return responses.html(body, charset=article.publisher.charset.upper())

    # -- MSIT press-release board -----------------------------------------------------------

    def _msit_list(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        return self.msit.list_page(request.params, request.base, settings.day)

    def _msit_view(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        return self.msit.view_page(request.params, request.base, settings.day)

    def _msit_file(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        return self.msit.download(request.params, settings.day)

    # -- feeds ------------------------------------------------------------------------------

    def _feed_response(
        self,
        request: Request,
        body: bytes,
        content_type: str,
        charset: str,
        salt: str,
        day: int | None,
    ) -> Response:
        response = responses.text(200, body, content_type, charset)
        return responses.conditional(response, request.headers, self.catalog.now(day), salt)

    def _rss(self, request: Request, settings: WorldSettings, match: re.Match[str]) -> Response:
        return self._publisher_feed(request, settings, match.group(1), atom=False)

    def _atom(self, request: Request, settings: WorldSettings, match: re.Match[str]) -> Response:
        return self._publisher_feed(request, settings, match.group(1), atom=True)

    def _publisher_feed(
        self, request: Request, settings: WorldSettings, key: str, *, atom: bool
    ) -> Response:
        """Return one outlet's RSS (in its own charset) or Atom (UTF-8) feed."""
        publisher = self._publisher(key)
        if publisher is None:
            return responses.not_found()
        articles = self.catalog.by_publisher(publisher.key, settings.day)[:FEED_LIMIT]
        body = (feeds.render_atom if atom else feeds.render_rss)(
            publisher,
            [feeds.article_item(a, request.base) for a in articles],
            base=request.base,
            now=self.catalog.now(settings.day),
            self_url=f"{request.base}{request.path}",
        )
        return self._feed_response(
            request,
            body,
            "application/atom+xml" if atom else "application/rss+xml",
            "UTF-8" if atom else publisher.charset.upper(),
            f"day={settings.day}",
            settings.day,
        )

    def _google_news(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        params = request.params
        query = (params.get("q") or [""])[0]
        alternatives = parse_query(query)
        found = [
            a
            for a in self.catalog.visible(settings.day)
            if alternatives and matches(squash(f"{a.title} {a.body}"), alternatives)
        ][:GNEWS_LIMIT]
        body = feeds.render_google_news(
            query,
            found,
            base=request.base,
            now=self.catalog.now(settings.day),
            hl=(params.get("hl") or ["ko"])[0],
            gl=(params.get("gl") or ["KR"])[0],
            ceid=(params.get("ceid") or ["KR:ko"])[0],
        )
        return responses.text(200, body, "application/xml", "UTF-8")

    def _google_redirect(
        self, request: Request, settings: WorldSettings, match: re.Match[str]
    ) -> Response:
        url = feeds.gnews_url(match.group(1))
        prefix = f"{request.base}/pub/"
        if url is None or not url.startswith(prefix):
            return responses.not_found()
        key, _, rest = url[len(prefix) :].partition("/")
        article = self.catalog.resolve_publisher_url(key, f"/{rest}")
        if article is None or not self._visible(article, settings):
            return responses.not_found()
        return responses.redirect(url)

    # -- Naver search API -------------------------------------------------------------------

    def _story_entries(self, base: str, day: int | None) -> list[naver_api.ApiEntry]:
        key = (base, day)
        entries = self._api_entries.get(key)
        if entries is None:
            entries = [
                naver_api.ApiEntry.make(
                    a.title,
                    a.body,
                    a.published_at,
                    a.publisher_url(base),
                    a.naver_url(base) or a.publisher_url(base),
                )
                for a in self.catalog.visible(day)
            ]
            self._api_entries[key] = entries
        return entries

    def _api(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        return naver_api.search_news(
            self._story_entries(request.base, settings.day),
            request.params,
            request.headers,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            now=self.catalog.now(settings.day),
            mode=settings.api_mode,
        )

    def _api_unknown(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        return naver_api.error(404, "SE05", naver_api.SE05)

    # -- generated corpus -------------------------------------------------------------------

    def _gen_doc(self, match: re.Match[str]) -> GenDoc | None:
        if self.generated is None:
            return None
        index = int(match.group(1))
        if not 0 <= index < self.generated.count:
            return None
        return self.generated.doc(index)

    @staticmethod
    def _gen_page_doc(doc: GenDoc, naver: bool = False) -> PageDoc:
        # Only the Naver copy gets the generated sub-headline, photos or video: the outlet's
        # own page keeps its plain layout (what the generic-extractor benchmarks measure).
        return PageDoc(
            title=doc.title,
            paragraphs=doc.paragraphs,
            press=doc.press,
            published_at=doc.published_at,
            modified_at=None,
            author=doc.author,
            email=doc.email,
            section="IT/과학",
            sid=105,
            seed=doc.index,
            oid=doc.oid,
            aid=doc.aid,
            summary=doc.summary if naver else None,
            photo_caption=doc.photo_caption if naver else None,
            video=naver and doc.naver_head == "video",
            mid_photo_caption=doc.mid_photo_caption if naver else None,
        )

    def _gen_naver(
        self, request: Request, settings: WorldSettings, match: re.Match[str]
    ) -> Response:
        doc = self._gen_doc(match)
        if doc is None or self.generated is None:
            return responses.not_found()
        body = self.generated.cached("naver", doc.index)
        if body is None:
            generated = self.generated
            linked = [
                (generated.doc(j).title, f"{request.base}/gen/publisher/{j}")
                for j in range(doc.index - 1, max(doc.index - 6, -1), -1)
            ]
            page = render_naver(
                self._gen_page_doc(doc, naver=True),
                press_home=f"{request.base}/gen/publisher/",
                origin_url=f"{request.base}/gen/publisher/{doc.index}",
                linked=linked,
                now=generated.now(),
            )
            body = generated.store("naver", doc.index, page.encode())
        return responses.html(body)

    def _gen_publisher(
        self, request: Request, settings: WorldSettings, match: re.Match[str]
    ) -> Response:
        doc = self._gen_doc(match)
        if doc is None or self.generated is None:
            return responses.not_found()
        body = self.generated.cached("publisher", doc.index)
        if body is None:
            generated = self.generated
            related = [
                (
                    generated.doc(j).title,
                    f"{request.base}/gen/publisher/{j}",
                    publisher_text(generated.doc(j).published_at),
                )
                for j in range(doc.index - 1, max(doc.index - 6, -1), -1)
            ]
            page = render_publisher_article(
                gen_publisher(doc),
                self._gen_page_doc(doc),
                canonical_url=f"{request.base}/gen/publisher/{doc.index}",
                related=related,
                base=request.base,
                now=generated.now(),
                rss_url=f"{request.base}/gen/feed.xml",
            )
            body = generated.store("publisher", doc.index, page)
        return responses.html(body)

    def _gen_feed(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        if self.generated is None or self.generated.count == 0:
            return responses.not_found()
        params = request.params
        try:
            offset = max(0, int((params.get("offset") or ["0"])[0]))
            limit = min(
                GEN_FEED_MAX, max(1, int((params.get("limit") or [str(GEN_FEED_DEFAULT)])[0]))
            )
        except ValueError:
            return responses.html("<h1>bad offset/limit</h1>", status=400)
        # ?layout=naver links the Naver-layout copies, ?layout=mix alternates (gen_layout);
        # the default links the publisher pages.
        layout = (params.get("layout") or ["publisher"])[0] or "publisher"
        if layout not in LAYOUTS:
            return responses.html("<h1>bad layout</h1>", status=400)
        generated = self.generated
        newest = generated.count - 1
        indexes = range(newest - offset, max(newest - offset - limit, -1), -1)
        items = []
        for index in indexes:
            doc = generated.doc(index)
            url = f"{request.base}/gen/{gen_layout(index, layout)}/{index}"
            items.append(
                feeds.item_for(
                    title=doc.title,
                    title_html=doc.title,
                    url=url,
                    paragraphs=doc.paragraphs,
                    author=doc.author,
                    section="IT/과학",
                    published_at=doc.published_at,
                    updated_at=doc.published_at,
                    atom_id=f"tag:gen.example,2026:{index}",
                    guid=url,
                )
            )
        channel_owner = Publisher(
            key="gen",
            name="생성 기사",
            name_en="Generated corpus",
            oid=None,
            charset="utf-8",
            lang="ko",
            kind="daily",
            email_domain="gen.example",
            body_class="article-body",
            naver_origin_query="",
            tagline=f"생성 기사 {generated.count}건",
        )
        body = feeds.render_rss(
            channel_owner,
            items,
            base=request.base,
            now=generated.now(),
            self_url=f"{request.base}{request.target}",
        )
        response = responses.text(200, body, "application/rss+xml", "UTF-8")
        return responses.conditional(response, request.headers, generated.now(), "gen")

    def _gen_api(self, request: Request, settings: WorldSettings, _: re.Match[str]) -> Response:
        if self.generated is None or self.generated.count == 0:
            return responses.not_found()
        params = request.params
        query = (params.get("query") or [""])[0].strip()
        sort = (params.get("sort") or ["sim"])[0]
        start = naver_api.MAX_START
        display = naver_api.MAX_DISPLAY
        try:
            start = int((params.get("start") or ["1"])[0])
            display = int((params.get("display") or ["10"])[0])
        except ValueError:
            pass  # search_news answers SE02/SE03 before it looks at the hits
        # search_news sees only the hits up to the requested page (it validates, sorts and
        # renders them); the real total is put back into its answer.
        window = _GenWindow(self, request.base, query, sort, max(0, start - 1 + display))
        response = naver_api.search_news(
            window,
            params,
            request.headers,
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            now=self.generated.now(),
            mode=settings.api_mode,
        )
        if response.status == 200 and window.total is not None:
            try:
                payload = json.loads(response.body)
            except ValueError:  # api_mode "badjson" cut it short on purpose
                return response
            payload["total"] = window.total
            response = responses.json_body(payload)
        return response

    def gen_hits(self, query: str, sort: str) -> list[int]:
        """Return the generated indexes matching ``query``, in the API's order for ``sort``.

        One scan of regenerated docs per query (about 0.1 ms a doc) keeps only the indexes.
        """
        hits = self._gen_hits.get((query, sort))
        if hits is not None or self.generated is None:
            return hits or []
        scored = self._gen_scores.get(query)
        if scored is None:
            alternatives = parse_query(query)
            tokens = [t for alt in alternatives for t in alt]
            scored = []
            for index in range(self.generated.count - 1, -1, -1):  # newest first
                doc = make_doc(index)  # not via the LRU: a full scan would only evict it
                flat = squash(f"{doc.title} {doc.body}")
                if matches(flat, alternatives):
                    scored.append((score(flat, tokens), index))
            self._gen_scores[query] = scored
        ordered = sorted(scored, key=lambda p: p[0], reverse=True) if sort == "sim" else scored
        # sorted() is stable: among equal scores the newest stays first, as in search_news.
        hits = self._gen_hits[(query, sort)] = [index for _, index in ordered]
        return hits

    def gen_api_entry(self, base: str, index: int) -> naver_api.ApiEntry:
        """Return the API entry of generated article ``index``."""
        assert self.generated is not None
        doc = self.generated.doc(index)
        return naver_api.ApiEntry.make(
            doc.title,
            doc.body,
            doc.published_at,
            f"{base}/gen/publisher/{index}",
            f"{base}/gen/naver/{index}",
        )

    # -- failures ---------------------------------------------------------------------------

    def _fail(self, request: Request, settings: WorldSettings, match: re.Match[str]) -> Response:
        base = request.base

        def euckr() -> bytes:
            return self.render_article_page(self.catalog.by_id[WRONG_CHARSET_ARTICLE], base, None)

        def utf8() -> bytes:
            return self.render_article_page(self.catalog.by_id[BROKEN_ARTICLE], base, None)

        response = failures.failure(match.group(1), euckr, utf8)
        return response if response is not None else responses.not_found()


class _GenWindow(Sequence[naver_api.ApiEntry]):
    """The first ``size`` API hits of a query over the generated corpus, computed when first
    iterated (so a request search_news rejects costs no scan)."""

    def __init__(self, router: Router, base: str, query: str, sort: str, size: int) -> None:
        self._router = router
        self._base = base
        self._query = query
        self._sort = sort
        self._size = size
        self._entries: list[naver_api.ApiEntry] | None = None
        self.total: int | None = None

    def _load(self) -> list[naver_api.ApiEntry]:
        if self._entries is None:
            hits = self._router.gen_hits(self._query, self._sort)
            self.total = len(hits)
            self._entries = [self._router.gen_api_entry(self._base, i) for i in hits[: self._size]]
        return self._entries

    def __iter__(self) -> Iterator[naver_api.ApiEntry]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    @overload
    def __getitem__(self, index: int) -> naver_api.ApiEntry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[naver_api.ApiEntry]: ...

    def __getitem__(self, index: int | slice) -> naver_api.ApiEntry | Sequence[naver_api.ApiEntry]:
        return self._load()[index]
