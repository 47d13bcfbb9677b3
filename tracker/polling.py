"""When to poll: the `schedule` config models and the adaptive fast-polling rule (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tracker.state import CompetitionState

KST = ZoneInfo("Asia/Seoul")
# Group names become job ids (run:<group>), so they follow the source-name rule.
GROUP_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
WINDOW_RE = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
# Every 30 minutes from 07:00 to 23:30 KST, hourly at night.
DEFAULT_CRON = ("*/30 7-23 * * *", "0 0-6 * * *")
Precision = Literal["day", "month_part", "month"]


class _Strict(BaseModel):
    """Base model: unknown keys are errors, values are immutable after load.

    A copy of tracker.config._Strict: tracker.config imports this module for its `schedule`
    key, so importing it back would be circular.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_cron(expression: str) -> str:
    # Imported here: validating a user's schedule is the only reason config loading needs it.
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expression, timezone=KST)
    except ValueError as exc:
        raise ValueError(f"invalid crontab line {expression!r}: {exc}") from None
    return expression


def _unique(values: tuple[str, ...], what: str) -> tuple[str, ...]:
    duplicates = sorted({v for v in values if values.count(v) > 1})
    if duplicates:
        raise ValueError(f"{what} named twice: {', '.join(duplicates)}")
    return values


class GroupSchedule(_Strict):
    # Sources crawled together by one `tracker run`; empty: every enabled source that no other
    # group names.
    sources: tuple[str, ...] = ()
    # Crontab lines (minute hour day-of-month month day-of-week) in Asia/Seoul; the group runs
    # whenever any of them matches.
    cron: tuple[str, ...] = Field(default=DEFAULT_CRON, min_length=1)

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_check_cron(expression) for expression in value)

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "source")


class AdaptiveConfig(_Strict):
    enabled: bool = True
    # How often the fast job checks whether fast polling is due (and then crawls).
    interval_minutes: int = Field(default=5, ge=1, le=60)
    # Daily KST window in which fast polling may happen ("HH:MM-HH:MM", end exclusive, 24:00 ok).
    window: str = "09:00-20:00"
    # Poll fast for this many hours after an official item was first crawled (0: never).
    official_hours: float = Field(default=6.0, ge=0)
    # Schedule events (facts) whose day makes it a decision day.
    events: tuple[str, ...] = ("results",)
    # Which date precisions count: "1월 15일" (day), "1월 중순" (month_part), "1월 중" (month).
    precisions: tuple[Precision, ...] = ("day", "month_part", "month")
    # Sources polled fast; empty: every official source and every Naver API source.
    sources: tuple[str, ...] = ()

    @field_validator("window")
    @classmethod
    def _valid_window(cls, value: str) -> str:
        parse_window(value)
        return value

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _unique(value, "source")

    @property
    def window_minutes(self) -> tuple[int, int]:
        """Return the window as minutes after KST midnight: [start, end)."""
        return parse_window(self.window)


class ScheduleConfig(_Strict):
    groups: dict[str, GroupSchedule] = Field(default_factory=lambda: {"all": GroupSchedule()})
    adaptive: AdaptiveConfig = AdaptiveConfig()
    # Hard limit of one cycle (`tracker run` subprocess): SIGTERM, then SIGKILL after 30 s.
    job_timeout: float = Field(default=1800.0, gt=0)
    # A run missed by at most this many seconds (daemon down, previous job still running) still
    # runs once; older misses are skipped.
    misfire_grace_time: int = Field(default=900, ge=1)
    # Where jobs persist; None: the tracker's own database (table apscheduler_jobs).
    jobstore_url: str | None = None

    @field_validator("groups")
    @classmethod
    def _valid_groups(cls, value: dict[str, GroupSchedule]) -> dict[str, GroupSchedule]:
        for name in value:
            if not GROUP_NAME_RE.match(name):
                raise ValueError(f"group {name!r}: use lowercase letters, digits, '-', '_' or '.'")
        return value

    @model_validator(mode="after")
    def _sources_in_one_group(self) -> ScheduleConfig:
        catch_all = [name for name, group in self.groups.items() if not group.sources]
        if len(catch_all) > 1:
            raise ValueError(
                f"only one group may leave sources empty (all other sources): {catch_all}"
            )
        owner: dict[str, str] = {}
        for name, group in self.groups.items():
            for source in group.sources:
                if source in owner:
                    raise ValueError(
                        f"source {source!r} is in groups {owner[source]!r} and {name!r}"
                    )
                owner[source] = name
        return self

    def unknown_sources(self, known: Iterable[str]) -> list[str]:
        """Return the source names used here that are not in ``known`` (the configured ones)."""
        known = set(known)
        named = [s for g in self.groups.values() for s in g.sources] + list(self.adaptive.sources)
        return sorted({name for name in named if name not in known})


def parse_window(value: str) -> tuple[int, int]:
    """Return "HH:MM-HH:MM" as minutes after midnight [start, end); raise ValueError."""
    match = WINDOW_RE.match(value.strip())
    if not match:
        raise ValueError(f"window {value!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or start >= 24 * 60 or end > 24 * 60:
        raise ValueError(f"window {value!r}: not a time of day")
    if start >= end:
        raise ValueError(f"window {value!r}: start must be before end (no overnight windows)")
    return start, end


def in_window(adaptive: AdaptiveConfig, now: datetime) -> bool:
    """Return whether ``now`` (aware) falls inside the daily KST window."""
    local = now.astimezone(KST)
    start, end = adaptive.window_minutes
    return start <= local.hour * 60 + local.minute < end


@dataclass(frozen=True, slots=True)
class DatedEvent:
    event: str
    stage: str | None
    date: date
    precision: str

    def covers(self, day: date) -> bool:
        """Return whether ``day`` falls in this date's period (month parts: 1-10, 11-20, 21-end)."""
        if day < self.date:
            return False
        if self.precision == "day":
            return day == self.date
        same_month = (day.year, day.month) == (self.date.year, self.date.month)
        if self.precision == "month_part":
            return same_month and (self.date.day >= 21 or day.day < self.date.day + 10)
        if self.precision == "month":
            return same_month
        return day == self.date  # an unknown precision counts as the day itself

    def describe(self) -> str:
        stage = f" {self.stage}" if self.stage else ""
        return f"{self.event}{stage} on {self.date.isoformat()} ({self.precision})"


def dated_events(state: CompetitionState | Mapping[str, Any]) -> Iterator[DatedEvent]:
    """Yield the schedule dates a state holds: its schedules and its next decision.

    ``state`` is a CompetitionState or its ``to_dict()`` form (or that form's "programme").
    """
    if isinstance(state, CompetitionState):
        schedules, upcoming = state.schedules, state.next_decision
    else:
        programme = state.get("programme", state)
        schedules, upcoming = programme.get("schedules") or {}, programme.get("next_decision")
    for key, value in schedules.items():
        event, _, stage = key.partition("|")
        yield _dated(event, stage, value)
    if upcoming:
        yield _dated(upcoming.get("event", ""), upcoming.get("stage"), upcoming)


def _dated(event: str, stage: str | None, value: Mapping[str, Any]) -> DatedEvent:
    return DatedEvent(
        event, stage or None, date.fromisoformat(value["date"]), value.get("precision", "day")
    )


def fast_polling_reason(
    state: CompetitionState | Mapping[str, Any] | None,
    recent_official_at: datetime | None,
    adaptive: AdaptiveConfig,
    now: datetime,
) -> str | None:
    """Return why official sources should be polled fast at ``now``, or None when they should not.

    Fast polling happens only inside the daily window, and only on a decision day (a schedule
    date of a configured event and precision whose period covers today, KST) or within
    ``official_hours`` after an official item was crawled. Outside those it is off again, so
    the daemon returns to its normal schedule by itself.
    """
    if not adaptive.enabled or not in_window(adaptive, now):
        return None
    if recent_official_at is not None and adaptive.official_hours > 0:
        age = now - recent_official_at
        if age <= timedelta(hours=adaptive.official_hours):
            when = recent_official_at.astimezone(KST).strftime("%Y-%m-%d %H:%M")
            return f"official item crawled at {when} KST"
    if state is None:
        return None
    today = now.astimezone(KST).date()
    for dated in dated_events(state):
        if (
            dated.event in adaptive.events
            and dated.precision in adaptive.precisions
            and dated.covers(today)
        ):
            return f"decision day: {dated.describe()}"
    return None


def fast_polling_due(
    state: CompetitionState | Mapping[str, Any] | None,
    recent_official_at: datetime | None,
    adaptive: AdaptiveConfig,
    now: datetime,
) -> bool:
    """Return whether official sources should be polled fast now (see fast_polling_reason)."""
    return fast_polling_reason(state, recent_official_at, adaptive, now) is not None
