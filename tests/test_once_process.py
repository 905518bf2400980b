"""``harvest`` as cron and supervisors start and stop it: with stderr (or stdout) closed,
and stopped by SIGTERM in the middle of a ``--once`` run (issue 23, items 11 and 14).

Real subprocesses, the look-alike over HTTP; SIGTERM's tests on SQLite and PostgreSQL (the
runs and leases it must leave right are in the database); the closed streams on SQLite
only (the database plays no part there).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import SQLAlchemyError

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.faults import Stall
from harvester.cycle import CycleOptions, harvest_once
from harvester.store import Store
from harvester.vocabulary import RunStatus

from .support import AUTHORS, REPO, make_settings, rows, write_config

ARXIV = {"delay_seconds": 0, "page_size": 30, "timeout_seconds": 30, "max_attempts": 2}
ONE_QUERY_EACH = {"group_query_chars": 0}


def harvest_command(*args: str, closed: str = "") -> list[str]:
    """``harvest ARGS`` started through ``sh`` with ``closed`` (``2>&-``) applied."""
    line = f'exec "$@" {closed}'.strip()
    return ["sh", "-c", line, "sh", sys.executable, "-m", "harvester.cli", *args]


def environment() -> dict[str, str]:
    drop = ("HARVESTER_", "NOTIFY_", "WATCHDOG_", "JOURNAL_", "INVOCATION_")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def run(*args: str, closed: str = "", cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harvest_command(*args, closed=closed),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=cwd,
        env=environment(),
    )


def started(*args: str, closed: str = "", cwd: Path = REPO) -> subprocess.Popen[str]:
    return subprocess.Popen(
        harvest_command(*args, closed=closed),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env=environment(),
    )


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; killed (by their own id) if the test left them running."""
    begun: list[subprocess.Popen[str]] = []
    yield begun
    for process in begun:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


def config_for(
    tmp_path: Path, db_url: str, server: LookalikeServer, **extra: Mapping[str, Any]
) -> Path:
    return write_config(
        tmp_path, db_url, server.url, authors=AUTHORS, arxiv=ARXIV, harvest=ONE_QUERY_EACH, **extra
    )


# -- item 11: stderr (or stdout) closed at start ------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'h.db'}"


def test_once_with_stderr_closed_harvests_and_failures_stay_out_of_stdout(
    tmp_path: Path, sqlite_url: str, server: LookalikeServer
) -> None:
    config = str(config_for(tmp_path, sqlite_url, server))
    once = run("--once", "--config", config, closed="2>&-")
    assert once.returncode == 0, once.stdout
    assert [line[:9] for line in once.stdout.splitlines()] == ["kakade   ", "morwani  "]
    assert read(sqlite_url, "SELECT DISTINCT status FROM run") == [("ok",)]
    # the error line has nowhere to go: never into the output, and the exit code says it
    refused = run("--once", "--only", "nobody", "--config", config, closed="2>&-")
    assert (refused.returncode, refused.stdout) == (2, "")
    # stdout closed: the output goes nowhere, and nothing fails for it
    quiet_status = run("status", "--config", config, closed=">&-")
    assert (quiet_status.returncode, quiet_status.stderr) == (0, "")
    all_closed = run("status", "--config", config, closed="<&- >&- 2>&-")
    assert all_closed.returncode == 0


def test_the_daemon_with_stderr_closed_harvests_and_stops_on_sigterm(
    tmp_path: Path,
    sqlite_url: str,
    server: LookalikeServer,
    processes: list[subprocess.Popen[str]],
) -> None:
    config = config_for(tmp_path, sqlite_url, server, schedule={"cron": "0 3 * * *"})
    daemon = started("daemon", "--run-now", "--config", str(config), closed="2>&-")
    processes.append(daemon)
    done = "SELECT COUNT(*) FROM run WHERE status = 'ok'"
    wait_until(lambda: read(sqlite_url, done) == [(2,)], "a cycle")
    daemon.send_signal(signal.SIGTERM)
    assert daemon.wait(timeout=15) == 0


def test_the_demo_with_stderr_closed_runs(tmp_path: Path) -> None:
    demo = run("demo", closed="2>&-", cwd=tmp_path)
    assert demo.returncode == 0, demo.stdout
    assert "Similar authors:" in demo.stdout


def read(url: str, sql: str) -> list[Any]:
    """The rows of ``sql``; none while the database or its schema is still being made."""
    store = Store.reader_if_exists(url)
    if store is None:
        return []
    try:
        return [tuple(r) for r in rows(store, sql)]
    except SQLAlchemyError:
        return []
    finally:
        store.close()


# -- item 14: SIGTERM during --once ----------------------------------------------------------


def sigterm_once(
    config: Path, server: LookalikeServer, processes: list[subprocess.Popen[str]]
) -> tuple[int, float, str]:
    """Start ``--once``, SIGTERM it while its first request is in flight: the exit status,
    the seconds from the signal to the exit, and stderr."""
    once = started("--once", "--config", str(config))
    processes.append(once)
    wait_until(lambda: len(server.requests) == 1, "the first request")
    time.sleep(0.3)
    began = time.monotonic()
    os.kill(once.pid, signal.SIGTERM)  # sh exec'd the command: this is harvest itself
    _, err = once.communicate(timeout=60)
    return once.returncode, time.monotonic() - began, err


def assert_stopped_and_released(store: Store, error: str) -> None:
    """kakade's run is ``stopped`` for ``error``, nothing else ran or was written, and no
    lease is held: the next run harvests the author at once (not ``skipped``)."""
    runs = rows(store, "SELECT author_key, status, error FROM run")
    assert [tuple(r) for r in runs] == [("kakade", "stopped", error)]
    assert rows(store, "SELECT key FROM author WHERE lease_owner IS NOT NULL") == []
    assert rows(store, "SELECT COUNT(*) FROM paper") == [(0,)]


def harvest_again(store: Store, db_url: str, server: LookalikeServer) -> Sequence[RunStatus]:
    server.faults.clear()
    settings = make_settings(db_url, server.url, authors=AUTHORS, **ARXIV)
    report = harvest_once(settings, store, CycleOptions(), derive=False)
    return [a.status for a in report.authors]


def test_sigterm_with_a_request_in_flight_ends_the_run_stopped_and_frees_the_author(
    tmp_path: Path,
    db_url: str,
    server: LookalikeServer,
    store: Store,
    processes: list[subprocess.Popen[str]],
) -> None:
    """The answer comes 0.7 s after the signal: the page is read, the next request is
    never sent, the run is ``stopped`` and its lease released; morwani is never begun."""
    server.faults.add(Stall(1.0, then_respond=True))
    code, seconds, err = sigterm_once(config_for(tmp_path, db_url, server), server, processes)
    print(f"--once stopped by SIGTERM {seconds:.2f} s after it")
    assert code == 143 and seconds < 5, err
    assert err.splitlines()[-1] == "harvest: stopped by SIGTERM", err
    assert "kakade   stopped: stop requested  full  1 request" in err
    assert len(server.requests) == 1
    assert_stopped_and_released(store, "stop requested")
    assert harvest_again(store, db_url, server) == [RunStatus.OK, RunStatus.OK]


def test_sigterm_with_a_request_that_outlasts_the_grace_closes_the_run_and_leaves(
    tmp_path: Path,
    db_url: str,
    server: LookalikeServer,
    store: Store,
    processes: list[subprocess.Popen[str]],
) -> None:
    """The server never answers within the 30 s timeout: 5 s after the signal the run is
    closed ``stopped``, the lease released and the process gone."""
    server.faults.add(Stall(60))
    code, seconds, err = sigterm_once(config_for(tmp_path, db_url, server), server, processes)
    print(f"--once left {seconds:.2f} s after SIGTERM")
    assert code == 143 and 5 <= seconds < 10, err
    [line] = err.splitlines()
    assert line == (
        "harvest: stopped by SIGTERM during a request, which did not end within 5 s:"
        " closed the runs of kakade as stopped"
    )
    assert_stopped_and_released(store, "stopped: SIGTERM during a request")
    assert harvest_again(store, db_url, server) == [RunStatus.OK, RunStatus.OK]
