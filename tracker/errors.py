"""Exception hierarchy of the tracker; the CLI maps each to an exit code."""

from __future__ import annotations


class TrackerError(Exception):
    """Base class for errors the tracker reports to users without a traceback."""

    exit_code = 1


class ConfigError(TrackerError):
    """The configuration is missing, malformed or invalid (exit code 2)."""

    exit_code = 2


class SourceNotFound(TrackerError):
    """A source name given on the command line is not in the configuration."""

    exit_code = 2


class DatabaseError(TrackerError):
    """The database cannot be opened or migrated."""

    exit_code = 1


class CrawlError(TrackerError):
    """The crawl subprocess could not be started or crashed."""

    exit_code = 1
