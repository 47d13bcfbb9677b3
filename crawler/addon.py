"""Scrapy add-on: the only bridge from config/tracker.yaml into Scrapy settings."""

from __future__ import annotations

import os
from typing import Any

from scrapy.exceptions import UsageError
from scrapy.settings import BaseSettings

from tracker.config import CONFIG_ENV, Config, load_config
from tracker.errors import ConfigError


def to_scrapy_settings(config: Config) -> dict[str, Any]:
    """Return the Scrapy settings derived from the tracker configuration."""
    crawl = config.crawl
    return {
        "USER_AGENT": crawl.user_agent,
        "CONCURRENT_REQUESTS": crawl.concurrent_requests,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        "RETRY_TIMES": crawl.retry_times,
        "ROBOTSTXT_OBEY": crawl.obey_robots_txt,
        "TRACKER_STORE_WRITER": crawl.store_writer,
    }


class TrackerAddon:
    """Load TRACKER_CONFIG and apply it at "addon" priority, so ``-s`` still wins."""

    def update_settings(self, settings: BaseSettings) -> None:
        path = settings.get("TRACKER_CONFIG") or os.environ.get(CONFIG_ENV)
        try:
            config = load_config(path)
        except ConfigError as exc:
            raise UsageError(str(exc)) from None
        settings.set("TRACKER_CONFIG", str(config.path), priority="addon")
        for key, value in to_scrapy_settings(config).items():
            settings.set(key, value, priority="addon")
        # Scale-out: join a crawl shared by several processes (crawler.frontier).
        if settings.get("TRACKER_RUN_KEY"):
            from crawler.frontier import frontier_settings, resolve_frontier

            _url, run_key = resolve_frontier(settings, config)
            for key, value in frontier_settings(run_key).items():
                settings.set(key, value, priority="addon")
