"""Console and logging setup for the CLI: Rich when interactive, plain lines otherwise."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

from rich.console import Console
from rich.logging import RichHandler

console = Console()
err_console = Console(stderr=True)


class JsonLogFormatter(logging.Formatter):
    """One JSON object per log record, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def setup_logging(verbosity: int = 0, quiet: bool = False, log_json: bool = False) -> None:
    """Configure the root logger: -v for INFO/DEBUG, -q for errors only."""
    if quiet:
        level = logging.ERROR
    elif verbosity >= 2:
        level = logging.DEBUG
    elif verbosity == 1:
        level = logging.INFO
    else:
        level = logging.WARNING
    handler: logging.Handler
    if log_json:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonLogFormatter())
    elif err_console.is_terminal:
        handler = RichHandler(console=err_console, show_path=False, rich_tracebacks=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def is_interactive() -> bool:
    """Return True when progress bars make sense (stderr is a terminal)."""
    return err_console.is_terminal
