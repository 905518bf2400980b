"""``harvest daemon`` as systemd runs it: a real subprocess, real signals, a real notify
socket, the look-alike over HTTP, and ``harvest --once`` runs beside it on one database."""

from __future__ import annotations

import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import create_engine, text

from arxiv_lookalike import (
    Corpus,
    Fault,
    FaultContext,
    LookalikeServer,
    Reply,
    Stall,
    first_page,
)
from harvester.store import Store

from .support import write_config

JITTER = 0.25
"""Allowed lateness of a request behind its slot, as the server measures arrivals."""
KAKADE = {"key": "kakade", "name": "Sham Kakade", "aliases": ["Sham M. Kakade", "Sham M Kakade"]}
AUTHORS = [
    KAKADE,
    {"key": "morwani", "name": "Depen Morwani"},
    {"key": "zhang", "name": "Hanlin Zhang"},
    {"key": "vyas", "name": "Nikhil Vyas"},
]


# -- helpers ----------------------------------------------------------------------------------


def daemon_config(
    path: Path,
    db_url: str,
    api_url: str,
    *,
    authors: Sequence[dict[str, Any]] = (KAKADE,),
    schedule: dict[str, Any] | None = None,
    harvest: dict[str, Any] | None = None,
    **arxiv: Any,
) -> Path:
    """A daemon's configuration: every 1.5 s by default, INFO logging, no delay."""
    options = {"page_size": 30, "delay_seconds": 0, "timeout_seconds": 2, "max_attempts": 2}
    return write_config(
        path,
        db_url,
        api_url,
        authors=authors,
        arxiv={**options, **arxiv},
        logging={"level": "INFO"},
        schedule=schedule or {"interval_seconds": 1.5, "jitter_seconds": 0},
        harvest=harvest or {},
    )


def environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("HARVESTER_", "NOTIFY_", "WATCHDOG_", "JOURNAL_", "INVOCATION_"))
    }
    env.update(extra)
    return env


class Notifications:
    """A real sd_notify socket (abstract name): what the daemon tells systemd. Read all the
    time, as systemd reads it: a queue left full would drop the daemon's messages."""

    def __init__(self) -> None:
        self.name = f"harvester-test-{uuid.uuid4().hex}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(b"\0" + self.name.encode())
        self.sock.settimeout(0.1)
        self.messages: list[str] = []
        self._seen = 0
        self._arrived = threading.Condition()
        self._closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @property
    def env(self) -> dict[str, str]:
        return {"NOTIFY_SOCKET": "@" + self.name}

    def _read(self) -> None:
        while not self._closed:
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._arrived:
                self.messages.append(message)
                self._arrived.notify_all()

    def wait_for(self, wanted: str, timeout: float = 60.0) -> str:
        """The next message (not seen by an earlier wait) containing ``wanted``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                for index in range(self._seen, len(self.messages)):
                    if wanted in self.messages[index]:
                        self._seen = index + 1
                        return self.messages[index]
                self._seen = len(self.messages)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no {wanted!r} in {self.messages}")
                self._arrived.wait(remaining)

    def close(self) -> None:
        self._closed = True
        self._reader.join(timeout=5)
        self.sock.close()


@pytest.fixture
def notifications() -> Iterator[Notifications]:
    n = Notifications()
    yield n
    n.close()


class Daemon:
    """``harvest daemon`` in a subprocess; stderr goes to a file (no pipe to fill up)."""

    def __init__(self, config: Path, *args: str, env: dict[str, str]) -> None:
        self.log = config.with_suffix(f".{uuid.uuid4().hex[:6]}.log")
        with self.log.open("w") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "harvester.cli", "daemon", "--config", str(config), *args],
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
                cwd=config.parent,
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> tuple[int, float]:
        """Send ``sig``; the exit status and the seconds it took to exit."""
        began = time.monotonic()
        self.process.send_signal(sig)
        code = self.process.wait(timeout)
        return code, time.monotonic() - began

    @property
    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def once(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "harvester.cli", "--once", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
        cwd=config.parent,
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    """Wait for a ``--once`` run (reading its pipes to the end): exit status, stderr."""
    _, err = process.communicate(timeout=90)
    return process.returncode, err


def query(db_url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params))
    finally:
        engine.dispose()


def wait_until(condition: Callable[[], bool], timeout: float = 60, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.05)


def new_paper(corpus: Corpus, author: str, n: int) -> str:
    """Publish a new paper by ``author`` in the look-alike; returns its id."""
    arxiv_id = f"2611.{90000 + n}"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    corpus.upsert(
        {
            "id": arxiv_id,
            "version": 1,
            "title": f"A new result number {n}",
            "summary": "We show something new.",
            "authors": [{"name": author, "affiliations": []}],
            "published": now,
            "updated": now,
            "primary_category": "cs.LG",
            "categories": ["cs.LG"],
            "comment": None,
            "journal_ref": None,
            "doi": None,
        }
    )
    return arxiv_id


def pre_migrate(db_url: str) -> None:
    """As the installation does (``harvest db upgrade``) before anything runs."""
    store = Store.open(db_url)
    store.upgrade()
    store.close()


# -- the daemon's life ------------------------------------------------------------------------


def test_cycles_pick_up_upstream_changes_and_signals_behave(
    tmp_path: Path,
    server: LookalikeServer,
    corpus: Corpus,
    notifications: Notifications,
    daemons: list[Daemon],
) -> None:
    """Baseline, then a new version, then a new paper: each found by the next cycle. A
    ``--once`` run beside it, a bad config on SIGHUP, the watchdog, then SIGTERM."""
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    config = daemon_config(tmp_path / "harvester.toml", db_url, server.url)
    env = environment(**notifications.env, WATCHDOG_USEC="1000000", JOURNAL_STREAM="8:1")
    daemon = Daemon(config, env=env)
    daemons.append(daemon)
    ready = notifications.wait_for("READY=1")
    assert "STATUS=next harvest" in ready  # never harvested: a cycle is due at once
    notifications.wait_for("STATUS=last cycle")
    events = "SELECT kind, arxiv_id FROM paper_events ORDER BY event_id"
    assert query(db_url, events) == []  # the baseline
    kakade = [p for p in corpus if any(a.name == "Sham Kakade" for a in p.authors)]
    newest = max(kakade, key=lambda p: p.published)  # within an incremental cycle's reach
    corpus.revise(newest.arxiv_id, updated=datetime.now(UTC))
    notifications.wait_for("STATUS=last cycle")
    assert query(db_url, events) == [("new_version", newest.arxiv_id)]
    added = new_paper(corpus, "Sham Kakade", 1)
    notifications.wait_for("STATUS=last cycle")
    assert query(db_url, events)[1:] == [("new_paper", added)]
    beside = once(config)
    _, err = beside.communicate(timeout=60)
    assert beside.returncode in (0, 75), err  # harvested, or found the daemon at it
    config.write_text(config.read_text() + "bogus = 1\n")
    daemon.process.send_signal(signal.SIGHUP)
    wait_until(lambda: "keeping the old configuration" in daemon.stderr, what="SIGHUP")
    notifications.wait_for("STATUS=last cycle")  # still harvesting, on the old config
    assert notifications.wait_for("WATCHDOG=1") == "WATCHDOG=1"
    code, seconds = daemon.stop()
    assert (code, seconds < 10) == (0, True)
    assert "STOPPING=1" in notifications.wait_for("STOPPING=1")
    assert len(query(db_url, events)) == 2  # nothing recorded twice
    counts = query(db_url, "SELECT previous_count, paper_count FROM count_history")
    assert [tuple(c) for c in counts] == [(None, 76), (76, 77)]
    log = daemon.stderr.splitlines()
    assert log and all(line[:3] in ("<6>", "<4>", "<3>") for line in log), log
    assert any("keeping the old configuration" in line and "bogus" in line for line in log)


def test_sigterm_while_waiting_between_requests_stops_at_once(
    tmp_path: Path,
    server: LookalikeServer,
    db_url: str,
    notifications: Notifications,
    daemons: list[Daemon],
) -> None:
    """A long ``delay_seconds``: SIGTERM lands in the pacer's wait before page 2."""
    config = daemon_config(tmp_path / "h.toml", db_url, server.url, delay_seconds=30)
    daemon = Daemon(config, "--run-now", env=environment(**notifications.env))
    daemons.append(daemon)
    wait_until(lambda: len(server.requests) == 1, what="the first request")
    time.sleep(0.3)
    code, seconds = daemon.stop()
    print(f"stop after SIGTERM in a pacer wait: {seconds:.2f} s")
    assert code == 0 and seconds < 10, daemon.stderr
    assert_nothing_half_written(db_url, "stop requested")
    # the log and the run row agree: a routine stop, with the one request it made
    assert "kakade  stopped: stop requested  full  1 request" in daemon.stderr
    assert query(db_url, "SELECT requests FROM harvest_runs") == [(1,)]


def test_sigterm_with_a_request_in_flight_leaves_within_10_seconds(
    tmp_path: Path, server: LookalikeServer, daemons: list[Daemon]
) -> None:
    """The server stalls; the request's timeout is longer than the stop may take."""
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    server.faults.add(Stall(60))
    config = daemon_config(tmp_path / "h.toml", db_url, server.url, timeout_seconds=30)
    daemon = Daemon(config, "--run-now", env=environment())
    daemons.append(daemon)
    wait_until(lambda: len(server.requests) == 1, what="the stalled request")
    time.sleep(0.3)
    code, seconds = daemon.stop()
    print(f"stop after SIGTERM with a request in flight: {seconds:.2f} s")
    assert code == 0 and seconds < 10, daemon.stderr
    assert "did not end within" in daemon.stderr
    assert_nothing_half_written(db_url, "stopped: shut down during a request")


def assert_nothing_half_written(db_url: str, error: str) -> None:
    if db_url.startswith("sqlite"):
        assert query(db_url, "PRAGMA integrity_check") == [("ok",)]
    runs = query(db_url, "SELECT status, error FROM harvest_runs")
    assert [tuple(r) for r in runs] == [("stopped", error)]
    for table in ("paper", "membership", "event", "count_change"):
        assert query(db_url, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
    assert query(db_url, "SELECT lease_owner FROM author") == [(None,)]


def test_a_recent_harvest_is_not_repeated_at_start_unless_asked(
    tmp_path: Path,
    server: LookalikeServer,
    notifications: Notifications,
    daemons: list[Daemon],
) -> None:
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    config = daemon_config(
        tmp_path / "h.toml", db_url, server.url, schedule={"cron": "0 3 * * 1-5"}
    )
    assert finish(once(config))[0] == 0
    server.clear_requests()
    daemon = Daemon(config, env=environment(**notifications.env))
    daemons.append(daemon)
    ready = notifications.wait_for("READY=1")
    assert "STATUS=next harvest" in ready and "T03:0" in ready  # 03:00 + up to 300 s jitter
    time.sleep(1.0)
    assert server.requests == []
    assert daemon.stop()[0] == 0
    eager = Daemon(config, "--run-now", env=environment(**notifications.env))
    daemons.append(eager)
    notifications.wait_for("STATUS=last cycle")
    assert len(server.requests) == 1  # incremental: the first page reaches the watermark
    assert eager.stop()[0] == 0


def test_run_by_hand_with_the_shipped_warning_level_it_shows_its_own_lines(
    tmp_path: Path, server: LookalikeServer, notifications: Notifications, daemons: list[Daemon]
) -> None:
    """``[logging] level = "WARNING"`` as shipped: the daemon's lines (as the README shows
    them) still appear, so it never looks hung; other modules' INFO lines stay out."""
    config = write_config(
        tmp_path / "h.toml",
        f"sqlite:///{tmp_path / 'h.db'}",
        server.url,
        arxiv={"delay_seconds": 0, "timeout_seconds": 2},
        logging={"level": "WARNING"},
        schedule={"cron": "0 3 * * *"},
    )
    daemon = Daemon(config, "--run-now", env=environment(**notifications.env))
    daemons.append(daemon)
    notifications.wait_for("STATUS=last cycle")
    assert daemon.stop()[0] == 0
    lines = [line.split(" ", 2)[2] for line in daemon.stderr.splitlines()]  # no timestamps
    assert lines[0].startswith("INFO harvester.daemon: harvesting at once: ")
    harvested = "INFO harvester.daemon: kakade  76 papers  +0 new  0 new versions  full  1 request"
    assert harvested in lines, lines
    assert lines[-2:] == [
        "INFO harvester.daemon: stop requested (SIGTERM)",
        "INFO harvester.daemon: stopped",
    ]
    assert all(line.startswith("INFO harvester.daemon: ") for line in lines), lines


def test_a_bad_schedule_exits_2_naming_the_key(tmp_path: Path) -> None:
    config = daemon_config(
        tmp_path / "h.toml",
        f"sqlite:///{tmp_path / 'h.db'}",
        "http://127.0.0.1:9/api/query",
        schedule={"cron": "0 2 * * 8"},
    )
    result = subprocess.run(
        [sys.executable, "-m", "harvester.cli", "daemon", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment(),
        check=False,
    )
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert "schedule.cron" in line and "day of week" in line
    assert not (tmp_path / "h.db").exists()


# -- the daemon and --once runs on one database -----------------------------------------------


class Gate(Fault):
    """Holds every request it is applied to until the test opens it: a starting pistol.

    A fault runs in the look-alike's handler thread before the reply is sent, so blocking
    here keeps the client waiting for its answer (arrival times are logged as they were)."""

    kind: ClassVar[str] = "gate"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = threading.Event()
        self.held = 0

    def shape_reply(self, reply: Reply, ctx: FaultContext) -> Reply:
        with self._lock:
            self.held += 1
            opened = self._open
        opened.wait(60)
        return reply

    def open_when(self, condition: Callable[[], bool], what: str) -> None:
        """Open once a request is held and ``condition`` holds."""
        wait_until(lambda: self.held >= 1 and condition(), timeout=60, what=what)
        self._open.set()

    def release(self) -> None:
        self._open.set()

    def close(self) -> None:
        with self._lock:
            self._open, self.held = threading.Event(), 0


def test_daemons_and_once_runs_never_overlap_and_share_the_rate_limit(
    tmp_path: Path,
    server: LookalikeServer,
    corpus: Corpus,
    db_url: str,
    daemons: list[Daemon],
) -> None:
    """Two rounds on one database, each a daemon's cycle and three ``--once`` runs started
    at the same time: four processes, four authors. (Round 2 is a second daemon's first
    cycle, the first daemon idling beside it: cycles that a schedule starts are timed by
    the machine's load, rounds that a test starts are not.) Every author is harvested exactly
    once per round, no event or count change is recorded twice, and request starts stay
    ``delay_seconds`` apart across the processes.

    Each round, the first request is held until all four processes are harvesting an author
    (one request in flight at a time: the others wait for it): so every process has begun
    its cycle before any harvest of the round completes (a run that begins after a harvest
    ended would rightly harvest that author again)."""
    delay, onces = 1.0, 3
    processes = 1 + onces
    pre_migrate(db_url)
    gate = Gate()
    server.faults.add(gate, times=None, when=first_page)
    config = daemon_config(
        tmp_path / "h.toml",
        db_url,
        server.url,
        authors=AUTHORS,
        schedule={"interval_seconds": 3600, "jitter_seconds": 0},
        delay_seconds=delay,
        timeout_seconds=60,
        page_size=100,  # one request per author: every harvest ends as the gate opens
        harvest={"group_query_chars": 0},  # a query per author: four to hold at the gate
    )
    results: list[tuple[int, str]] = []
    added: dict[str, str] = {}
    try:
        for round_ in (1, 2):
            if round_ == 2:
                added = {
                    a["key"]: new_paper(corpus, str(a["name"]), n) for n, a in enumerate(AUTHORS)
                }
            notify = Notifications()
            try:
                daemon = Daemon(config, "--run-now", env=environment(**notify.env))
                daemons.append(daemon)
                started = [once(config) for _ in range(onces)]
                gate.open_when(
                    lambda: running_runs(db_url) >= processes, f"{processes} harvests begun"
                )
                results += [finish(p) for p in started]
                notify.wait_for("STATUS=last cycle", timeout=60)
                gate.close()  # the next round's first request waits again
            finally:
                notify.close()
            assert ok_runs(db_url) == {a["key"]: round_ for a in AUTHORS}
    finally:
        gate.release()  # never leave a handler thread waiting
    assert [d.stop()[0] for d in daemons] == [0, 0]
    codes = [code for code, _ in results]
    assert set(codes) <= {0, 75}, results  # 75: the others had every author
    other = "SELECT author_key, status, error FROM run WHERE status NOT IN ('ok', 'skipped')"
    assert query(db_url, other) == []
    events = query(db_url, "SELECT author_key, kind, arxiv_id FROM paper_events")
    assert sorted(tuple(e) for e in events) == sorted(
        (key, "new_paper", arxiv_id) for key, arxiv_id in added.items()
    )
    counts = query(db_url, "SELECT author_key, COUNT(*) FROM count_history GROUP BY author_key")
    assert dict(counts) == {a["key"]: 2 for a in AUTHORS}  # the baseline and the new paper
    assert_no_overlapping_runs(db_url)
    arrivals = sorted(r.time for r in server.requests)
    gap = min(b - a for a, b in itertools.pairwise(arrivals))
    print(
        f"{db_url.split(':')[0]}: {processes} processes a round (a daemon, {onces} --once),"
        f" 2 rounds, {len(AUTHORS)} authors, {len(arrivals)} requests, minimum gap"
        f" {gap:.3f} s (delay {delay} s), --once exit codes {codes}"
    )
    # Slots are reserved delay_seconds apart; what the server sees also carries each
    # process's scheduling and commit latency on this busy two-core machine.
    assert gap >= delay - JITTER


def running_runs(db_url: str) -> int:
    return int(query(db_url, "SELECT COUNT(*) FROM run WHERE status = 'running'")[0][0])


def ok_runs(db_url: str) -> dict[str, int]:
    rows = query(
        db_url, "SELECT author_key, COUNT(*) FROM run WHERE status = 'ok' GROUP BY author_key"
    )
    return {key: n for key, n in rows}


def assert_no_overlapping_runs(db_url: str) -> None:
    runs = query(
        db_url,
        "SELECT author_key, started_at, finished_at FROM run WHERE status = 'ok'"
        " ORDER BY author_key, started_at",
    )
    for key, group in itertools.groupby(runs, key=lambda r: r.author_key):
        spans = [(str(r.started_at), str(r.finished_at)) for r in group]
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start, f"{key}: two harvests overlapped"
