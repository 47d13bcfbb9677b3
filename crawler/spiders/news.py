"""NewsSpider: lists every configured source, fetches articles it has not stored yet."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import scrapy
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from crawler.context import TrackerContext, get_context
from crawler.extractors.base import ExtractionError, NotAnArticle, RetryPage
from crawler.items import ArticleItem
from crawler.listings import Lead, ListingError, feeds
from crawler.listings.feeds import is_google_news_link
from crawler.listings.msit import list_page_url, parse_msit_list
from crawler.listings.naver_api import api_error_message, api_url, parse_api_page
from crawler.pdftext import PdfTextError
from crawler.pool import WorkerPool, default_workers
from crawler.work import (
    PageJob,
    load_parsers,
    parse_page,
    prepare_parsed,
    prepare_with_pdf,
    process_page,
)
from tracker.archive import LeadKeys, attach_sources, triage_leads
from tracker.article import ParsedArticle
from tracker.articles import PreparedArticle
from tracker.config import AnySource, MsitBoardSource, NaverApiSource, RssSource
from tracker.store import get_listing_state, record_fetch_failure
from tracker.text import keyword_fingerprint, matches_keywords
from tracker.urls import canonical_url, naver_article_id

if TYPE_CHECKING:
    from crawler.frontier import Frontier

logger = logging.getLogger(__name__)

PERMANENT_HTTP = {400, 401, 403, 404, 410, 451}
T = TypeVar("T")
KST = ZoneInfo("Asia/Seoul")


@dataclass
class PendingArticle:
    """An article URL requested in this run and every source/URL that led to it."""

    sources: list[str]
    seen_urls: set[str] = field(default_factory=set)


class NewsSpider(scrapy.Spider):
    """Crawl the configured sources (all enabled ones, or ``-a sources=a,b``)."""

    name = "news"

    def __init__(self, sources: str = "", since: str = "", *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.only_sources = [s.strip() for s in sources.split(",") if s.strip()]
        self.pending: dict[str, PendingArticle] = {}
        # Newest item time of each (source, query) at the last clean run of the Naver API.
        self.watermarks: dict[tuple[str, str], datetime] = {}
        # Backfill: keep paging the Naver API back to this date even through known pages.
        self.since = datetime.fromisoformat(since) if since else None
        if self.since is not None and self.since.tzinfo is None:
            self.since = self.since.replace(tzinfo=KST)

    @property
    def filter_key(self) -> str:
        keywords = self.context.config.keywords
        return keyword_fingerprint(keywords.any, keywords.none)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.context = get_context(crawler)
        workers = spider.context.config.crawl.parse_workers
        spider.pages = WorkerPool(
            default_workers() if workers is None else workers, initializer=load_parsers
        )
        if spider.frontier is not None:
            crawler.signals.connect(spider._follow_redirect, signal=signals.request_scheduled)
        return spider

    context: TrackerContext
    pages: WorkerPool

    @property
    def frontier(self) -> Frontier | None:
        """The shared frontier when this process is one of several in one crawl."""
        return self.context.frontier

    # ----------------------------------------------------------------- listing

    def selected_sources(self) -> list[AnySource]:
        """Return the sources to crawl: the named ones, else every enabled one."""
        config = self.context.config
        if self.only_sources:
            return [config.source(name) for name in self.only_sources]
        return [s for s in config.sources if s.enabled]

    async def start(self) -> AsyncIterator[Request]:
        for source in self.selected_sources():
            self.context.source_run(source.name)
            if isinstance(source, NaverApiSource):
                for request in self._naver_start(source):
                    yield request
            elif isinstance(source, MsitBoardSource):
                yield self._msit_request(source, 1)
            else:
                yield self._feed_request(source)

    def _naver_start(self, source: NaverApiSource) -> Iterable[Request]:
        client_id = os.environ.get(source.client_id_env, "")
        client_secret = os.environ.get(source.client_secret_env, "")
        if not client_id or not client_secret:
            reason = (
                f"set {source.client_id_env} and {source.client_secret_env} "
                "to use the Naver Search API"
            )
            self.context.source_run(source.name).skipped_reason = reason
            logger.warning("[%s] skipped: %s", source.name, reason)
            return
        headers = {"X-Naver-Client-Id": client_id, "X-Naver-Client-Secret": client_secret}
        if self.frontier is not None:
            # Requests travel through Redis: the keys stay out of them and the downloading
            # process fills them in from its environment (crawler.frontier.FrontierQueue).
            headers = {}
        run = self.context.source_run(source.name)
        with self.context.db.begin() as session:
            for query in source.queries:
                state = get_listing_state(session, run.source_id, _api_key(query))
                if state is not None and state.last_modified:
                    self.watermarks[(source.name, query)] = datetime.fromisoformat(
                        state.last_modified
                    )
        for query in source.queries:
            yield self._naver_request(source, query, 1, headers)

    def _naver_request(
        self, source: NaverApiSource, query: str, start: int, headers: dict[str, str]
    ) -> Request:
        meta: dict[str, Any] = {"source": source.name, "handle_httpstatus_list": [400, 401, 403]}
        if self.frontier is not None:
            meta["env_headers"] = {
                "X-Naver-Client-Id": source.client_id_env,
                "X-Naver-Client-Secret": source.client_secret_env,
            }
        return Request(
            api_url(source.endpoint, query, start, source.display),
            headers=headers,
            callback=self.parse_naver_api,
            errback=self.listing_failed,
            # Listings repeat every run; in a shared crawl, once across its processes.
            dont_filter=self.frontier is None,
            cb_kwargs={"source": source, "query": query, "start": start, "headers": headers},
            meta=meta,
        )

    def parse_naver_api(
        self,
        response: Response,
        source: NaverApiSource,
        query: str,
        start: int,
        headers: dict[str, str],
    ) -> Iterable[Request]:
        run = self.context.source_run(source.name)
        if response.status != 200:
            run.listing_failed += 1
            self.context.error(source.name, api_error_message(response.status, response.body))
            return
        try:
            page = parse_api_page(response.body)
        except ListingError as exc:
            run.listing_failed += 1
            self.context.error(source.name, f"{query!r} start={start}: {exc}")
            return
        run.listing_ok += 1
        requests = self._leads(source.name, page.leads)
        yield from requests
        dates = [lead.published_at for lead in page.leads if lead.published_at]
        if start == 1 and dates:
            # The newest item: everything down to it is handled once this run ends cleanly.
            run.listing_states[_api_key(query)] = (None, max(dates).isoformat())
        next_start = start + source.display
        # Newest first. Page deeper while this page brought something new, or while it is newer
        # than the watermark of the last clean run (an interrupted run may have left known
        # items on top of unfetched ones), or back to a backfill's date.
        oldest = min(dates, default=None)
        watermark = self.watermarks.get((source.name, query))
        wanted = (
            bool(requests)
            or watermark is None
            or (oldest is not None and oldest > watermark)
            or (self.since is not None and oldest is not None and oldest >= self.since)
        )
        if (
            wanted
            and len(page.leads) >= source.display
            and next_start <= min(source.max_start, page.total)
        ):
            yield self._naver_request(source, query, next_start, headers)

    def _feed_request(self, source: RssSource) -> Request:
        headers: dict[str, str] = {}
        with self.context.db.begin() as session:
            state = get_listing_state(
                session, self.context.source_run(source.name).source_id, source.url
            )
            if state is not None:
                if state.etag:
                    headers["If-None-Match"] = state.etag
                if state.last_modified:
                    headers["If-Modified-Since"] = state.last_modified
        return Request(
            source.url,
            headers=headers,
            callback=self.parse_feed,
            errback=self.listing_failed,
            dont_filter=self.frontier is None,
            cb_kwargs={"source": source},
            meta={"source": source.name, "handle_httpstatus_list": [304]},
        )

    async def parse_feed(self, response: Response, source: RssSource) -> AsyncIterator[Request]:
        run = self.context.source_run(source.name)
        if response.status == 304:
            run.listing_ok += 1
            run.listing_not_modified += 1
            logger.info("[%s] feed not modified", source.name)
            return
        try:
            # feedparser is CPU-heavy on long feeds: parse in a worker, like the pages.
            leads = await self.pages.run(feeds.parse_feed, response.body, _headers(response))
        except ListingError as exc:
            run.listing_failed += 1
            self.context.error(source.name, f"{source.url}: {exc}")
            return
        run.listing_ok += 1
        run.listing_states[source.url] = (
            _header(response, "ETag"),
            _header(response, "Last-Modified"),
        )
        keywords = self.context.config.keywords
        wanted = []
        for lead in leads:
            if source.fetch_all or matches_keywords(
                f"{lead.title}\n{lead.summary}", keywords.any, keywords.none
            ):
                wanted.append(lead)
            else:
                self.context.count(source.name, "listed")
                self.context.count(source.name, "filtered")
        for request in self._leads(source.name, wanted):
            yield request

    def _msit_request(self, source: MsitBoardSource, page: int) -> Request:
        return Request(
            list_page_url(source.url, page),
            callback=self.parse_msit_list,
            errback=self.listing_failed,
            dont_filter=self.frontier is None,
            cb_kwargs={"source": source, "page": page},
            meta={"source": source.name},
        )

    def parse_msit_list(
        self, response: Response, source: MsitBoardSource, page: int
    ) -> Iterable[Request]:
        run = self.context.source_run(source.name)
        try:
            listing = parse_msit_list(response.body, source.url, _headers(response))
        except ListingError as exc:
            run.listing_failed += 1
            self.context.error(source.name, f"{response.url}: {exc}")
            return
        run.listing_ok += 1
        # Every release is fetched (like fetch_all feeds): the body is keyword-filtered later.
        requests = self._leads(source.name, listing.leads, self.parse_msit_article)
        yield from requests
        # Newest first: a page with nothing new means the older pages are known too.
        if requests and page < source.pages:
            yield self._msit_request(source, page + 1)

    def listing_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        source = request.meta["source"]
        self.context.source_run(source).listing_failed += 1
        self.context.error(source, f"{request.url}: {describe_failure(failure)}")

    # ----------------------------------------------------------------- articles

    def _leads(
        self, source: str, leads: Sequence[Lead], callback: Callable[..., Any] | None = None
    ) -> list[Request]:
        """Return requests for the leads' articles that are neither stored nor in flight.

        One transaction checks the whole listing page; leads of stored articles only record
        that this source listed them.
        """
        if not leads:
            return []
        self.context.count(source, "listed", len(leads))
        config = self.context.config
        keys = [
            LeadKeys(
                urls=(lead.url, *lead.alt_urls),
                naver_id=next(
                    filter(
                        None,
                        (
                            naver_article_id(u, config.crawl.naver_hosts)
                            for u in (lead.url, *lead.alt_urls)
                        ),
                    ),
                    None,
                ),
            )
            for lead in leads
        ]
        source_id = self.context.source_run(source).source_id
        with self.context.db.begin() as session:
            triage = triage_leads(session, keys, config.crawl.max_article_attempts, self.filter_key)
            attach_sources(
                session,
                [(t.known_article_id, source_id) for t in triage if t.known_article_id is not None],
            )
        requests = []
        for lead, key, verdict in zip(leads, keys, triage, strict=True):
            if verdict.known_article_id is not None:
                self.context.count(source, "duplicate")
            elif verdict.skip is not None:
                logger.debug(
                    "[%s] not fetching %s again: %s before", source, lead.url, verdict.skip
                )
                self.context.count(source, "filtered" if verdict.skip == "filtered" else "skipped")
            else:
                request = self._article_request(source, lead.url, key.urls, callback)
                if request is not None:
                    requests.append(request)
        return requests

    def _article_request(
        self,
        source: str,
        url: str,
        urls: Sequence[str],
        callback: Callable[..., Any] | None = None,
    ) -> Request | None:
        """Return the article request, or None when this run already asked for the URL."""
        key = canonical_url(url)
        if self.frontier is not None:
            return self._claimed_request(source, url, key, urls, callback)
        pending = self.pending.get(key)
        if pending is not None:
            # Another source asked for the same article in this run: record it, fetch once.
            if source not in pending.sources:
                pending.sources.append(source)
            pending.seen_urls.update(urls)
            self.context.count(source, "duplicate")
            return None
        self.pending[key] = PendingArticle(sources=[source], seen_urls=set(urls))
        return Request(
            url,
            callback=callback or self.parse_article,
            errback=self.article_failed,
            dont_filter=True,
            meta={"source": source, "pending_key": key},
        )

    def _claimed_request(
        self,
        source: str,
        url: str,
        key: str,
        urls: Sequence[str],
        callback: Callable[..., Any] | None,
    ) -> Request | None:
        """Scale-out: the article request if this listing claims the URL for the whole crawl.

        Otherwise another request (maybe in another process) fetches it, and this listing is
        merged into that article (see crawler.frontier).
        """
        from crawler.frontier import Link

        assert self.frontier is not None
        lead_urls = tuple(sorted(urls))
        owner = self.frontier.claim(key, Link(source, lead_urls))
        if owner is not None:
            self.context.count(source, "duplicate")
            return None
        return Request(
            url,
            callback=callback or self.parse_article,
            errback=self.article_failed,
            dont_filter=True,
            meta={"source": source, "pending_key": key, "lead_urls": lead_urls},
        )

    def _follow_redirect(self, request: Request, spider: scrapy.Spider) -> None:
        """Scale-out: claim an article redirect's target, or merge into its owner and drop it.

        A Google News link and the publisher's own feed lead to one page: fetched once.
        """
        meta = request.meta
        if self.frontier is None or "pending_key" not in meta or not meta.get("redirect_urls"):
            return
        from crawler.frontier import Link

        urls = tuple(sorted({*meta.get("lead_urls", ()), *meta["redirect_urls"]}))
        owner = self.frontier.follow(
            meta["pending_key"], canonical_url(request.url), Link(meta["source"], urls)
        )
        if owner is not None:
            self.context.count(meta["source"], "duplicate")
            raise IgnoreRequest(f"{request.url} is fetched for {owner} in this crawl")

    def _shared_pending(self, key: str, meta: dict[str, Any]) -> PendingArticle:
        """Scale-out: the pending article of a request listed by any process, with every
        listing linked to it so far (later ones are attached when the crawl ends)."""
        assert self.frontier is not None
        pending = self.pending.get(key)
        if pending is None:
            sources = list(meta.get("sources") or [meta["source"]])
            pending = PendingArticle(sources=sources, seen_urls=set(meta.get("lead_urls", ())))
            self.pending[key] = pending
        for link in self.frontier.seal(key):
            if link.source not in pending.sources:
                pending.sources.append(link.source)
            pending.seen_urls.update(link.urls)
        return pending

    async def parse_article(self, response: Response) -> AsyncIterator[ArticleItem | Request]:
        source, key, job = self._fetched(response)
        if is_google_news_link(response.url):
            self._article_error(response.url, source, "Google News link did not resolve", True)
            return
        prepared, retry = await self._extract(response, source, process_page, job)
        if retry is not None:
            yield retry
        if prepared is not None:
            yield self._item(key, source, prepared, job)

    def _fetched(self, response: Response) -> tuple[str, str, PageJob]:
        """Count a fetched article page; return its source, pending key and worker job.

        The job carries every URL that led here (the request's, and other sources' listings).
        """
        source, key = response.meta["source"], response.meta["pending_key"]
        self.context.count(source, "fetched")
        pending = self.pending.get(key)
        if self.frontier is not None:
            pending = self._shared_pending(key, response.meta)
        seen = set(pending.seen_urls) if pending else set()
        seen.add(response.request.url if response.request else response.url)
        job = PageJob(
            url=response.url,
            body=response.body,
            headers=_headers(response),
            naver_hosts=self.context.config.crawl.naver_hosts,
            seen_urls=sorted(seen),
            permutations=self.context.near.permutations,
        )
        return source, key, job

    def _item(self, key: str, source: str, prepared: PreparedArticle, job: PageJob) -> ArticleItem:
        """Return the item of a prepared article, with every source that listed it this run."""
        pending = self.pending.get(key)
        return ArticleItem(
            article=prepared.parsed,
            source=source,
            sources=list(pending.sources) if pending else [source],
            seen_urls=list(job.seen_urls),
            prepared=prepared,
        )

    async def _extract(
        self, response: Response, source: str, func: Callable[[PageJob], T], job: PageJob
    ) -> tuple[T | None, Request | None]:
        """Return ``func(job)`` run in the worker pool, or (None, a retry request or None).

        Extraction errors are recorded against the source: a transient page is retried, a
        page that is not an article is remembered as a permanent failure.
        """
        try:
            return await self.pages.run(func, job), None
        except RetryPage as exc:
            retry = get_retry_request(response.request, spider=self, reason="retry_page")
            if retry is None:
                self.context.count(source, "extraction_errors")
                self._article_error(response.url, source, exc.reason, False)
            return None, retry
        except NotAnArticle as exc:
            self.context.count(source, "extraction_errors")
            self._article_error(response.url, source, exc.reason, True)
        except ExtractionError as exc:
            self.context.count(source, "extraction_errors")
            self._article_error(response.url, source, exc.reason, False)
        return None, None

    # ------------------------------------------------------------ MSIT releases

    async def parse_msit_article(self, response: Response) -> AsyncIterator[ArticleItem | Request]:
        """Read a board view page; fetch its PDF attachment before storing the release."""
        source, key, job = self._fetched(response)
        parsed, retry = await self._extract(response, source, parse_page, job)
        if retry is not None:
            yield retry
        if parsed is None:
            return
        pdf_url = parsed.extra.get("pdf_url")
        if pdf_url:
            meta = {"source": source, "pending_key": key, "parsed": parsed, "job": job}
            if self.frontier is not None:
                # Another process may download the PDF: it needs the release's sources.
                meta["sources"] = list(self.pending[key].sources)
            yield Request(
                pdf_url,
                callback=self.parse_msit_pdf,
                errback=self.msit_pdf_failed,
                dont_filter=True,
                cb_kwargs={"parsed": parsed, "job": job},
                meta=meta,
            )
            return
        prepared = await self.pages.run(prepare_parsed, parsed, job)
        yield self._item(key, source, prepared, job)

    async def parse_msit_pdf(
        self, response: Response, parsed: ParsedArticle, job: PageJob
    ) -> AsyncIterator[ArticleItem]:
        source, key = response.meta["source"], response.meta["pending_key"]
        if self.frontier is not None:
            self._shared_pending(key, response.meta)
        try:
            prepared = await self.pages.run(prepare_with_pdf, parsed, response.body, job)
        except PdfTextError as exc:
            item = self._release_without_pdf(key, source, parsed, job, str(exc))
        else:
            item = self._item(key, source, prepared, job)
        if item is not None:
            yield item

    def msit_pdf_failed(self, failure: Failure) -> Iterable[ArticleItem]:
        request = failure.request  # type: ignore[attr-defined]
        if self.frontier is not None:
            self._shared_pending(request.meta["pending_key"], request.meta)
        item = self._release_without_pdf(
            request.meta["pending_key"],
            request.meta["source"],
            request.meta["parsed"],
            request.meta["job"],
            describe_failure(failure),
        )
        if item is not None:
            yield item

    def _release_without_pdf(
        self, key: str, source: str, parsed: ParsedArticle, job: PageJob, reason: str
    ) -> ArticleItem | None:
        """Keep the page text when the PDF fails; a release that is only a PDF is an error."""
        pdf_url = parsed.extra.get("pdf_url")
        if not parsed.body:
            self._article_error(parsed.url, source, f"PDF {pdf_url}: {reason}", False)
            return None
        logger.warning(
            "[%s] %s: PDF %s not read (%s); page text only", source, parsed.url, pdf_url, reason
        )
        # One small article on a rare path: prepare inline rather than await a worker.
        return self._item(key, source, prepare_parsed(parsed, job), job)

    def closed(self, reason: str) -> None:
        self.pages.close()

    def article_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        permanent = (
            failure.check(HttpError) is not None and failure.value.response.status in PERMANENT_HTTP
        )
        self._article_error(
            request.url, request.meta["source"], describe_failure(failure), permanent
        )

    def _article_error(self, url: str, source: str, message: str, permanent: bool) -> None:
        self.context.error(source, f"{url}: {message}")
        with self.context.db.begin() as session:
            record_fetch_failure(session, url, message, permanent)


def _api_key(query: str) -> str:
    """Return the listing-state key of a Naver API query."""
    return f"naver-api:{query}"


def describe_failure(failure: Failure) -> str:
    """Return a one-line reason for a failed request."""
    if failure.check(HttpError):
        response = failure.value.response
        return f"HTTP {response.status}"
    value = failure.value
    name = type(value).__name__
    text = str(value).strip() or name
    return text if name in text else f"{name}: {text}"


def _headers(response: Response) -> dict[str, str]:
    return {
        key.decode("latin-1"): b", ".join(values).decode("latin-1")
        for key, values in response.headers.items()
    }


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
