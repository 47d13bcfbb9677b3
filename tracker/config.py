"""Load and validate the YAML configuration; the one typed view of config/ for the whole tool."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from tracker.errors import ConfigError
from tracker.polling import ScheduleConfig

DEFAULT_CONFIG_PATH = Path("config/tracker.yaml")
CONFIG_ENV = "TRACKER_CONFIG"
DATABASE_ENV = "TRACKER_DATABASE_URL"
HOME_ENV = "TRACKER_HOME"

SOURCE_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


class _Strict(BaseModel):
    """Base model: unknown keys are errors, values are immutable after load."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = "sqlite:///data/tracker.db"
    echo: bool = False


class KeywordConfig(_Strict):
    any: tuple[str, ...] = Field(min_length=1)
    none: tuple[str, ...] = ()


# A scaled-out crawl's Redis keys are "{key_prefix}:{run key}:…": no spaces, no '%' (scrapy-redis
# formats its key settings with %), nothing a shell or a Redis key pattern would mangle.
FRONTIER_KEY_RE = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


def check_redis_url(value: str) -> str:
    """Return ``value`` if it is a Redis URL, else raise ValueError saying what is expected."""
    if not value.startswith(REDIS_SCHEMES):
        raise ValueError("expected a redis://HOST:PORT/DB, rediss:// or unix:// URL")
    return value


def redact_url(url: str) -> str:
    """Return ``url`` without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname or ''}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


class FrontierConfig(_Strict):
    """Scale-out: crawler processes that join one crawl share its frontier through Redis."""

    # Holds the crawl's request queue, dupefilter, claims and process registry.
    redis_url: str
    # Every key of crawl RUN_KEY is "{key_prefix}:{RUN_KEY}:…".
    key_prefix: str = Field(default="dokpamo", pattern=FRONTIER_KEY_RE)
    # Seconds a crawl's keys outlive its last heartbeat, and how long a finished crawl's
    # marker stops a late process from crawling it again.
    ttl: int = Field(default=86400, ge=60)
    # Seconds without a heartbeat after which a process counts as gone (crashed, unplugged).
    lease: float = Field(default=30.0, ge=5, le=3600)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str) -> str:
        return check_redis_url(value)


class CrawlConfig(_Strict):
    user_agent: str = "dokpamo-tracker/0.1 (+https://github.com/dokpamo-tracker)"
    concurrent_requests: int = Field(default=16, ge=1, le=256)
    concurrent_requests_per_domain: int = Field(default=4, ge=1, le=64)
    download_delay: float = Field(default=0.0, ge=0)
    download_timeout: float = Field(default=20.0, gt=0)
    retry_times: int = Field(default=2, ge=0, le=10)
    obey_robots_txt: bool = False
    # Permanent failures (404, 410, not-an-article) of one article URL are retried on later runs
    # up to this many times, then skipped, so a dead link does not fail every cron run forever.
    max_article_attempts: int = Field(default=3, ge=1)
    # Worker processes that parse pages, normalize and hash them, off the reactor's thread.
    # None: one fewer than the CPUs (at least 1); 0: parse inline in the crawl process.
    parse_workers: int | None = Field(default=None, ge=0, le=64)
    # Where the archive writer runs: a thread of the crawl process (no second interpreter:
    # ~80 MB less) or its own process (with a core to spare, the crawl process stays freer).
    store_writer: Literal["thread", "process"] = "thread"
    # Hosts whose /article/{oid}/{aid} paths are Naver News articles (mirrors may be added).
    naver_hosts: tuple[str, ...] = (
        "n.news.naver.com",
        "news.naver.com",
        "m.news.naver.com",
        "entertain.naver.com",
        "m.entertain.naver.com",
        "sports.news.naver.com",
        "m.sports.naver.com",
        "sports.naver.com",
    )
    # Scale-out (optional): used by `tracker crawl --run-key KEY`; without a run key every
    # crawl is a single process with Scrapy's own scheduler, whatever this says.
    frontier: FrontierConfig | None = None


class DedupeConfig(_Strict):
    # Jaccard similarity (word 5-shingles) above which two articles are one story (wire copies).
    near_duplicate_threshold: float = Field(default=0.7, gt=0, le=1)
    minhash_permutations: int = Field(default=128, ge=16, le=512)
    # LSH: the signature is cut into bands of this many values; articles sharing one band are
    # compared. 6 rows (21 bands of 128) makes pairs at Jaccard 0.7 candidates 93% of the time
    # and unrelated pairs that share boilerplate (Jaccard 0.3) 1.5% of the time.
    minhash_band_rows: int = Field(default=6, ge=1)

    @model_validator(mode="after")
    def _rows_fit_permutations(self) -> DedupeConfig:
        if self.minhash_band_rows > self.minhash_permutations:
            raise ValueError("minhash_band_rows cannot exceed minhash_permutations")
        return self


IMMEDIATE_KINDS = (
    "team_selected",
    "team_advanced",
    "team_eliminated",
    "team_added",
    "team_not_selected",
    "team_withdrew",
)


class SmtpConfig(_Strict):
    host: str = "localhost"
    port: int = Field(default=25, ge=1, le=65535)
    # none: plain SMTP; starttls: upgrade after EHLO; ssl: TLS from the first byte (port 465).
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    # Name of the environment variable holding the password (never the password itself).
    password_env: str = "TRACKER_SMTP_PASSWORD"
    timeout: float = Field(default=30.0, gt=0)


class ImmediateConfig(_Strict):
    # Change kinds mailed at once (when confirmed); other kinds go into the daily digest.
    kinds: tuple[str, ...] = IMMEDIATE_KINDS
    # Also mail a change when it is first reported, clearly marked unconfirmed.
    on_report: bool = False


class DigestConfig(_Strict):
    enabled: bool = True
    # Hour of the day (KST) after which the day's digest is sent.
    hour: int = Field(default=8, ge=0, le=23)


class AlertsConfig(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    enabled: bool = True
    smtp: SmtpConfig = SmtpConfig()
    sender: str = Field(default="dokpamo-tracker <tracker@localhost>", alias="from")
    to: tuple[str, ...] = ()
    immediate: ImmediateConfig = ImmediateConfig()
    digest: DigestConfig = DigestConfig()
    # A failed send stays pending and is retried on later runs, waiting
    # retry_base_seconds * 2**(attempts-1) (capped at a day), up to max_attempts.
    max_attempts: int = Field(default=12, ge=1)  # about 34 hours of SMTP outage
    retry_base_seconds: float = Field(default=60.0, ge=0)


class TrackingConfig(_Strict):
    # A change is confirmed when an official source asserts it, or when this many independent
    # publishers do (near-duplicate wire copies and Naver/publisher copies count once).
    min_publishers: int = Field(default=2, ge=1)


class HealthConfig(_Strict):
    # A source is unhealthy after this many consecutive problem runs (failures, zero results
    # that are not "not modified", runs whose fetched pages all failed to extract).
    threshold: int = Field(default=3, ge=1)
    # Operator recipients of "source unhealthy" and "recovered" mails (separate from alerts.to).
    operator: tuple[str, ...] = ()


class _SourceBase(_Strict):
    name: str
    enabled: bool = True
    official: bool = False

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not SOURCE_NAME_RE.match(value):
            raise ValueError("use lowercase letters, digits, '-', '_' or '.'")
        return value


class NaverApiSource(_SourceBase):
    type: Literal["naver_api"]
    endpoint: str = "https://openapi.naver.com/v1/search/news.json"
    queries: tuple[str, ...] = Field(min_length=1)
    client_id_env: str = "NAVER_CLIENT_ID"
    client_secret_env: str = "NAVER_CLIENT_SECRET"
    display: int = Field(default=100, ge=1, le=100)
    # The API refuses start > 1000; paging also stops at the first page of already-seen items.
    max_start: int = Field(default=1000, ge=1, le=1000)


class RssSource(_SourceBase):
    type: Literal["rss"]
    url: str
    # Fetch every item even when its title/summary does not mention a keyword (the article
    # body is still keyword-filtered after fetching).
    fetch_all: bool = False


class MsitBoardSource(_SourceBase):
    type: Literal["msit_board"]
    # The MSIT press-release board's list page; page N adds &pageIndex=N.
    url: str = "https://www.msit.go.kr/bbs/list.do?sCode=user&mPid=208&mId=307"
    # List pages read per run, newest first; paging stops at a page with nothing new.
    pages: int = Field(default=1, ge=1, le=50)
    official: bool = True


AnySource = NaverApiSource | RssSource | MsitBoardSource
SourceConfig = Annotated[AnySource, Field(discriminator="type")]


class Config(_Strict):
    """The whole configuration; ``path`` is where it was loaded from."""

    database: DatabaseConfig = DatabaseConfig()
    entities: str = "entities.yaml"
    keywords: KeywordConfig
    crawl: CrawlConfig = CrawlConfig()
    dedupe: DedupeConfig = DedupeConfig()
    official_domains: tuple[str, ...] = ("korea.kr", "msit.go.kr")
    tracking: TrackingConfig = TrackingConfig()
    alerts: AlertsConfig = AlertsConfig()
    health: HealthConfig = HealthConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    sources: tuple[SourceConfig, ...] = Field(min_length=1)
    path: Path = Path(".")

    @model_validator(mode="after")
    def _unique_source_names(self) -> Config:
        seen: set[str] = set()
        for source in self.sources:
            if source.name in seen:
                raise ValueError(f"duplicate source name {source.name!r}")
            seen.add(source.name)
        unknown = self.schedule.unknown_sources(seen)
        if unknown:
            raise ValueError(f"schedule: unknown source(s): {', '.join(unknown)}")
        return self

    def source(self, name: str) -> AnySource:
        """Return the source called ``name`` or raise SourceNotFound."""
        from tracker.errors import SourceNotFound

        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources)
        raise SourceNotFound(f"no source named {name!r} in {self.path} (known: {known})")

    @property
    def entities_path(self) -> Path:
        """Return the entities file, resolved against the config file's directory."""
        path = Path(self.entities)
        return path if path.is_absolute() else self.path.parent / path

    @property
    def database_url(self) -> str:
        """Return the database URL, with relative SQLite paths resolved against TRACKER_HOME."""
        return resolve_sqlite_url(os.environ.get(DATABASE_ENV) or self.database.url)


def resolve_sqlite_url(url: str) -> str:
    """Return ``url`` with a relative SQLite file path made absolute (TRACKER_HOME or cwd)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == "sqlite:///:memory:":
        return url
    path = url[len(prefix) :]
    if path.startswith("/"):
        return url
    base = Path(os.environ.get(HOME_ENV) or Path.cwd())
    return prefix + str((base / path).resolve())


def config_path_from_env(explicit: str | Path | None = None) -> Path:
    """Return the config path: the explicit one, else $TRACKER_CONFIG, else config/tracker.yaml."""
    if explicit:
        return Path(explicit)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG_PATH


def load_config(path: str | Path | None = None) -> Config:
    """Return the validated configuration, or raise ConfigError naming file, key and problem."""
    config_path = config_path_from_env(path)
    data = _read_yaml_mapping(config_path)
    try:
        config = Config.model_validate({**data, "path": config_path.resolve()})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(config_path, exc)) from None
    if not config.entities_path.is_file():
        raise ConfigError(f"{config_path}: entities: file not found: {config.entities_path}")
    from tracker.facts.entities import EntitiesError, load_entities

    try:
        load_entities(config.entities_path)
    except EntitiesError as exc:
        raise ConfigError(str(exc)) from None
    return config


def _read_yaml_mapping(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}: invalid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping of keys, not {type(data).__name__}")
    if "path" in data:
        raise ConfigError(f"{path}: path: unknown key")
    return data


def format_validation_error(path: Path, exc: ValidationError) -> str:
    """Return one line per problem: ``file: key.path: message``."""
    lines = []
    errors = exc.errors()
    for error in errors:
        if any(
            len(other["loc"]) > len(error["loc"])
            and other["loc"][: len(error["loc"])] == error["loc"]
            for other in errors
        ):
            # A container error caused by a bad element (e.g. "too short" after the element
            # failed) only repeats the element's own, more precise message.
            continue
        location = _format_location(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif error["type"] == "missing":
            message = "required key is missing"
        elif error["type"] == "union_tag_invalid":
            message = f"unknown source type (expected one of: {error['ctx']['expected_tags']})"
        lines.append(f"{path}: {location or '(top level)'}: {message}")
    return "\n".join(lines)


def _format_location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in {"naver_api", "rss", "msit_board"}:
            # pydantic inserts the discriminator tag into the location; users never wrote it.
            continue
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)
