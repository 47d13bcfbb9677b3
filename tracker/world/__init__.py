"""The local news world: a self-contained 127.0.0.1 news site, feeds and APIs about 독파모."""

from __future__ import annotations

from tracker.world.server import NewsWorld

__all__ = ["NewsWorld"]
