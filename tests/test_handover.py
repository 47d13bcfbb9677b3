"""The CLI hands the crawl to a small watcher program and comes back (tracker.crawlwatch).

`tracker run` / `tracker crawl` exec into `python -m tracker.crawlwatch` for the length of the
crawl, so the CLI's libraries do not sit in memory beside the crawl; the watcher execs back
into the same command line with the outcome. These tests check the hand-over itself: what
crosses the execs, the run lock held throughout, the timeout, the interrupt, and that the
process watching a real crawl is the small one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tracker.crawlwatch import (
    HANDOVER_ENV,
    RESULT_ENV,
    CrawlResult,
    CrawlSpec,
    Handover,
    HandoverError,
    decode_handover,
    decode_result,
    encode_handover,
    encode_result,
)
from tracker.db import Database
from tracker.lock import Busy, run_lock
from tracker.world.server import NewsWorld

from .test_e2e_crawl import make_config

PY = sys.executable


def _spec(tmp_path: Path, code: str, timeout: float | None = None) -> CrawlSpec:
    return CrawlSpec(
        argv=[PY, "-c", code],
        cwd=str(tmp_path),
        log_path=str(tmp_path / "crawl.log"),
        run_group="group-1",
        env={"CHILD_SEES": "yes"},
        unset_env=["PARENT_ONLY"],
        timeout=timeout,
    )


# What the program exec'd after the watcher prints: the result it was handed, as JSON.
_REPORT = "import json, os; print(json.dumps(json.loads(os.environ['TRACKER_CRAWL_RESULT'])))"


def _run_watcher(handover: Handover, **popen: object) -> subprocess.Popen[str]:
    env = dict(os.environ, PARENT_ONLY="1")
    env[HANDOVER_ENV] = encode_handover(handover)
    return subprocess.Popen(
        [PY, "-m", "tracker.crawlwatch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,  # type: ignore[arg-type]
    )


def test_handover_and_result_round_trip(tmp_path: Path) -> None:
    handover = Handover(_spec(tmp_path, "pass", 3.5), [PY, "-c", "pass"], ["a", "b"], {"x": 1})
    assert decode_handover(encode_handover(handover)) == handover
    result = CrawlResult("g", 1, tmp_path / "log", timed_out=True)
    assert decode_result(encode_result(result, {"lock_fd": 7})) == (result, {"lock_fd": 7})


@pytest.mark.parametrize("text", ["", "{", "[]", '{"spec": {}}', '{"spec": {"argv": []}}'])
def test_malformed_handover_is_a_clear_error(text: str) -> None:
    with pytest.raises(HandoverError, match=HANDOVER_ENV):
        decode_handover(text)
    with pytest.raises(HandoverError, match=RESULT_ENV):
        decode_result(text)


def test_watcher_without_a_handover_exits_2() -> None:
    env = {k: v for k, v in os.environ.items() if k != HANDOVER_ENV}
    done = subprocess.run([PY, "-m", "tracker.crawlwatch"], env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert HANDOVER_ENV in done.stderr
    env[HANDOVER_ENV] = "not json"
    done = subprocess.run([PY, "-m", "tracker.crawlwatch"], env=env, capture_output=True, text=True)
    assert done.returncode == 2 and "malformed" in done.stderr


def test_watcher_runs_the_crawl_then_execs_the_continuation(tmp_path: Path) -> None:
    child = textwrap.dedent(
        """
        import os, sys
        print('{"event": "count", "source": "a", "counter": "new"}', flush=True)
        sys.stderr.write("child saw %s/%s\\n" % (os.environ.get("CHILD_SEES"),
                         os.environ.get("PARENT_ONLY")))
        sys.exit(3)
        """
    )
    watcher = _run_watcher(
        Handover(_spec(tmp_path, child), [PY, "-c", _REPORT], None, {"lock_fd": None, "n": 2})
    )
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    reported = json.loads(out)
    assert reported == {
        "run_group": "group-1",
        "returncode": 3,
        "log_path": str(tmp_path / "crawl.log"),
        "timed_out": False,
        "carry": {"lock_fd": None, "n": 2},
    }
    # The child's stderr went to the log, with the environment the spec asked for; its
    # progress events (stdout) were the watcher's, not the continuation's.
    assert "child saw yes/None" in (tmp_path / "crawl.log").read_text()


def test_watcher_stops_a_crawl_at_its_timeout(tmp_path: Path) -> None:
    sleeper = "import time; time.sleep(60)"
    watcher = _run_watcher(Handover(_spec(tmp_path, sleeper, timeout=1.0), [PY, "-c", _REPORT]))
    out, _err = watcher.communicate(timeout=60)
    reported = json.loads(out)
    assert reported["timed_out"] is True
    assert reported["returncode"] == -signal.SIGTERM


def test_sigterm_stops_the_crawl_and_does_not_continue(tmp_path: Path) -> None:
    marker = tmp_path / "started"
    child = f"import pathlib, time; pathlib.Path({str(marker)!r}).touch(); time.sleep(60)"
    watcher = _run_watcher(Handover(_spec(tmp_path, child), [PY, "-c", _REPORT]))
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.send_signal(signal.SIGTERM)
    out, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 1
    assert "Aborted!" in err
    assert out == ""  # the continuation never ran


_HOLDER = textwrap.dedent(
    """
    import os, sys
    from tracker.db import Database
    from tracker.lock import run_lock
    url, then = sys.argv[1], sys.argv[2:]
    db = Database(url, migrate=False)
    with run_lock(db.engine) as lock:
        fd = lock.hand_over()
        os.execv(sys.executable, [sys.executable, "-c", then[0], str(fd), str(lock), *then[1:]])
    """
)

_ADOPTER = textwrap.dedent(
    """
    import os, sys, time, pathlib
    from tracker.lock import adopted_lock
    fd, description, held, release, done = sys.argv[1:]
    with adopted_lock(int(fd), description):
        pathlib.Path(held).touch()
        while not pathlib.Path(release).exists():
            time.sleep(0.05)
    pathlib.Path(done).touch()
    time.sleep(60)
    """
)


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_run_lock_is_held_across_an_exec_and_released_by_the_adopter(
    tmp_path: Path, database_url: str
) -> None:
    Database(database_url).dispose()  # migrated
    held, release, done = (tmp_path / n for n in ("held", "release", "done"))
    process = subprocess.Popen(
        [PY, "-c", _HOLDER, database_url, _ADOPTER, str(held), str(release), str(done)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    other = Database(database_url, migrate=False)
    try:
        _wait_for(held, process)
        with pytest.raises(Busy), run_lock(other.engine):
            pass
        release.touch()
        _wait_for(done, process)
        # The program that adopted the lock is still running; it released it all the same.
        with run_lock(other.engine, wait=10, poll=0.05):
            assert process.poll() is None
    finally:
        process.kill()
        process.communicate()
        other.dispose()


@pytest.fixture(scope="module")
def world() -> NewsWorld:
    with NewsWorld() as running:
        yield running


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


@pytest.mark.slow
def test_tracker_run_waits_for_its_crawl_as_the_small_watcher(
    tmp_path: Path, world: NewsWorld
) -> None:
    """During the crawl the `tracker run` process is the watcher (no config models, no
    database layer loaded), the crawl process does not hold the run lock, and afterwards the
    run finishes as usual: crawl summary, changes, alerts."""
    world.set_day(2)
    hang = {"name": "slow", "type": "rss", "url": f"{world.base_url}/fail/hang"}
    config = make_config(tmp_path, world, [hang], crawl={"download_timeout": 3, "retry_times": 0})
    env = dict(os.environ, NAVER_CLIENT_ID="test-id", NAVER_CLIENT_SECRET="test-secret")
    env.pop("TRACKER_DATABASE_URL", None)
    process = subprocess.Popen(
        [PY, "-m", "tracker", "-q", "--config", str(config), "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    lock_file = str(config.parent / "tracker.run.lock")
    seen_watcher = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            crawl = [c for c in _children(process.pid) if "-m crawler news" in _cmdline(c)]
            if crawl:
                assert "tracker.crawlwatch" in _cmdline(process.pid)
                maps = Path(f"/proc/{process.pid}/maps").read_text()
                assert "pydantic_core" not in maps and "sqlalchemy" not in maps
                fds = {
                    os.path.realpath(f"/proc/{process.pid}/fd/{n}")
                    for n in os.listdir(f"/proc/{process.pid}/fd")
                }
                assert lock_file in fds  # the watcher holds the run lock ...
                crawl_fds = {
                    os.path.realpath(f"/proc/{crawl[0]}/fd/{n}")
                    for n in os.listdir(f"/proc/{crawl[0]}/fd")
                }
                assert lock_file not in crawl_fds  # ... the crawl does not inherit it
                seen_watcher = True
                break
            time.sleep(0.05)
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
    assert seen_watcher
    assert process.returncode == 1, err  # the hanging source failed; the rest of the run ran
    assert "crawl:" in out and "changes:" in out and "alerts:" in out, out


def test_progress_bars_follow_the_crawl_events() -> None:
    import io

    from rich.console import Console

    from tracker.progress import CrawlProgress

    out = io.StringIO()
    bars = CrawlProgress(["naver", "msit"], console=Console(file=out, width=120))
    with bars:
        for event in (
            {"event": "count", "source": "naver", "counter": "listed", "amount": 3},
            {"event": "count", "source": "naver", "counter": "new"},
            {"event": "count", "source": "naver", "counter": "duplicate", "amount": 2},
            {"event": "count", "source": "unknown", "counter": "new"},
            {"event": "count", "source": "msit", "counter": "fetched"},  # not drawn
            {"event": "finished", "source": "msit", "status": "ok"},
        ):
            bars.on_event(event)
        naver, msit = bars.progress.tasks
        assert naver.fields == {"listed": 3, "new": 1, "duplicate": 2, "errors": 0}
        assert (naver.total, naver.completed) == (3, 3)
        assert msit.description == "msit [ok]" and msit.finished
    assert "msit [ok]" in out.getvalue()
