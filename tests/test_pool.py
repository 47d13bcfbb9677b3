"""The worker pool's processes: plain subprocesses, no multiprocessing, and how they fail."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.pool import WorkerDied, WorkerPool, WorkerStartError

REPO = Path(__file__).resolve().parents[1]


def children() -> dict[int, bytes]:
    """Return {pid: command line} of this process's live (not zombie) children."""
    parent, found = os.getpid(), {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry.name}/stat").read_bytes().rsplit(b")", 1)[1].split()
            cmdline = Path(f"/proc/{entry.name}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and stat[0] != b"Z":
            found[int(entry.name)] = cmdline
    return found


def pool_workers() -> list[int]:
    """Return the pids of this process's live pool workers."""
    return [pid for pid, cmdline in children().items() if b"crawler.poolworker" in cmdline]


def wait_until_ended(pid: int) -> None:
    """Wait until ``pid`` is gone or a zombie (bounded: a test must not hang)."""
    for _ in range(1500):
        try:
            state = Path(f"/proc/{pid}/stat").read_bytes().rsplit(b")", 1)[1].split()[0]
        except OSError:
            return
        if state == b"Z":
            return
        time.sleep(0.02)
    raise AssertionError(f"process {pid} did not end")


@pytest.fixture
def pool() -> Iterator[WorkerPool]:
    pool = WorkerPool(1, max_batch=8)
    try:
        yield pool
    finally:
        pool.close()


def run(pool: WorkerPool, func: object, *args: object) -> object:
    return asyncio.run(pool.run(func, *args))  # type: ignore[arg-type]


# Module-level functions: the worker unpickles them by name.


def square(value: int) -> int:
    return value * value


def die(how: str) -> None:
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(3)


def chatter(text: str) -> str:
    """Write to the worker's stdout, both through Python and straight to file descriptor 1."""
    print(text, flush=True)
    os.write(1, text.encode() + b"\n")
    return text


class NeedsTwoArguments(Exception):
    """An exception that pickles but does not unpickle (its __init__ wants two arguments)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")


def fail_oddly() -> None:
    raise NeedsTwoArguments(7, "odd")


def unpicklable_result() -> object:
    return lambda: None


def fail_to_start(value: int) -> None:
    raise ValueError(f"no start for {value}")


def exit_at_start() -> None:
    os._exit(4)


def touch(path: str) -> None:
    Path(path).touch()


def test_workers_start_and_initialize_before_the_first_call(tmp_path: Path) -> None:
    """Started by the constructor: their imports and initializer overlap the first downloads
    instead of delaying the first page that needs them."""
    marker = tmp_path / "initialized"
    pool = WorkerPool(2, touch, (str(marker),))
    try:
        assert len(pool_workers()) == 2
        for _ in range(1500):
            if marker.exists():
                break
            time.sleep(0.02)
        else:
            raise AssertionError("the initializer did not run before any call")
    finally:
        pool.close()


def test_workers_are_plain_subprocesses_without_multiprocessing(pool: WorkerPool) -> None:
    """No resource tracker next to the workers, and no multiprocessing in them: a worker
    imports what its calls need (here ``eval``, a builtin, imports nothing)."""
    probe = (
        "sorted(m for m in __import__('sys').modules"
        " if m.partition('.')[0] in ('multiprocessing', 'concurrent', 'asyncio', 'crawler'))"
    )
    # crawler.poolworker runs as __main__; only its package is imported under its own name.
    assert run(pool, eval, probe) == ["crawler"]
    cmdlines = children().values()
    assert any(b"crawler.poolworker" in line for line in cmdlines)
    assert not any(b"resource_tracker" in line or b"multiprocessing" in line for line in cmdlines)
    import multiprocessing.resource_tracker

    assert multiprocessing.resource_tracker._resource_tracker._pid is None


def test_worker_ignores_interrupts_and_terminations(pool: WorkerPool) -> None:
    pid = run(pool, os.getpid)
    assert isinstance(pid, int)
    status = Path(f"/proc/{pid}/status").read_text()
    ignored = int(next(line for line in status.splitlines() if line.startswith("SigIgn:"))[7:], 16)
    assert ignored & (1 << (signal.SIGINT - 1)) and ignored & (1 << (signal.SIGTERM - 1))
    os.kill(pid, signal.SIGTERM)
    assert run(pool, os.getpid) == pid


@pytest.mark.parametrize("how", ["kill", "exit"])
def test_a_worker_that_dies_fails_its_batch_and_the_next_call_gets_a_new_worker(
    pool: WorkerPool, how: str
) -> None:
    first = run(pool, os.getpid)

    async def batch() -> list[object]:
        # The first two calls go out alone (two batches in flight); the other three wait and
        # leave together once one has settled: the fatal call takes its batch's others along.
        return await asyncio.gather(
            *(pool.run(square, v) for v in range(3)),
            pool.run(die, how),
            pool.run(square, 3),
            return_exceptions=True,
        )

    outcomes = asyncio.run(batch())
    assert outcomes[:2] == [0, 1]
    for died in outcomes[2:]:
        assert isinstance(died, WorkerDied)
        assert f"pool worker {first} died running a batch" in str(died)
        assert ("killed by SIGKILL" if how == "kill" else "exit code 3") in str(died)
    assert run(pool, square, 5) == 25
    second = run(pool, os.getpid)
    assert second != first and pool_workers() == [second]


def test_a_worker_killed_while_idle_is_replaced_without_failing_a_call(pool: WorkerPool) -> None:
    first = run(pool, os.getpid)
    assert isinstance(first, int)
    os.kill(first, signal.SIGKILL)
    wait_until_ended(first)
    assert run(pool, square, 6) == 36
    assert run(pool, os.getpid) != first


def test_a_failing_initializer_fails_every_call_clearly() -> None:
    pool = WorkerPool(1, fail_to_start, (5,))
    try:
        for _ in range(3):
            with pytest.raises(WorkerStartError, match=r"initializer failed .*no start for 5") as e:
                run(pool, square, 2)
            assert isinstance(e.value.__cause__, ValueError)
            assert "fail_to_start" in str(e.value.__cause__.__cause__)  # the worker's traceback
        assert pool_workers() == []  # the failed worker was reaped; none was started again
    finally:
        pool.close()


def test_workers_that_die_while_starting_are_not_restarted_forever() -> None:
    pool = WorkerPool(1, exit_at_start)
    try:
        errors = []
        for _ in range(5):
            with pytest.raises(RuntimeError) as e:
                run(pool, square, 2)
            errors.append(e.value)
        assert [type(e) for e in errors] == [WorkerDied] * 2 + [WorkerStartError] * 3
        assert all("exit code 4" in str(e) for e in errors)
        assert "3 times in a row" in str(errors[-1])
        assert pool_workers() == []
    finally:
        pool.close()


def test_what_a_worker_prints_goes_to_stderr_not_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    pool = WorkerPool(1)  # started here, so that it inherits the captured descriptors
    try:
        assert run(pool, chatter, "worker noise") == "worker noise"
    finally:
        pool.close()
    out, err = capfd.readouterr()
    assert "worker noise" not in out
    assert err.count("worker noise") == 2


def test_outcomes_that_cannot_cross_cost_only_their_call(pool: WorkerPool) -> None:
    async def batch() -> list[object]:
        return await asyncio.gather(
            pool.run(fail_oddly),
            pool.run(unpicklable_result),
            pool.run(square, 4),
            return_exceptions=True,
        )

    odd, unpicklable, sixteen = asyncio.run(batch())
    assert isinstance(odd, RuntimeError) and "NeedsTwoArguments: 7: odd" in str(odd)
    assert isinstance(unpicklable, RuntimeError) and "cannot be sent back" in str(unpicklable)
    assert sixteen == 16


def test_close_stops_the_workers_and_leaves_no_process() -> None:
    pool = WorkerPool(2)

    async def many() -> list[object]:
        return await asyncio.gather(*(pool.run(square, v) for v in range(50)))

    assert asyncio.run(many()) == [v * v for v in range(50)]
    workers = pool_workers()
    assert len(workers) == 2
    pool.close()
    # Ended and reaped: not even a zombie is left.
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_workers_exit_when_the_pool_process_dies_without_closing() -> None:
    """A crawl process that is killed leaves no worker behind: its pipes close, and a worker
    exits at end of file."""
    code = (
        "import asyncio, os\n"
        "from crawler.pool import WorkerPool\n"
        "pool = WorkerPool(2)\n"
        "async def pids():\n"
        "    return await asyncio.gather(*(pool.run(os.getpid) for _ in range(8)))\n"
        "print(*sorted(set(asyncio.run(pids()))), flush=True)\n"
        "os._exit(0)\n"
    )
    process = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    workers = [int(pid) for pid in process.stdout.split()]
    assert workers
    for pid in workers:
        wait_until_ended(pid)
