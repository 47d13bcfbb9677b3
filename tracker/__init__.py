"""dokpamo-tracker: the domain side; never imports Scrapy."""

__version__ = "0.1.0"
