"""NewsWorld: a local HTTP server (127.0.0.1) serving the 독파모 news world for tests and demos.

Routes (all relative to ``base_url``; "day-filtered" = only articles with day ≤ current day):

=============================================  ===============================================
``GET /``                                      index of everything visible (demo entry point)
``GET /mnews/article/{oid}/{aid}[?sid=105]``   Naver copy, modern n.news.naver.com markup
``GET /article/{oid}/{aid}``                   same page (the /article/ URL form)
``GET /pub/{publisher_host}/``                 outlet front page listing its visible articles
``GET /pub/{publisher_host}/{path}``           outlet article page (JSON-LD, OpenGraph, byline);
                                               tracking params (utm_*, influxDiv, …) ignored;
                                               ``kyungje`` pages are cp949 bytes
``GET /rss/{publisher_host}.xml``              RSS 2.0, CDATA, dc:date; ``kyungje`` in EUC-KR;
                                               ``msit`` is the korea.kr-style press feed;
                                               ETag / Last-Modified, 304 when unchanged
``GET /atom/{publisher_host}.xml``             Atom 1.0 of the same items, conditional GET
``GET /rss/search?q=&hl=ko&gl=KR&ceid=KR:ko``  Google News search RSS (NFE/5.0, one line)
``GET /rss/articles/{token}?oc=5``             302 to the publisher URL encoded in ``token``
``GET /v1/search/news.json``                   Naver Search Open API look-alike; needs headers
                                               X-Naver-Client-Id / X-Naver-Client-Secret
                                               (401 ``024``), display ≤ 100 (SE02), start ≤
                                               1000 (SE03), sort sim|date (SE04); behaviour
                                               switch: ``NewsWorld.api_mode``
``GET /v1/search/{other}``                     404 ``SE05``
``GET /gen/naver/{i}``                         generated Naver page i < N (see generator.py
``GET /gen/publisher/{i}``                     for which indexes are duplicates)
``GET /gen/feed.xml?offset=&limit=[&layout=]``  RSS of generated articles, newest first
                                               (limit ≤ 5000: page a larger corpus with
                                               several offsets; ``layout=publisher`` (default),
                                               ``naver`` or ``mix`` (``gen_layout``))
``GET /gen/v1/search/news.json``               the API over generated articles (hits are
                                               computed once per query, indexes only, so
                                               N = 100k stays small)
``GET /bbs/list.do?…mId=307[&pageIndex=N]``   MSIT press-release board in the real markup
                                               (``fn_detail(N)`` rows, script-injected titles),
                                               ``sCode=user&mPid=208&mId=307``, 3 rows a page
``GET /bbs/view.do?…&nttSeqNo=N``              a release's view page (official articles);
                                               ``d4-msit-stage1-results`` shows only its
                                               summary: its text is in the PDF
``GET /ssm/file/fileDown.do?atchFileNo=…``     attachments: ``fileOrd=1`` stub HWPX, ``2`` a
                                               PDF generated at runtime (Korean text layer)
``GET /fail/404|500|429``                      error statuses (429 has ``Retry-After: 1``)
``GET /fail/hang``                             never answers (≤ 30 s); released by ``stop()``
``GET /fail/empty``                            200 with an empty body
``GET /fail/notxml.xml``                       200 application/rss+xml with HTML garbage
``GET /fail/badjson``                          200 application/json, truncated
``GET /fail/wrongcharset``                     header says UTF-8, bytes are a cp949 article
``GET /fail/broken.html``                      article HTML cut off mid-body
``GET /robots.txt``, ``/static/*``             furniture (allow-all robots, 1×1 GIF, empty CSS)
=============================================  ===============================================

Articles of a later day answer 404 everywhere until ``set_day`` reaches them.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tracker.world.catalog import Catalog
from tracker.world.content import WorldArticle
from tracker.world.failures import HANG_SECONDS
from tracker.world.generator import Generated
from tracker.world.naver_api import API_MODES
from tracker.world.routes import Request, Router

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
LOGGED_HEADERS = (
    "user-agent",
    "accept",
    "accept-encoding",
    "accept-language",
    "if-none-match",
    "if-modified-since",
    "referer",
    "x-naver-client-id",
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Do not join handler threads on close: a /fail/hang request must not block stop().
    block_on_close = False

    def __init__(self, address: tuple[str, int], world: NewsWorld) -> None:
        self.world = world
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self.connections_lock:
            self.open_connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.connections_lock:
                self.open_connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up mid-response (timeouts, cancelled crawls) are routine here.
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def drop_connections(self) -> None:
        """Shut down every accepted socket so keep-alive readers and hangs end now."""
        with self.connections_lock:
            sockets = list(self.open_connections)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    timeout = 60
    server: _Server

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without TCP_NODELAY, Nagle plus the
        # client's delayed ACK adds ~40 ms to every keep-alive request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        self._serve(send_body=True)

    def do_HEAD(self) -> None:
        self._serve(send_body=False)

    def _serve(self, *, send_body: bool) -> None:
        world = self.server.world
        headers = {k.lower(): v for k, v in self.headers.items()}
        world._record(self.command, self.path, headers)
        base = f"http://{HOST}:{self.server.server_address[1]}"
        request = Request(self.command, self.path, headers, base)
        try:
            response = world.router.handle(request, world)
        except Exception:
            logger.exception("world handler failed for %s", self.path)
            self.send_error(500)
            return
        if response.hang:
            # Accept the request, then say nothing until the world stops or time runs out.
            world._stopping.wait(HANG_SECONDS)
            self.close_connection = True
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if send_body and response.body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)


class NewsWorld:
    """The local news world: start() it, point crawlers at ``base_url``, inspect ``requests``."""

    def __init__(
        self,
        day: int | None = None,
        generated: int = 0,
        *,
        port: int = 0,
        client_id: str = "test-id",
        client_secret: str = "test-secret",
        api_mode: str = "ok",
    ) -> None:
        self.catalog = Catalog()
        self.day: int | None = None
        self.set_day(day)
        self.api_mode = api_mode
        self.client_id = client_id
        self.client_secret = client_secret
        self.generated_count = generated
        self.generated: Generated | None = None
        self.router = Router(self.catalog)
        self.requests: collections.Counter[str] = collections.Counter()
        self.request_log: list[tuple[str, str, dict[str, str]]] = []
        self._port = port
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> NewsWorld:
        """Bind 127.0.0.1 (port 0 = any free port) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("NewsWorld already started")
        self._stopping.clear()
        # A fresh router per start: its caches hold URLs that embed the port.
        self.generated = Generated(self.generated_count) if self.generated_count > 0 else None
        self.router = Router(self.catalog, self.generated)
        self._server = _Server((HOST, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"news-world-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.info("news world listening on %s (day=%s)", self.base_url, self.day)
        return self

    def stop(self) -> None:
        """Stop serving, release hanging requests and close the socket (idempotent)."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.drop_connections()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None
        logger.info("news world stopped")

    def __enter__(self) -> NewsWorld:
        return self.start() if self._server is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Return the bound port (only once started)."""
        if self._server is None:
            raise RuntimeError("NewsWorld is not running; call start()")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        return f"http://{HOST}:{self.port}"

    # -- world state ----------------------------------------------------------------------

    def set_day(self, day: int | None) -> None:
        """Show the world as of ``day`` (1 … last day); None shows every article."""
        if day is not None and day not in range(1, max(self.catalog.days) + 1):
            raise ValueError(f"day must be None or 1..{max(self.catalog.days)}, got {day}")
        self.day = day

    @property
    def articles(self) -> tuple[WorldArticle, ...]:
        """Return every storyline article, visible or not, oldest first."""
        return self.catalog.articles

    def visible_articles(self) -> list[WorldArticle]:
        """Return the articles visible on the current day, newest first."""
        return self.catalog.visible(self.day)

    def article(self, article_id: str) -> WorldArticle:
        """Return the storyline article with ``article_id``."""
        return self.catalog.by_id[article_id]

    def url(self, path: str) -> str:
        """Return ``base_url + path``."""
        return f"{self.base_url}{path}"

    @property
    def api_mode(self) -> str:
        """Return how /v1/search/news.json behaves: ok, badjson, 500 or 429."""
        return self._api_mode

    @api_mode.setter
    def api_mode(self, mode: str) -> None:
        if mode not in API_MODES:
            raise ValueError(f"api_mode must be one of {API_MODES}")
        self._api_mode = mode

    # -- request accounting ---------------------------------------------------------------

    def _record(self, method: str, target: str, headers: dict[str, str]) -> None:
        path = target.split("?", 1)[0]
        selected = {name: headers[name] for name in LOGGED_HEADERS if name in headers}
        with self._lock:
            self.requests[path] += 1
            self.request_log.append((method, target, selected))
        logger.debug("world request %s %s", method, target)

    def reset_counts(self) -> None:
        """Forget every recorded request."""
        with self._lock:
            self.requests.clear()
            self.request_log.clear()
