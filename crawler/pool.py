"""A pool of worker processes (or threads) that runs pure functions, in batches, for the reactor.

The workers are plain subprocesses (``python -m crawler.poolworker``) that read pickled batches
from a pipe, not multiprocessing's: its queues create semaphores, which start multiprocessing's
resource tracker (one more process, about 13 MB), and each spawned worker would import
multiprocessing and concurrent.futures before its first call. crawler.poolworker imports only
small parts of the standard library.

Kept apart from the parsing code (crawler.work): a worker unpickles its initializer and the
functions it runs by module, so a pool whose workers only store (the archive writer, when it
runs as a process) must not import the extractors, trafilatura and pypdf with them (about
40 MB a process).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from crawler.poolworker import PROTOCOL, Outcome, read_frame, run_calls, write_frame

P = ParamSpec("P")
R = TypeVar("R")

logger = logging.getLogger(__name__)

# Workers that die before their initializer returns, this many times in a row, do not start
# again: the pool is broken (a worker that cannot start would otherwise be restarted forever).
MAX_START_FAILURES = 3
# Seconds a worker has to exit once its input is closed, before it is killed.
CLOSE_GRACE = 5.0


def default_workers() -> int:
    """Return one fewer worker than CPUs, at least one."""
    return max(1, (os.cpu_count() or 2) - 1)


class RemoteTraceback(Exception):
    """The worker-side traceback of an exception, chained as its ``__cause__``."""

    def __str__(self) -> str:
        return str(self.args[0])


class WorkerDied(RuntimeError):
    """A worker process ended while it ran a batch: each call of that batch gets this error.

    The pool starts a fresh worker for the next batch.
    """


class WorkerStartError(RuntimeError):
    """The pool's workers cannot start: the initializer raised (chained as ``__cause__``), or
    workers died before it returned, ``MAX_START_FAILURES`` times in a row. Every call gets
    this error from then on."""


def _ended(returncode: int) -> str:
    """Describe how a process ended, from its return code."""
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit code {returncode}"


class _Gone(Exception):
    """The worker process ended (its pipe closed) before it replied.

    ``starting``: before its initializer returned; ``idle``: before it got the batch (which
    then has not run).
    """

    def __init__(self, pid: int, returncode: int, starting: bool, idle: bool) -> None:
        super().__init__(pid, returncode, starting, idle)
        self.pid, self.returncode, self.starting, self.idle = pid, returncode, starting, idle


class _Worker:
    """One worker subprocess and its two pipes; used by one pool thread at a time."""

    def __init__(self, setup: bytes) -> None:
        to_worker, from_worker = os.pipe(), os.pipe()
        ends = (to_worker[0], from_worker[1])  # the worker's: it reads one, writes the other
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "crawler.poolworker", *map(str, ends)],
                pass_fds=ends,
                stdin=subprocess.DEVNULL,
                # This process's stdout may carry the crawl's progress events: what a library
                # prints in a worker goes to stderr (the crawl log) instead.
                stdout=sys.__stderr__ if sys.__stderr__ is not None else subprocess.DEVNULL,
            )
        except BaseException:
            for fd in (*to_worker, *from_worker):
                os.close(fd)
            raise
        os.close(to_worker[0])
        os.close(from_worker[1])
        self._input: int | None = to_worker[1]
        self._output: int | None = from_worker[0]
        self.ready = False
        # Written now, not with the first batch: the worker's imports and initializer then
        # overlap the first downloads instead of delaying the first page that needs them.
        self._send(setup)

    @property
    def pid(self) -> int:
        return self.process.pid

    def _send(self, payload: bytes) -> bool:
        """Write a frame to the worker; False when it has already ended."""
        assert self._input is not None
        try:
            write_frame(self._input, payload)
        except BrokenPipeError:
            return False
        return True

    def _receive(self) -> bytearray | None:
        assert self._output is not None
        return read_frame(self._output)

    def run(self, payload: bytes) -> bytearray:
        """Send a pickled batch and return the pickled reply.

        Raises WorkerStartError when the initializer raised, _Gone when the worker ended first.
        Blocks in pipe reads and writes, which release the GIL.
        """
        sent = self._send(payload)
        if not self.ready:
            # The initializer's outcome comes first (read even when the batch could not be
            # written: a failing initializer reports, then exits).
            frame = self._receive()
            if frame is None:
                raise self._gone(starting=True, idle=not sent)
            self._check_started(frame)
            self.ready = True
        if not sent:  # it ended while idle (a write to a pipe nobody reads fails at once)
            raise self._gone(starting=False, idle=True)
        frame = self._receive()
        if frame is None:
            raise self._gone(starting=False, idle=False)
        return frame

    def _check_started(self, frame: bytearray) -> None:
        try:
            ok, error, remote_traceback = pickle.loads(frame)
        except Exception as exc:
            self._reap()
            raise WorkerStartError(f"the pool's initializer failed in worker {self.pid}") from exc
        if ok:
            return
        self._reap()  # it exits after reporting
        if remote_traceback:
            error.__cause__ = RemoteTraceback(remote_traceback)
        raise WorkerStartError(
            f"the pool's initializer failed in worker {self.pid}: {type(error).__name__}: {error}"
        ) from error

    def _gone(self, starting: bool, idle: bool) -> _Gone:
        """Reap the ended worker and describe its end."""
        return _Gone(self.pid, self._reap(), starting, idle)

    def _reap(self) -> int:
        """Wait for the worker, which has ended or is about to, and return its return code.

        One that is still running after ``CLOSE_GRACE`` seconds is killed.
        """
        try:
            returncode = self.process.wait(timeout=CLOSE_GRACE)
        except subprocess.TimeoutExpired:
            logger.warning("Pool worker %d did not exit in %.0f s: killed", self.pid, CLOSE_GRACE)
            self.process.kill()
            returncode = self.process.wait()
        self._close_pipes()
        return returncode

    def _close_pipes(self) -> None:
        for fd in (self._input, self._output):
            if fd is not None:
                os.close(fd)
        self._input = self._output = None

    def stop(self) -> None:
        """Close the worker's input (it exits at end of file); kill it after a grace period."""
        if self._input is not None:
            os.close(self._input)
            self._input = None
        self._reap()


@dataclass(slots=True)
class _Call:
    func: Callable[..., object]
    args: tuple[object, ...]
    kwargs: dict[str, object]
    future: asyncio.Future[object]


class WorkerPool:
    """Runs pure functions inline (workers=0), in worker processes or in threads.

    Processes are for CPU work (the GIL would serialize threads). Threads (``threads=True``)
    are for work that mostly waits on I/O outside the GIL, such as the archive writer's
    SQLite and PostgreSQL calls: a thread costs no second interpreter (about 80 MB).

    Calls are sent to the workers in batches: each hand-off to a worker costs a few thread
    switches and pipe writes in this process (about 0.25 ms, as much as parsing a small page),
    so while ``2 × workers`` batches are in flight, new calls wait in a queue and go together
    in the next batch. An idle pool sends a call at once; a busy one sends fewer, larger
    batches, which is when the saving counts.

    With processes, each of ``workers`` threads of an executor hands one batch at a time to
    an idle worker process and waits for its reply (in pipe reads, outside the GIL). A worker
    that dies fails its batch's calls with WorkerDied and is replaced for the next batch; if
    workers cannot start (the initializer raises), every call fails with WorkerStartError.
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
        # Process workers: the idle ones (None: one that died, to be replaced when used).
        self._idle: queue.SimpleQueue[_Worker | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._start_failures = 0
        self._broken: WorkerStartError | None = None
        self._setup = b""
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
            # The worker sets this sys.path before it unpickles the initializer, which may
            # live in a module only found there (as multiprocessing's spawn does).
            self._setup = pickle.dumps(
                (sys.path, pickle.dumps((initializer, initargs), PROTOCOL)), PROTOCOL
            )
            self._executor = ThreadPoolExecutor(
                max_workers=workers, thread_name_prefix="tracker-pool"
            )
            try:
                for _ in range(workers):
                    self._idle.put(_Worker(self._setup))
            except BaseException:
                self.close()
                raise

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
            calls = [(c.func, c.args, c.kwargs) for c in batch]
            if self.threads:
                submitted = self._executor.submit(run_calls, calls, False)
            else:
                submitted = self._executor.submit(self._remote, calls)
            submitted.add_done_callback(
                lambda done, batch=batch, loop=loop: loop.call_soon_threadsafe(
                    self._settle, done, batch
                )
            )

    def _remote(
        self, calls: list[tuple[Callable[..., object], tuple[object, ...], dict[str, object]]]
    ) -> list[Outcome]:
        """Run a batch in an idle worker process (in an executor thread); return its outcomes."""
        payload = pickle.dumps(calls, PROTOCOL)
        # Never waits long: the executor has as many threads as there are workers.
        worker = self._idle.get()
        try:
            frame = None
            while frame is None:
                if self._broken is not None:
                    raise WorkerStartError(*self._broken.args) from self._broken.__cause__
                if worker is None:
                    worker = _Worker(self._setup)
                try:
                    frame = worker.run(payload)
                except WorkerStartError as exc:
                    worker = None  # it exited after reporting
                    self._broken = exc
                    raise
                except _Gone as gone:
                    worker = None
                    if not gone.idle or gone.starting:
                        raise self._died(gone, len(calls)) from None
                    # The batch has not run: a fresh worker runs it (one that dies while
                    # starting counts against MAX_START_FAILURES, so this loop ends).
                    logger.warning(
                        "Pool worker %d had ended (%s); starting another",
                        gone.pid,
                        _ended(gone.returncode),
                    )
            with self._lock:
                self._start_failures = 0
        finally:
            self._idle.put(worker)
        reply = pickle.loads(frame)
        if isinstance(reply, tuple):  # the batch could not be unpickled in the worker
            return [reply] * len(calls)
        return reply

    def _died(self, gone: _Gone, calls: int) -> Exception:
        """Return the error for the calls of a batch whose worker ended before replying."""
        how = _ended(gone.returncode)
        if not gone.starting:
            return WorkerDied(
                f"pool worker {gone.pid} died running a batch of {calls} calls ({how})"
            )
        with self._lock:
            self._start_failures += 1
            failures = self._start_failures
        if failures < MAX_START_FAILURES:
            return WorkerDied(f"pool worker {gone.pid} died while starting ({how})")
        self._broken = WorkerStartError(
            f"pool workers die while starting, {failures} times in a row (the last: {how}; "
            "its standard error is in this process's log)"
        )
        return self._broken

    def _settle(self, done: Future[list[Outcome]], batch: list[_Call]) -> None:
        """Give each caller of a finished batch its outcome; send what queued meanwhile."""
        self._in_flight -= 1
        try:
            outcomes = done.result()
        except BaseException as exc:  # the batch failed as a whole: every caller hears it
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
        # No thread uses a worker now: each is idle, or None (died and already reaped).
        while True:
            try:
                worker = self._idle.get_nowait()
            except queue.Empty:
                break
            if worker is not None:
                worker.stop()
        for call in self._queue:
            if not call.future.done():
                call.future.cancel()
        self._queue.clear()
