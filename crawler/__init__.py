"""The Scrapy project: spiders, page objects and pipelines that feed the tracker."""
