"""The crawl process's entry point (`python -m crawler news`) and what it loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV_CODE = "import os; os.environ['SCRAPY_SETTINGS_MODULE'] = 'crawler.settings'\n"


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENV_CODE + code], capture_output=True, text=True, cwd=ROOT
    )


def test_unused_scrapy_components_are_not_even_imported() -> None:
    """Loading the crawl's extensions and middlewares, as Scrapy does at start, imports none of
    the built-ins this project switched off (aiohttp, tldextract, requests, twisted.conch), and
    the entry point does not import Scrapy's command modules."""
    code = (
        "import sys\n"
        "import crawler.__main__\n"
        "from scrapy.utils.conf import build_component_list\n"
        "from scrapy.utils.misc import load_object\n"
        "from scrapy.utils.project import get_project_settings\n"
        "settings = get_project_settings()\n"
        "for name in ('EXTENSIONS', 'DOWNLOADER_MIDDLEWARES', 'SPIDER_MIDDLEWARES'):\n"
        "    for path in build_component_list(settings.getwithbase(name)):\n"
        "        load_object(path)\n"
        "print(' '.join(m for m in ('aiohttp', 'tldextract', 'requests', 'twisted.conch', "
        "'scrapy.commands.check', 'unittest') if m in sys.modules))\n"
        "print(len(build_component_list(settings.getwithbase('EXTENSIONS'))))\n"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    loaded, extensions = result.stdout.splitlines()
    assert loaded == ""
    # The project's own extension and Scrapy's core ones (stats, log counts, close spider ...).
    assert int(extensions) >= 5


def test_the_crawl_entry_point_rejects_bad_arguments() -> None:
    for args, message in (
        (["news", "-a", "sources"], "NAME=VALUE"),
        (["nosuchspider"], "Spider not found: nosuchspider"),
        ([], "the following arguments are required: spider"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "crawler", *args], capture_output=True, text=True, cwd=ROOT
        )
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, (args, result.stderr)
