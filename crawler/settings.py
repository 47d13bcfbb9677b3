"""Static Scrapy settings; values that come from config/tracker.yaml are set by crawler.addon."""

from scrapy.settings import default_settings as _scrapy_defaults

BOT_NAME = "dokpamo-tracker"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

ADDONS = {"crawler.addon.TrackerAddon": 0}

ITEM_PIPELINES = {
    "crawler.pipelines.keywords.KeywordFilterPipeline": 200,
    "crawler.pipelines.store.StorePipeline": 300,
}
EXTENSIONS = {
    "crawler.extensions.RunRecorder": 100,
}
# Built-in components this project never uses are left out of the base lists. Setting them to
# None in EXTENSIONS would not do: Scrapy imports every listed component to compare names, and
# these imports stay in the crawl process: remote control brings aiohttp, the cookies
# middleware (cookies are off, COOKIES_ENABLED below) tldextract and requests, the telnet
# console twisted.conch. (The feed exporter stays: `scrapy crawl news -o FILE` uses it.)
_UNUSED = {
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.downloadermiddlewares.cookies.CookiesMiddleware",
}
EXTENSIONS_BASE = {k: v for k, v in _scrapy_defaults.EXTENSIONS_BASE.items() if k not in _UNUSED}
DOWNLOADER_MIDDLEWARES_BASE = {
    k: v for k, v in _scrapy_defaults.DOWNLOADER_MIDDLEWARES_BASE.items() if k not in _UNUSED
}

# The spider keeps its own per-run set of article URLs (so a second source listing the same
# article is recorded against it); listing requests must be repeatable across pages.
DUPEFILTER_DEBUG = False
HTTPERROR_ALLOW_ALL = False
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_ENABLED = True
COOKIES_ENABLED = False
# Scrapy starts CONCURRENT_ITEMS asyncio tasks for every callback's output; an article callback
# yields one item and the pipelines are synchronous, so 100 tasks per page were pure overhead
# (a third of the crawl's CPU in profiles). A feed's hundreds of requests need no more either.
CONCURRENT_ITEMS = 4
# Every spider middleware wraps every callback output. Depth is never limited here and a
# Referer header means nothing to a publisher's article page, so both only cost time.
SPIDER_MIDDLEWARES = {
    "scrapy.spidermiddlewares.depth.DepthMiddleware": None,
    "scrapy.spidermiddlewares.referer.RefererMiddleware": None,
}
# Scrapy's MetaRefreshMiddleware keeps every HTML page's decoded text on the response; this
# one reads the same refresh tag from the page's head only (crawler.middlewares).
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "crawler.middlewares.HeadMetaRefreshMiddleware": 580,
}
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
