"""Scale-out: crawler processes on one or several machines share one crawl through Redis.

``tracker crawl --run-key KEY`` (or ``scrapy crawl news -s TRACKER_RUN_KEY=KEY``) joins crawl KEY.
The processes of a crawl share scrapy-redis's request queue and dupefilter, so any process may
download a request another one listed; this module adds what a tracker crawl needs on top:

* **claims** — an article URL is requested once per crawl. The first listing to claim a URL's
  canonical form owns it; a later listing of it (another source, in any process) is *linked*
  to the owner and merged into the article when it is fetched: every source and URL that led to
  an article is stored with it, as a single process's ``pending`` map does. A redirect onto a
  URL another request owns is dropped and its listing merged into that owner.
* **termination** — a process whose engine is idle waits while any other process is busy (it
  may still list new work) and closes when the queue is empty and every process is idle. The
  pop of a request and "this process is busy" are one atomic step, so no request is ever out of
  the queue without a busy process holding it.
* **the last process out** attaches listings that arrived after their article was fetched and
  saves the crawl's feed validators and API watermarks, only for sources that had no problem in
  any process and only when every process finished cleanly; then it deletes the crawl's keys
  and leaves a ``done`` marker: a process joining a finished crawl does nothing.

Keys, all ``{key_prefix}:{run_key}:…`` and expiring ``ttl`` seconds after the last heartbeat:

=================  ======================================================================
``requests``       request queue (scrapy-redis priority queue of pickled requests)
``dupefilter``     request fingerprints (scrapy-redis RFPDupeFilter, by source): a listing once
``claims``         canonical article URL → owner key (the claiming request's canonical URL)
``forward``        owner key → the owner it was merged into (a redirect onto a claimed URL)
``links``          owner key → listings to merge when the owner is fetched (JSON lines)
``sealed``         owners already fetched: later listings of them go to ``late``
``late``           listings that arrived after their fetch (attached by the last process)
``listing``        listing states (ETag, Last-Modified / newest item) to save at the end
``dirty``          sources with a problem in some process (``*``: a process was interrupted)
``members``        processes that joined; ``left``: those that left cleanly
``worker:{id}``    ``busy`` or ``idle``; expires after ``lease`` seconds without a heartbeat
``done``           the crawl is over (kept ``ttl`` seconds)
=================  ======================================================================

Requests are pickled into Redis (scrapy-redis's serializer): callbacks must be spider methods,
``cb_kwargs`` and ``meta`` must pickle, and the Redis server must be trusted like the database.
API keys never travel: a request names the environment variables of its secret headers
(``meta["env_headers"]``) and the process that downloads it fills them in.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from scrapy import Spider, signals
from scrapy.exceptions import CloseSpider, DontCloseSpider, UsageError
from scrapy.http import Request
from scrapy.utils.defer import deferred_from_coro
from scrapy.utils.request import request_from_dict
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from sqlalchemy.orm import Session
from twisted.internet import task

from tracker.archive import LeadKeys, attach_sources, insert_ignore, triage_leads
from tracker.config import (
    FRONTIER_KEY_RE,
    Config,
    FrontierConfig,
    check_redis_url,
    redact_url,
)
from tracker.models import ArticleUrl, utcnow
from tracker.store import save_listing_state
from tracker.urls import canonical_url, naver_article_id

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from twisted.internet.interfaces import IDelayedCall

    from crawler.context import TrackerContext

logger = logging.getLogger(__name__)

RUN_KEY_SETTING = "TRACKER_RUN_KEY"
URL_SETTING = "TRACKER_FRONTIER_URL"
# The Redis URL may hold a password: the tracker CLI hands it to the crawl in the environment,
# not on the command line.
URL_ENV = "TRACKER_FRONTIER_URL"
# Request meta: secret header name -> environment variable filled in by the downloading process.
ENV_HEADERS = "env_headers"
# Marks every source dirty: some process did not finish cleanly.
ALL_SOURCES = "*"
PROBLEM_STATUSES = {"failed", "partial", "interrupted"}
# How often an idle process that waits for busy ones looks for new requests. Scrapy's own
# heartbeat would look only every 5 seconds.
POLL_SECONDS = 0.5
DATA_KEYS = (
    "requests",
    "dupefilter",
    "claims",
    "forward",
    "links",
    "sealed",
    "late",
    "listing",
    "dirty",
    "members",
    "left",
)

# Appends the listings in `entries` (JSON lines) to owner's links, or to the late list once
# the owner was fetched. KEYS: claims, forward, links, sealed, late.
_LINK = """
local function link(owner, entries)
  if redis.call('SISMEMBER', KEYS[4], owner) == 1 then
    for entry in string.gmatch(entries, '[^\\n]+') do
      redis.call('RPUSH', KEYS[5], owner .. '\\n' .. entry)
    end
  else
    local old = redis.call('HGET', KEYS[3], owner)
    if old then entries = old .. '\\n' .. entries end
    redis.call('HSET', KEYS[3], owner, entries)
  end
end
local function root(owner)
  local nxt = redis.call('HGET', KEYS[2], owner)
  while nxt do
    owner = nxt
    nxt = redis.call('HGET', KEYS[2], owner)
  end
  return owner
end
"""
# ARGV: key, listing. Returns nil when this listing now owns the key, else the owner.
_CLAIM = (
    _LINK
    + """
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if not owner then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[1])
  return false
end
owner = root(owner)
link(owner, ARGV[2])
return owner
"""
)
# A request for owner ARGV[1] was redirected to ARGV[3]. ARGV[2]: the request's listing.
# Returns nil to go on (the target is now, or was already, this owner's), else the owner of
# the target, into which this owner and everything linked to it is merged.
_FOLLOW = (
    _LINK
    + """
local owner = redis.call('HGET', KEYS[1], ARGV[3])
if not owner then
  redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
  return false
end
owner = root(owner)
if owner == ARGV[1] then return false end
redis.call('HSET', KEYS[2], ARGV[1], owner)
local entries = ARGV[2]
local mine = redis.call('HGET', KEYS[3], ARGV[1])
if mine then
  entries = entries .. '\\n' .. mine
  redis.call('HDEL', KEYS[3], ARGV[1])
end
link(owner, entries)
return owner
"""
)
# KEYS: sealed, links. ARGV: owner. Returns the owner's links; later ones go to `late`.
_SEAL = """
redis.call('SADD', KEYS[1], ARGV[1])
return redis.call('HGET', KEYS[2], ARGV[1])
"""
# KEYS: done, members, worker. ARGV: worker id, lease ms. 0 when the crawl is already over.
_JOIN = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SET', KEYS[3], 'busy', 'PX', ARGV[2])
return 1
"""
# KEYS: requests, worker. ARGV: lease ms. Pops the best request and marks this process busy
# in one step, so a request is never out of the queue without a busy process holding it.
_POP = """
local item = redis.call('ZRANGE', KEYS[1], 0, 0)
if #item == 0 then return false end
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, 0)
redis.call('SET', KEYS[2], 'busy', 'PX', ARGV[1])
return item[1]
"""
# KEYS: requests, members, worker. ARGV: worker-key prefix, worker id, lease ms.
_IDLE = """
redis.call('SET', KEYS[3], 'idle', 'PX', ARGV[3])
if redis.call('ZCARD', KEYS[1]) > 0 then return 'work' end
for _, member in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  if member ~= ARGV[2] and redis.call('GET', ARGV[1] .. member) == 'busy' then
    return 'wait'
  end
end
return 'done'
"""
# KEYS: members, left, done, worker. ARGV: worker-key prefix, worker id, ttl s.
# 1 when this is the last live process: it then owns the crawl's end.
_LEAVE = """
redis.call('DEL', KEYS[4])
redis.call('SADD', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. member) == 1 then return 0 end
end
redis.call('SET', KEYS[3], ARGV[2], 'EX', ARGV[3])
return 1
"""


@dataclass(frozen=True, slots=True)
class Link:
    """A listing of an article another request fetches: its source and the URLs it gave."""

    source: str
    urls: tuple[str, ...]

    def encode(self) -> str:
        # ASCII JSON has no raw newline: links are stored as JSON lines.
        return json.dumps({"s": self.source, "u": list(self.urls)}, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> Link:
        data = json.loads(text)
        return cls(source=str(data["s"]), urls=tuple(str(u) for u in data["u"]))


@dataclass(frozen=True, slots=True)
class CrawlOutcome:
    """What the processes of a crawl left for the last one."""

    late: list[tuple[str, Link]]
    listings: dict[tuple[str, int, str], tuple[str | None, str | None]]
    dirty: set[str]
    vanished: set[str]


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Frontier:
    """One process's handle on crawl ``run_key``: the Redis client, the scripts, its lease."""

    def __init__(self, url: str, run_key: str, settings: FrontierConfig) -> None:
        self.url = url
        self.run_key = run_key
        self.namespace = f"{settings.key_prefix}:{run_key}"
        self.lease_ms = int(settings.lease * 1000)
        self.ttl = settings.ttl
        self.heartbeat_seconds = min(2.0, settings.lease / 5)
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.server = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10)
        self.joined = False
        self.left = False
        self._heartbeat: task.LoopingCall | None = None
        register = self.server.register_script
        self._claim = register(_CLAIM)
        self._follow = register(_FOLLOW)
        self._seal = register(_SEAL)
        self._join = register(_JOIN)
        self._pop = register(_POP)
        self._idle = register(_IDLE)
        self._leave = register(_LEAVE)

    @classmethod
    def from_settings(cls, settings: BaseSettings, config: Config) -> Frontier | None:
        """Return the frontier the crawl's settings ask for, or None for a single process."""
        if not settings.get(RUN_KEY_SETTING):
            return None
        # The spider (and so this) is built before add-ons update the settings: resolve the
        # frontier the way crawler.addon does.
        url, run_key = resolve_frontier(settings, config)
        return cls(url, run_key, frontier_config(config, url))

    def key(self, name: str) -> str:
        """Return the Redis key ``name`` of this crawl."""
        return f"{self.namespace}:{name}"

    @property
    def _worker_prefix(self) -> str:
        return self.key("worker:")

    @property
    def worker_key(self) -> str:
        return self._worker_prefix + self.worker

    @property
    def _link_keys(self) -> list[str]:
        return [self.key(k) for k in ("claims", "forward", "links", "sealed", "late")]

    # ----------------------------------------------------------------- membership

    def join(self) -> bool:
        """Join the crawl as a busy process; False when the crawl is already over."""
        joined = self._join(
            keys=[self.key("done"), self.key("members"), self.worker_key],
            args=[self.worker, self.lease_ms],
        )
        self.joined = bool(joined)
        if self.joined:
            self._refresh()
            logger.info(
                "Joined crawl %s on %s as %s", self.run_key, redact_url(self.url), self.worker
            )
        else:
            logger.warning("Crawl %s is already over: nothing to do", self.run_key)
        return self.joined

    def idle(self) -> str:
        """Mark this process idle; return ``work`` (queued requests), ``wait`` (another
        process is busy and may list more) or ``done`` (the crawl has nothing left)."""
        state = self._idle(
            keys=[self.key("requests"), self.key("members"), self.worker_key],
            args=[self._worker_prefix, self.worker, self.lease_ms],
        )
        return _text(state)

    def pop(self) -> bytes | None:
        """Pop the best queued request (pickled) and mark this process busy."""
        data = self._pop(keys=[self.key("requests"), self.worker_key], args=[self.lease_ms])
        return data if data else None

    def leave(self) -> bool:
        """Leave the crawl; True when this was the last live process (it then ends the crawl)."""
        if not self.joined or self.left:
            return False
        self._stop_heartbeat()
        last = self._leave(
            keys=[self.key("members"), self.key("left"), self.key("done"), self.worker_key],
            args=[self._worker_prefix, self.worker, self.ttl],
        )
        self.left = True
        return bool(last)

    def start_heartbeat(self) -> None:
        """Renew this process's lease (and the keys' expiry) on the reactor until it leaves."""
        if self.joined and self._heartbeat is None:
            self._heartbeat = task.LoopingCall(self._beat)
            self._heartbeat.start(self.heartbeat_seconds, now=False)

    def _beat(self) -> None:
        """Renew this process's lease and the crawl keys' expiry."""
        try:
            if not self._refresh() and not self.left:
                # The lease ran out (a reactor blocked for `lease` seconds): other processes may
                # have counted this one as gone. Renew it; the crawl's end may come early.
                logger.warning("Crawl %s: this process's lease had expired; renewed", self.run_key)
                self.server.set(self.worker_key, "busy", px=self.lease_ms)
        except redis.RedisError as exc:
            logger.warning("Crawl %s: heartbeat failed: %s", self.run_key, exc)

    def _refresh(self) -> bool:
        pipe = self.server.pipeline(transaction=False)
        pipe.pexpire(self.worker_key, self.lease_ms)
        for name in DATA_KEYS:
            pipe.expire(self.key(name), self.ttl)
        return bool(pipe.execute()[0])

    def _stop_heartbeat(self) -> None:
        if self._heartbeat is not None and self._heartbeat.running:
            self._heartbeat.stop()

    # ----------------------------------------------------------------- articles

    def claim(self, key: str, link: Link) -> str | None:
        """Claim article URL ``key`` for a request; return None if claimed, else its owner
        (``link`` is then merged into the owner's article)."""
        owner = self._claim(keys=self._link_keys, args=[key, link.encode()])
        return _text(owner) if owner else None

    def follow(self, owner: str, target: str, link: Link) -> str | None:
        """Claim a redirect's ``target`` for ``owner``; return None to go on, else the owner
        of the target, into which ``owner`` (and ``link``, the request's listing) is merged."""
        other = self._follow(keys=self._link_keys, args=[owner, link.encode(), target])
        return _text(other) if other else None

    def seal(self, owner: str) -> list[Link]:
        """Mark ``owner`` fetched and return every listing linked to it so far."""
        entries = self._seal(keys=[self.key("sealed"), self.key("links")], args=[owner])
        return [Link.decode(line) for line in _text(entries).splitlines()] if entries else []

    # ----------------------------------------------------------------- end of crawl

    def publish(
        self,
        listings: Iterable[tuple[str, int, str, str | None, str | None]],
        dirty: Iterable[str],
    ) -> None:
        """Hand this process's listing states and problem sources to the last process."""
        pipe = self.server.pipeline(transaction=False)
        for source, source_id, key, etag, modified in listings:
            field = json.dumps([source, source_id, key])
            pipe.hset(self.key("listing"), field, json.dumps([etag, modified]))
        dirty = list(dirty)
        if dirty:
            pipe.sadd(self.key("dirty"), *dirty)
        pipe.execute()

    def outcome(self) -> CrawlOutcome:
        """Return what the crawl's processes left for the last one."""
        pipe = self.server.pipeline(transaction=False)
        pipe.lrange(self.key("late"), 0, -1)
        pipe.hgetall(self.key("listing"))
        pipe.smembers(self.key("dirty"))
        pipe.smembers(self.key("members"))
        pipe.smembers(self.key("left"))
        late_raw, listing_raw, dirty, members, left = pipe.execute()
        late = []
        for entry in late_raw:
            owner, _, text = _text(entry).partition("\n")
            late.append((owner, Link.decode(text)))
        listings: dict[tuple[str, int, str], tuple[str | None, str | None]] = {}
        for field, value in listing_raw.items():
            source, source_id, key = json.loads(_text(field))
            etag, modified = json.loads(_text(value))
            listings[(source, int(source_id), key)] = (etag, modified)
        return CrawlOutcome(
            late=late,
            listings=listings,
            dirty={_text(s) for s in dirty},
            vanished={_text(m) for m in members} - {_text(m) for m in left},
        )

    def clear(self) -> None:
        """Delete the crawl's keys (the ``done`` marker stays until it expires)."""
        self.server.delete(*(self.key(name) for name in DATA_KEYS))

    def close(self) -> None:
        self._stop_heartbeat()
        self.server.close()


def resolve_frontier(settings: BaseSettings, config: Config) -> tuple[str, str]:
    """Return the (Redis URL, run key) of the crawl to join; raise UsageError if unusable.

    The URL is ``-s TRACKER_FRONTIER_URL``, else the environment (where the tracker CLI puts
    it: it may hold a password), else ``crawl.frontier.redis_url``.
    """
    run_key = str(settings.get(RUN_KEY_SETTING))
    if not re.match(FRONTIER_KEY_RE, run_key):
        raise UsageError(f"{RUN_KEY_SETTING}: {run_key!r} is not a run key ({FRONTIER_KEY_RE})")
    if not config.database_url.startswith("postgresql"):
        raise UsageError(f"{RUN_KEY_SETTING} needs PostgreSQL as the store (database.url)")
    block = config.crawl.frontier
    url = (
        settings.get(URL_SETTING)
        or os.environ.get(URL_ENV)
        or (block.redis_url if block is not None else None)
    )
    if not url:
        raise UsageError(
            f"{RUN_KEY_SETTING} needs a frontier: set crawl.frontier.redis_url or "
            f"{URL_SETTING}=redis://HOST:PORT/DB"
        )
    try:
        return check_redis_url(url), run_key
    except ValueError as exc:
        raise UsageError(f"{URL_SETTING}: {exc}") from None


def frontier_config(config: Config, url: str | None = None) -> FrontierConfig:
    """Return the frontier settings: ``crawl.frontier`` with ``url`` (if given) as its URL."""
    block = config.crawl.frontier
    if block is None:
        if not url:
            raise ValueError("no frontier URL: set crawl.frontier.redis_url or pass one")
        return FrontierConfig(redis_url=url)
    return block.model_copy(update={"redis_url": url}) if url else block


def frontier_settings(run_key: str) -> dict[str, Any]:
    """Return the Scrapy settings of a process joining crawl ``run_key``.

    The scheduler builds its queue, dupefilter and keys from the crawl's Frontier, and never
    flushes them when it closes (scrapy-redis's SCHEDULER_PERSIST): the first process to
    finish must not empty the queue under the others.
    """
    return {RUN_KEY_SETTING: run_key, "SCHEDULER": f"{__name__}.FrontierScheduler"}


# --------------------------------------------------------------------------- scheduler


def _method_name(spider: Spider, func: Any) -> str | None:
    """Return the name of spider method ``func`` (the fast path of Request.to_dict's lookup)."""
    if func is None or isinstance(func, str):
        return func
    name = getattr(func, "__name__", "")
    if getattr(func, "__self__", None) is spider and getattr(spider, name, None) == func:
        return name
    raise ValueError(
        f"{func!r} is not a method of spider {spider.name!r}: requests that travel through "
        "the frontier need spider methods as callbacks"
    )


class FrontierDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter, by source: two sources may list the same feed URL, and a
    single process reads it for each."""

    def request_fingerprint(self, request: Request) -> str:
        fingerprint: str = super().request_fingerprint(request)
        source = request.meta.get("source")
        return f"{source}:{fingerprint}" if source else fingerprint


_missing_variables: set[str] = set()


class FrontierQueue(PriorityQueue):
    """scrapy-redis's priority queue, with cheap callback lookup and no secrets in Redis."""

    def _encode_request(self, request: Request) -> bytes:
        # Request.to_dict(spider=…), without its scan of every spider attribute per request:
        # callbacks here are always the spider's own bound methods.
        data: dict[str, Any] = {
            "url": request.url,
            "callback": _method_name(self.spider, request.callback),
            "errback": _method_name(self.spider, request.errback),
            "headers": dict(request.headers),
        }
        for attribute in request.attributes:
            data.setdefault(attribute, getattr(request, attribute))
        if type(request) is not Request:
            data["_class"] = f"{type(request).__module__}.{type(request).__name__}"
        secret = {name.lower().encode() for name in request.meta.get(ENV_HEADERS, {})}
        if secret:
            data["headers"] = {k: v for k, v in data["headers"].items() if k.lower() not in secret}
        return self.serializer.dumps(data)

    def _decode_request(self, encoded_request: bytes) -> Request:
        request = request_from_dict(self.serializer.loads(encoded_request), spider=self.spider)
        for header, variable in request.meta.get(ENV_HEADERS, {}).items():
            value = os.environ.get(variable)
            if value:
                request.headers[header] = value
            elif variable not in _missing_variables:
                _missing_variables.add(variable)
                logger.warning(
                    "%s is not set in this process: requests that need it go without %s",
                    variable,
                    header,
                )
        return request


class FrontierScheduler(Scheduler):
    """scrapy-redis's Scheduler for one crawl, with the crawl's termination and lifecycle."""

    def __init__(self, crawler: Crawler, frontier: Frontier) -> None:
        super().__init__(
            server=frontier.server,
            persist=True,
            queue_key=frontier.key("requests"),
            queue_cls=f"{__name__}.FrontierQueue",
            dupefilter=FrontierDupeFilter(
                frontier.server,
                key=frontier.key("dupefilter"),
                debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
            ),
            dupefilter_key=frontier.key("dupefilter"),
        )
        self.crawler = crawler
        self.frontier = frontier
        self.stats = crawler.stats
        self.lost: str | None = None
        self._wake_call: IDelayedCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FrontierScheduler:
        from crawler.context import get_context

        frontier = get_context(crawler).frontier
        if frontier is None:
            raise RuntimeError(f"{cls.__name__} needs the {RUN_KEY_SETTING} setting")
        scheduler = cls(crawler, frontier)
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    def open(self, spider: Spider) -> None:
        # scrapy-redis's open() without its per-spider key formatting and Spider.log() call.
        self.spider = spider
        self.queue = FrontierQueue(self.server, spider, self.queue_key, self.serializer)
        try:
            if self.frontier.join():
                self.frontier.start_heartbeat()
        except redis.RedisError as exc:
            self.lost = str(exc)
            logger.error("Frontier %s unreachable: %s", redact_url(self.frontier.url), exc)
            raise CloseSpider("frontier_lost") from None

    def close(self, reason: str) -> None:
        # Nothing is flushed: the queue and fingerprints belong to the whole crawl. The last
        # process out deletes them (end_crawl).
        if self._wake_call is not None and self._wake_call.active():
            self._wake_call.cancel()

    def enqueue_request(self, request: Request) -> bool:
        if not self.frontier.joined or self.lost:
            return False
        try:
            if not request.dont_filter and self.df.request_seen(request):
                self.df.log(request, self.spider)
                return False
            self.queue.push(request)
        except redis.RedisError as exc:
            self._lose(exc)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if not self.frontier.joined or self.lost:
            return None
        try:
            data = self.frontier.pop()
        except redis.RedisError as exc:
            self._lose(exc)
            return None
        if data is None:
            return None
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return self.queue._decode_request(data)

    def has_pending_requests(self) -> bool:
        if not self.frontier.joined or self.lost:
            return False
        try:
            return len(self) > 0
        except redis.RedisError as exc:
            self._lose(exc)
            return False

    def spider_idle(self, spider: Spider) -> None:
        """Keep an idle process open while another one is busy: it may still list work."""
        if self.lost:
            raise CloseSpider("frontier_lost")
        if not self.frontier.joined:
            return
        try:
            state = self.frontier.idle()
        except redis.RedisError as exc:
            self._lose(exc)
            raise CloseSpider("frontier_lost") from None
        if state == "done":
            return
        self._wake(0 if state == "work" else POLL_SECONDS)
        raise DontCloseSpider

    def _wake(self, delay: float) -> None:
        """Ask the engine to look at the queue again after ``delay`` seconds."""
        if self._wake_call is not None and self._wake_call.active():
            return
        from twisted.internet import reactor

        self._wake_call = reactor.callLater(delay, self._next_call)  # type: ignore[attr-defined]

    def _next_call(self) -> None:
        # The engine's own heartbeat looks every 5 s; its slot's nextcall is the way to look
        # now. Private in Scrapy 2.19, so used only if present (else the heartbeat does it).
        slot = getattr(self.crawler.engine, "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def _lose(self, exc: Exception) -> None:
        """Redis went away: stop this process (its sources end ``interrupted``)."""
        if self.lost is not None:
            return
        self.lost = str(exc)
        logger.error("Frontier %s lost: %s", redact_url(self.frontier.url), exc)
        engine = self.crawler.engine
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason="frontier_lost"))


# --------------------------------------------------------------------------- end of crawl


def leave_crawl(
    context: TrackerContext, frontier: Frontier, statuses: dict[str, str], reason: str
) -> None:
    """Hand this process's listing states to the crawl and leave it; the last one ends it.

    A listing state (feed validators, API watermark) saved before every process has stored
    the articles it listed would hide the unstored ones from the next crawl: the states are
    saved by the last process out, for the sources that had no problem in any process.
    """
    if not frontier.joined:
        frontier.close()
        return
    dirty = [name for name, status in statuses.items() if status in PROBLEM_STATUSES]
    if reason != "finished":
        dirty.append(ALL_SOURCES)
    listings = [
        (run.name, run.source_id, key, etag, modified)
        for run in context.runs.values()
        if statuses.get(run.name) == "ok"
        for key, (etag, modified) in run.listing_states.items()
    ]
    try:
        frontier.publish(listings, dirty)
        if frontier.leave():
            end_crawl(context, frontier)
    except redis.RedisError as exc:
        logger.error(
            "Crawl %s: could not hand over to the other processes (%s); listing states not saved",
            frontier.run_key,
            exc,
        )
    finally:
        frontier.close()


def end_crawl(context: TrackerContext, frontier: Frontier) -> None:
    """The last process out: attach late listings, save clean sources' listing states, and
    delete the crawl's keys. Every other process has stored its articles by now."""
    outcome = frontier.outcome()
    clean = not outcome.vanished and ALL_SOURCES not in outcome.dirty
    if outcome.vanished:
        logger.warning(
            "Crawl %s: %d process(es) vanished without finishing; listing states not saved",
            frontier.run_key,
            len(outcome.vanished),
        )
    source_ids = {
        name: context.source_run(name).source_id
        for name in {link.source for _, link in outcome.late}
    }
    saved = 0
    with context.db.begin() as session:
        attached = attach_late_links(
            session, outcome.late, source_ids, context.config.crawl.naver_hosts
        )
        if clean:
            for (source, source_id, key), (etag, modified) in outcome.listings.items():
                if source not in outcome.dirty:
                    save_listing_state(session, source_id, key, etag, modified)
                    saved += 1
    frontier.clear()
    logger.info(
        "Crawl %s over: %d late listing(s) attached, %d listing state(s) saved",
        frontier.run_key,
        attached,
        saved,
    )


def attach_late_links(
    session: Session,
    late: Sequence[tuple[str, Link]],
    source_ids: Mapping[str, int],
    naver_hosts: Sequence[str],
) -> int:
    """Record listings that arrived after their article was fetched: its source and URLs.

    An article that was not stored (failed, filtered) gets nothing, as in a single process.
    Returns how many listings found their article.
    """
    if not late:
        return 0
    leads = []
    for owner, link in late:
        urls = (owner, *link.urls)
        naver_id = next(filter(None, (naver_article_id(u, naver_hosts) for u in urls)), None)
        leads.append(LeadKeys(urls=urls, naver_id=naver_id))
    triage = triage_leads(session, leads, max_attempts=1, filter_key="")
    pairs: list[tuple[int, int]] = []
    rows: dict[str, dict[str, Any]] = {}
    for (_owner, link), verdict in zip(late, triage, strict=True):
        article_id = verdict.known_article_id
        if article_id is None:
            continue
        pairs.append((article_id, source_ids[link.source]))
        for url in link.urls:
            if url.startswith(("http://", "https://")):
                key = canonical_url(url)
                rows.setdefault(
                    key,
                    {
                        "url": key,
                        "kind": "listing",
                        "article_id": article_id,
                        "first_seen_at": utcnow(),
                    },
                )
    attach_sources(session, pairs)
    insert_ignore(session, ArticleUrl, list(rows.values()))
    return len(pairs)
