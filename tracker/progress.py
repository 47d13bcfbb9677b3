"""Progress bars of a crawl, one per source, fed by the crawl's JSON progress events.

Imports only Rich: it is drawn by the CLI or by the crawl watcher (tracker.crawlwatch), which
must stay small.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

_COUNTERS = {"listed", "new", "duplicate", "errors"}


class CrawlProgress:
    """A context manager drawing a bar per source; ``on_event`` takes the crawl's events."""

    def __init__(self, sources: Sequence[str], console: Console | None = None) -> None:
        columns = (
            # Not markup: "[ok]" in "msit [ok]" would be read as a style tag and vanish.
            TextColumn("{task.description:<28}", markup=False),
            BarColumn(),
            TextColumn(
                "listed {task.fields[listed]:>4}  new {task.fields[new]:>4}  "
                "dup {task.fields[duplicate]:>4}  err {task.fields[errors]:>3}"
            ),
        )
        self.progress = Progress(*columns, console=console or Console(stderr=True), transient=False)
        self.tasks = {
            name: self.progress.add_task(name, total=None, listed=0, new=0, duplicate=0, errors=0)
            for name in sources
        }

    def __enter__(self) -> CrawlProgress:
        self.progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.progress.stop()

    def on_event(self, event: dict[str, Any]) -> None:
        task = self.tasks.get(event.get("source", ""))
        if task is None:
            return
        progress = self.progress
        if event.get("event") == "count" and event.get("counter") in _COUNTERS:
            field = event["counter"]
            amount = event.get("amount", 1)
            current = progress.tasks[task].fields.get(field, 0)
            progress.update(task, **{field: current + amount})
            if field == "listed":
                progress.update(task, total=progress.tasks[task].fields["listed"])
            else:
                progress.advance(task, amount)
        elif event.get("event") == "finished":
            progress.update(
                task, description=f"{event['source']} [{event['status']}]", total=1, completed=1
            )
