"""One tracking cycle after a crawl: fold facts into state, record changes (and baseline)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.changes import RebuildResult, rebuild
from tracker.config import Config
from tracker.facts.entities import Entities
from tracker.models import Article, Change, Meta

BASELINE_KEY = "baseline_at"


def baseline_recorded(session: Session) -> bool:
    """Return True once a baseline (the first run, or `tracker baseline`) was recorded."""
    if session.get(Meta, BASELINE_KEY) is not None:
        return True
    # Databases that have a change log already are past their first run.
    return bool(session.scalar(select(func.count()).select_from(Change)))


def track(
    session: Session, config: Config, entities: Entities, now: datetime, baseline: bool = False
) -> tuple[RebuildResult, bool]:
    """Record the changes the stored facts imply; return them and whether they were silent.

    The first cycle on a database (or an explicit baseline) records the state as history
    without alerting: a tracker started today must not mail last month's news.
    """
    silent = baseline or not baseline_recorded(session)
    result = rebuild(session, config, entities, now, silent=silent)
    # A first run that stored nothing (offline, every source down) is no baseline: the next
    # run that finds the story must still record it silently instead of mailing its history.
    has_articles = bool(session.scalar(select(func.count()).select_from(Article)))
    if silent and has_articles and session.get(Meta, BASELINE_KEY) is None:
        session.add(Meta(key=BASELINE_KEY, value=now.isoformat()))
    return result, silent
