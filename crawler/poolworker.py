"""A pool worker: a plain subprocess that runs batches of pure calls for crawler.pool.

``crawler.pool.WorkerPool`` starts each worker as ``python -m crawler.poolworker IN OUT``, not
through multiprocessing: multiprocessing's queues create semaphores, which start its resource
tracker (one more process, about 13 MB), and a spawned worker imports multiprocessing and
concurrent.futures before any work. This module imports only small parts of the standard
library, so a worker holds what its initializer and the functions it is sent import, and no
more (crawler.work imports the parsing stack lazily for the same reason).

The worker talks to the pool over two dedicated pipes, whose descriptors ``IN`` and ``OUT`` are
on its command line (not stdin and stdout: a library that prints must not corrupt the
protocol). Each message is a frame: an 8-byte big-endian length, then a pickle (protocol 5).

1. pool → worker: ``(sys.path, pickle of (initializer, initargs))``, the pool's ``sys.path``
   applied before the initializer is unpickled (it may live in a module only found there);
   worker → pool: the initializer's outcome. A worker whose initializer raises exits with 1.
2. pool → worker: a batch ``[(func, args, kwargs), ...]``; worker → pool: one outcome per call
   (see ``run_calls``), or a single outcome for the whole batch when it could not be unpickled.
3. End of file on ``IN`` (the pool closed it, or the pool's process ended): the worker exits.

A worker ignores SIGINT and SIGTERM: the crawl process decides when to stop, and a terminal's
Ctrl-C (sent to the whole process group) must not break the pool under the spider.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
import traceback
from collections.abc import Callable, Sequence

PROTOCOL = 5
_HEADER = struct.Struct("!Q")

# (ok, result or exception, the worker's formatted traceback or "")
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
            outcomes.append(_failure(exc) if portable else (False, exc, _format(exc)))
    return outcomes


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _failure(exc: Exception) -> Outcome:
    return (False, _portable(exc), _format(exc))


def _portable(exc: Exception) -> Exception:
    """Return ``exc``, or a stand-in when it cannot make the round trip through pickle.

    The batch's results cross the process boundary together: one exception that does not
    pickle (or does not unpickle: an ``__init__`` that wants other arguments than the
    exception's ``args``) must not cost the other calls their results.
    """
    try:
        pickle.loads(pickle.dumps(exc, PROTOCOL))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def dump_reply(reply: Outcome | list[Outcome]) -> bytes:
    """Pickle a reply; a result that does not pickle becomes an error for its call only."""
    try:
        return pickle.dumps(reply, PROTOCOL)
    except Exception:
        if not isinstance(reply, list):
            raise
    checked: list[Outcome] = []
    for outcome in reply:
        try:
            pickle.dumps(outcome, PROTOCOL)
        except Exception as exc:
            error = RuntimeError(
                f"the result ({type(outcome[1]).__name__}) cannot be sent back: "
                f"{type(exc).__name__}: {exc}"
            )
            outcome = (False, error, "")
        checked.append(outcome)
    return pickle.dumps(checked, PROTOCOL)


def write_frame(fd: int, payload: bytes) -> None:
    """Write one frame (length, then payload) to ``fd``; BrokenPipeError when the reader left."""
    header = _HEADER.pack(len(payload))
    # One system call for both parts in the common case; a pipe may take less at a time.
    written = os.writev(fd, [header, payload])
    if written < len(header):
        _write_all(fd, memoryview(header)[written:])
        written = len(header)
    _write_all(fd, memoryview(payload)[written - len(header) :])


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


def read_frame(fd: int) -> bytearray | None:
    """Read one frame's payload from ``fd``; None at end of file (the writer is gone)."""
    header = _read_exactly(fd, _HEADER.size)
    if header is None:
        return None
    return _read_exactly(fd, _HEADER.unpack(header)[0])


def _read_exactly(fd: int, size: int) -> bytearray | None:
    buffer = bytearray(size)
    view, done = memoryview(buffer), 0
    while done < size:
        count = os.readv(fd, [view[done:]])
        if count == 0:
            return None  # a frame cut short counts as the end: its writer died
        done += count
    return buffer


def serve(source: int, sink: int) -> int:
    """Run the initializer, then batches, until ``source`` ends; return the exit status."""
    setup = read_frame(source)
    if setup is None:
        return 0
    path, init = pickle.loads(setup)
    sys.path[:] = path
    try:
        initializer, initargs = pickle.loads(init)
        if initializer is not None:
            initializer(*initargs)
    except Exception as exc:
        write_frame(sink, dump_reply(_failure(exc)))
        return 1
    write_frame(sink, dump_reply((True, None, "")))
    while (frame := read_frame(source)) is not None:
        write_frame(sink, dump_reply(_run_batch(frame)))
        del frame  # nor is a batch's input kept alive while the worker waits for the next
    return 0


def _run_batch(frame: bytearray) -> Outcome | list[Outcome]:
    try:
        calls = pickle.loads(frame)
    except Exception as exc:  # e.g. a function whose module does not import here
        return _failure(exc)
    return run_calls(calls)


def main(argv: Sequence[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    source, sink = int(argv[0]), int(argv[1])
    # Not inherited by anything the calls start: the pool must see end of file on ``sink``
    # when this process ends, and this process on ``source`` when the pool closes it.
    os.set_inheritable(source, False)
    os.set_inheritable(sink, False)
    try:
        return serve(source, sink)
    except BrokenPipeError:
        return 0  # the pool's process is gone: nobody is waiting for the reply


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
