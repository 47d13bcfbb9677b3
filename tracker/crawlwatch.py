"""Watch a crawl subprocess: start it, relay its progress, stop it on timeout.

This module imports only the standard library, because it is also a program of its own
(``python -m tracker.crawlwatch``). `tracker run` and `tracker crawl` exec into it for the length
of the crawl: the CLI, with the database layer, the config models and the domain loaded, would
otherwise sit idle beside the crawl holding some 70 MB, which counts against the crawl's memory.
The watcher starts the crawl, waits for it (stopping it on timeout, SIGTERM or Ctrl-C), then
execs back into the CLI's own command line with the crawl's outcome in TRACKER_CRAWL_RESULT;
the CLI then finishes the command (summary, changes, alerts). A run lock handed over by the CLI
is an inherited descriptor, so it is held from the first program to the last.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

ProgressCallback = Callable[[dict[str, Any]], None]

# The watcher's instructions (a CrawlSpec and what to exec afterwards) and, for the program
# exec'd after it, the crawl's outcome. Environment rather than argv: a spec's environment may
# hold a password (the frontier's Redis URL), and argv is world-readable in /proc.
HANDOVER_ENV = "TRACKER_CRAWL_HANDOVER"
RESULT_ENV = "TRACKER_CRAWL_RESULT"


class HandoverError(Exception):
    """A hand-over or a crawl result passed between the CLI and the watcher is malformed."""


# Named tuples, not dataclasses: importing dataclasses (and with it inspect) would cost this
# program a tenth of its memory.


class CrawlSpec(NamedTuple):
    """How to run one crawl subprocess (JSON-serializable: it crosses an exec)."""

    argv: list[str]
    cwd: str
    log_path: str
    run_group: str
    env: dict[str, str] = {}  # noqa: RUF012 - set on top of the inherited environment; never mutated
    unset_env: list[str] = []  # noqa: RUF012 - never mutated
    timeout: float | None = None


class CrawlResult(NamedTuple):
    """How the crawl subprocess ended; per-source counts are in the CrawlRun rows of run_group."""

    run_group: str
    returncode: int
    log_path: Path
    timed_out: bool = False


class Handover(NamedTuple):
    """What the watcher does: run ``spec``, then exec ``then`` (argv) with the result.

    ``progress``: the sources to draw progress bars for (None: no bars, nobody watches).
    ``carry``: values for the program exec'd afterwards, passed back untouched (the lock's
    descriptor, when the cycle started).
    """

    spec: CrawlSpec
    then: list[str]
    progress: list[str] | None = None
    carry: dict[str, Any] = {}  # noqa: RUF012 - never mutated


def watch(spec: CrawlSpec, on_event: ProgressCallback | None = None) -> CrawlResult:
    """Run the crawl subprocess of ``spec`` to completion and return how it ended.

    The child's Scrapy log goes to a file (its tail is shown when it crashes); its stdout
    carries JSON progress events, passed to ``on_event`` as they arrive. On timeout the child
    gets SIGTERM (Scrapy then closes the spider cleanly), then SIGKILL after a grace period.
    """
    env = dict(os.environ)
    for name in spec.unset_env:
        env.pop(name, None)
    env.update(spec.env)
    log_path = Path(spec.log_path)
    try:
        # stderr (tracebacks, warnings printed before logging starts) joins the log file.
        with open(log_path, "ab") as stderr:
            process = subprocess.Popen(
                spec.argv,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                env=env,
                text=True,
                encoding="utf-8",
                cwd=spec.cwd,
            )
    except OSError as exc:
        raise OSError(f"cannot start the crawler: {exc}") from None
    timed_out = False
    try:
        _pump_events(process, on_event, spec.timeout)
        returncode = process.wait(timeout=spec.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        returncode = stop_process(process)
    except KeyboardInterrupt:
        stop_process(process)
        raise
    return CrawlResult(spec.run_group, returncode, log_path, timed_out)


def _pump_events(
    process: subprocess.Popen[str], on_event: ProgressCallback | None, timeout: float | None
) -> None:
    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if on_event is not None:
                on_event(event)

    reader = threading.Thread(target=pump, name="crawl-progress", daemon=True)
    reader.start()
    reader.join(timeout)
    if reader.is_alive():
        raise subprocess.TimeoutExpired(process.args, timeout or 0)


def stop_process(process: subprocess.Popen[str], grace: float = 30.0) -> int:
    """Ask the crawl to stop (SIGTERM: Scrapy finishes cleanly), kill it after ``grace`` s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()


def log_tail(path: Path, lines: int = 20) -> str:
    """Return the last ``lines`` lines of a crawl log (empty when missing)."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ------------------------------------------------------------------ crossing the execs


def encode_handover(handover: Handover) -> str:
    return json.dumps(handover._replace(spec=handover.spec._asdict())._asdict())


def decode_handover(text: str) -> Handover:
    try:
        data = json.loads(text)
        return Handover(
            spec=CrawlSpec(**data["spec"]),
            then=[str(a) for a in data["then"]],
            progress=data.get("progress"),
            carry=dict(data.get("carry") or {}),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise HandoverError(f"malformed {HANDOVER_ENV}: {exc}") from None


def encode_result(result: CrawlResult, carry: Mapping[str, Any]) -> str:
    return json.dumps(
        {
            "run_group": result.run_group,
            "returncode": result.returncode,
            "log_path": str(result.log_path),
            "timed_out": result.timed_out,
            "carry": dict(carry),
        }
    )


def decode_result(text: str) -> tuple[CrawlResult, dict[str, Any]]:
    """Return the crawl result and the carried values of a TRACKER_CRAWL_RESULT."""
    try:
        data = json.loads(text)
        result = CrawlResult(
            run_group=str(data["run_group"]),
            returncode=int(data["returncode"]),
            log_path=Path(data["log_path"]),
            timed_out=bool(data["timed_out"]),
        )
        return result, dict(data.get("carry") or {})
    except (ValueError, TypeError, KeyError) as exc:
        raise HandoverError(f"malformed {RESULT_ENV}: {exc}") from None


def exec_watcher(handover: Handover) -> None:
    """Replace this process by the watcher (does not return unless the exec fails)."""
    env = dict(os.environ)
    env[HANDOVER_ENV] = encode_handover(handover)
    env.pop(RESULT_ENV, None)
    _exec([sys.executable, "-m", "tracker.crawlwatch"], env)


def _exec(argv: list[str], env: dict[str, str]) -> None:
    """Replace this process by ``argv`` (raises OSError when the exec fails)."""
    # Output buffered by this process would be lost with it.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(argv[0], argv, env)


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    """Run the crawl a hand-over describes, then exec the program that continues the command."""
    text = os.environ.pop(HANDOVER_ENV, None)
    if text is None:
        print(f"tracker.crawlwatch: {HANDOVER_ENV} is not set (run by `tracker`)", file=sys.stderr)
        return 2
    try:
        handover = decode_handover(text)
    except HandoverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # The CLI turned SIGTERM into a clean stop; so does this stand-in for it.
    signal.signal(signal.SIGTERM, _interrupted)
    on_event: ProgressCallback | None = None
    bars = None
    if handover.progress is not None:
        # Only when someone watches a terminal: Rich costs memory, the point of this program.
        from tracker.progress import CrawlProgress

        bars = CrawlProgress(handover.progress)
        on_event = bars.on_event
    try:
        if bars is not None:
            with bars:
                result = watch(handover.spec, on_event)
        else:
            result = watch(handover.spec, on_event)
    except KeyboardInterrupt:
        print("Aborted!", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    env = dict(os.environ)
    env[RESULT_ENV] = encode_result(result, handover.carry)
    try:
        _exec(handover.then, env)
    except OSError as exc:
        print(
            f"error: cannot continue after the crawl ({handover.then[0]}): {exc}", file=sys.stderr
        )
        return 1
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
