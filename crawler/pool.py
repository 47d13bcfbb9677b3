"""A pool of spawned worker processes (or threads) that runs pure functions, in batches, for
the reactor.

Kept apart from the parsing code (crawler.work): a worker unpickles its initializer and the
batch runner by module, so a pool whose workers only store (the archive writer, when it runs as
a process) must not import the extractors, trafilatura and pypdf with them (about 40 MB a
process).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def _init_worker(initializer: Callable[..., None] | None, initargs: tuple[object, ...]) -> None:
    # The crawl process decides when to stop (SIGTERM → clean close); workers must not die
    # first on a terminal's Ctrl-C and break the pool under the spider.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


def default_workers() -> int:
    """Return one fewer worker than CPUs, at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


def _ready() -> None:
    """A no-op whose submission spawns a worker (the pool spawns lazily, on first use)."""


@dataclass(slots=True)
class _Call:
    func: Callable[..., object]
    args: tuple[object, ...]
    kwargs: dict[str, object]
    future: asyncio.Future[object]


Outcome = tuple[bool, object, str]


def run_calls(
    calls: Sequence[tuple[Callable[..., object], tuple[object, ...], dict[str, object]]],
    portable: bool = True,
) -> list[Outcome]:
    """Run a batch of calls in a worker; return (ok, result or exception, traceback) for each.

    One call's exception does not touch the others: each awaiting caller gets its own outcome.
    ``portable``: the outcomes cross a process boundary, so exceptions must pickle.
    """
    outcomes: list[Outcome] = []
    for func, args, kwargs in calls:
        try:
            outcomes.append((True, func(*args, **kwargs), ""))
        except Exception as exc:  # handed back to its caller, which decides
            error = _portable(exc) if portable else exc
            outcomes.append((False, error, "".join(traceback.format_exception(exc))))
    return outcomes


class RemoteTraceback(Exception):
    """The worker-side traceback of an exception, chained as its ``__cause__``."""

    def __str__(self) -> str:
        return str(self.args[0])


def _portable(exc: Exception) -> Exception:
    """Return ``exc``, or a stand-in when it cannot be pickled.

    The batch's results cross the process boundary together: one exception that does not
    pickle must not cost the other calls their results.
    """
    try:
        pickle.dumps(exc)
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


class WorkerPool:
    """Runs pure functions inline (workers=0), in spawned worker processes or in threads.

    Processes are for CPU work (the GIL would serialize threads). Threads (``threads=True``)
    are for work that mostly waits on I/O outside the GIL, such as the archive writer's
    SQLite and PostgreSQL calls: a thread costs no second interpreter (about 80 MB).

    Calls are sent to the workers in batches: each hand-off to a process pool costs a few
    thread switches and pipe writes in this process (about 0.25 ms, as much as parsing a
    small page), so while ``2 × workers`` batches are in flight, new calls wait in a queue
    and go together in the next batch. An idle pool sends a call at once; a busy one sends
    fewer, larger batches, which is when the saving counts.
    """

    def __init__(
        self,
        workers: int,
        initializer: Callable[..., None] | None = None,
        initargs: tuple[object, ...] = (),
        max_batch: int = 32,
        threads: bool = False,
    ) -> None:
        self.workers = workers
        self.max_batch = max_batch
        self.threads = threads
        self._executor: Executor | None = None
        self._queue: list[_Call] = []
        self._in_flight = 0
        if initializer is not None and workers == 0:
            initializer(*initargs)
        if workers > 0 and threads:
            self._executor = ThreadPoolExecutor(
                max_workers=workers,
                thread_name_prefix="tracker-worker",
                initializer=initializer,
                initargs=initargs,
            )
        elif workers > 0:
            self._executor = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(initializer, initargs),
            )
            # Spawn the workers now: their imports then overlap the first downloads instead
            # of delaying the first page that needs them.
            for _ in range(workers):
                self._executor.submit(_ready)

    async def run(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Return ``func(*args)``, computed in a worker when there is a pool.

        ``func`` must be a pure, module-level function (it is pickled by name).
        """
        if self._executor is None:
            return func(*args, **kwargs)
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._queue.append(_Call(func, args, kwargs, future))
        self._send()
        return await future  # type: ignore[return-value]

    def _send(self) -> None:
        """Hand queued calls to the workers while fewer than 2 batches per worker are out."""
        assert self._executor is not None
        while self._queue and self._in_flight < 2 * self.workers:
            loop = self._queue[0].future.get_loop()
            batch = [c for c in self._queue[: self.max_batch] if c.future.get_loop() is loop]
            del self._queue[: len(batch)]
            batch = [c for c in batch if not c.future.cancelled()]
            if not batch:
                continue
            self._in_flight += 1
            submitted = self._executor.submit(
                run_calls, [(c.func, c.args, c.kwargs) for c in batch], not self.threads
            )
            submitted.add_done_callback(
                lambda done, batch=batch, loop=loop: loop.call_soon_threadsafe(
                    self._settle, done, batch
                )
            )

    def _settle(self, done: Future[list[Outcome]], batch: list[_Call]) -> None:
        """Give each caller of a finished batch its outcome; send what queued meanwhile."""
        self._in_flight -= 1
        try:
            outcomes = done.result()
        except BaseException as exc:  # the pool broke (a worker died): every caller hears it
            outcomes = [(False, exc, "")] * len(batch)
        for call, (ok, value, remote_traceback) in zip(batch, outcomes, strict=True):
            if call.future.done():
                continue
            if ok:
                call.future.set_result(value)
                continue
            assert isinstance(value, BaseException)
            if remote_traceback:
                value.__cause__ = RemoteTraceback(remote_traceback)
            call.future.set_exception(value)
        if self._executor is not None:
            self._send()

    def close(self) -> None:
        """Stop the workers (waits for jobs in progress)."""
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        for call in self._queue:
            if not call.future.done():
                call.future.cancel()
        self._queue.clear()
