"""`python -m crawler SPIDER [-a NAME=VALUE] [-s NAME=VALUE]`: run one spider, like `scrapy crawl`.

The tracker starts its crawls this way rather than through `scrapy crawl`: Scrapy's command line
imports every command module to list them (the `check` command alone brings unittest and the
contracts), about 10 MB that would stay in the crawl process for nothing. What runs is what
`scrapy crawl` runs (Scrapy's documented "run from a script" API): the project settings, the
-s overrides at command-line priority, the spider's -a arguments, the same choice of crawler
process for the configured reactor, and exit code 1 when the crawl could not start.
`scrapy crawl news` keeps working the same.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from scrapy.crawler import AsyncCrawlerProcess, CrawlerProcess
from scrapy.utils.conf import arglist_to_dict
from scrapy.utils.project import get_project_settings

ASYNCIO_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crawler", description=__doc__.splitlines()[0])
    parser.add_argument("spider", help="the spider's name (news)")
    parser.add_argument(
        "-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
        help="a spider argument (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "-s", dest="set", action="append", default=[], metavar="NAME=VALUE",
        help="a Scrapy setting (repeatable)",
    )  # fmt: skip
    options = parser.parse_args(argv)
    try:
        spider_args = arglist_to_dict(options.spargs)
        overrides = arglist_to_dict(options.set)
    except ValueError:
        parser.error("-a and -s take NAME=VALUE")
    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    # As scrapy.cmdline chooses: the asyncio reactor gets the asyncio-native process.
    asyncio_native = (
        settings["TWISTED_REACTOR"] == ASYNCIO_REACTOR
        and not settings.getbool("FORCE_CRAWLER_PROCESS")
    ) or not settings.getbool("TWISTED_REACTOR_ENABLED")
    process = AsyncCrawlerProcess(settings) if asyncio_native else CrawlerProcess(settings)
    try:
        process.crawl(options.spider, **spider_args)
    except KeyError as exc:  # the spider loader's "Spider not found"
        parser.error(str(exc).strip("'\""))
    process.start()
    return 1 if process.bootstrap_failed else 0


if __name__ == "__main__":
    sys.exit(main())
