"""Four ``harvest daemon`` workers split 200 authors through one database.

Each round, the first request is held at the look-alike until all four workers have
started: so all four have begun their cycle before any harvest of the round completes.
Requests go one at a time (one connection at a time, as arXiv asks), and the workers claim
different queries (``FOR NO KEY UPDATE SKIP LOCKED`` on PostgreSQL) meanwhile. Then:
every author is harvested exactly once per round, nothing is recorded twice, every worker
did part of the work, request starts stay ``delay_seconds`` apart across all four, and the
similar authors are computed once, after the last harvest, not by each worker.
"""

from __future__ import annotations

import itertools
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from arxiv_lookalike import LookalikeServer, Stall, first_page
from arxiv_lookalike.synthetic import SyntheticAuthor, synthetic_corpus
from harvester.store import Store, current_revision, head_revision

from .support import run_cli, write_config
from .test_daemon import (
    Daemon,
    Gate,
    environment,
    ok_runs,
    pre_migrate,
    query,
    wait_until,
)

WORKERS, AUTHORS, DELAY = 4, 200, 0.25


@pytest.fixture
def workers() -> Iterator[list[Daemon]]:
    """The worker daemons a test started; any still running at the end are killed."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.kill()


def worker_config(
    path: Path, db_url: str, api_url: str, authors: Sequence[SyntheticAuthor]
) -> Path:
    return write_config(
        path,
        db_url,
        api_url,
        authors=[{"key": a.key, "name": a.name} for a in authors],
        arxiv={"delay_seconds": DELAY, "page_size": 100, "timeout_seconds": 30, "max_attempts": 2},
        logging={"level": "INFO"},
        schedule={"cron": "0 3 * * *", "jitter_seconds": 0},
        harvest={"group_query_chars": 300},  # about ten authors a query: twenty queries
    )


def run_round(
    config: Path, gate: Gate, daemons: list[Daemon], held: list[tuple[float, float]], *args: str
) -> list[Daemon]:
    """Start the workers, hold their first requests until all four wait, let the round run.

    ``held`` gets the span of monotonic time in which the round's requests were held."""
    began = time.monotonic()
    round_ = [Daemon(config, *args, env=environment()) for _ in range(WORKERS)]
    daemons += round_
    gate.open_when(
        lambda: all("daemon started" in d.stderr for d in round_), "every worker started"
    )
    held.append((began, time.monotonic()))
    wait_until(
        lambda: all("last cycle" in d.stderr for d in round_), timeout=120, what="every cycle"
    )
    assert [d.stop()[0] for d in round_] == [0] * WORKERS
    gate.close()
    return round_


def assert_harvested(db_url: str, authors: Sequence[SyntheticAuthor], times: int) -> None:
    """Every author has ``times`` complete harvests; if not, the runs of those that differ."""
    counts = ok_runs(db_url)
    wrong = [a.key for a in authors if counts.get(a.key) != times]
    runs = "SELECT run_id, author_key, status, mode, error FROM run WHERE author_key = :key"
    if wrong:
        pytest.fail(f"{wrong}: {[[tuple(r) for r in query(db_url, runs, key=k)] for k in wrong]}")


def harvested_by(daemon: Daemon) -> int:
    """Authors this worker harvested, from its log (one line per author, ``N papers``)."""
    return sum(" papers  +" in line for line in daemon.stderr.splitlines())


def refreshed_by(daemon: Daemon) -> int:
    """Refreshes of the similar authors this worker stored, from its log."""
    return sum("similar authors recomputed" in line for line in daemon.stderr.splitlines())


def test_four_workers_split_the_authors_and_share_the_rate_limit(
    tmp_path: Path, db_url: str, workers: list[Daemon]
) -> None:
    corpus, authors = synthetic_corpus(AUTHORS, 3, seed=11)
    gate, held = Gate(), []
    with LookalikeServer(corpus) as server:
        server.faults.add(gate, times=None, when=first_page)
        config = worker_config(tmp_path / "h.toml", db_url, server.url, authors)
        pre_migrate(db_url)
        try:
            first = run_round(config, gate, workers, held)  # never harvested: cycle at start
            second = run_round(config, gate, workers, held, "--run-now")
            assert_harvested(db_url, authors, 2)
        finally:
            gate.release()
        starts = sorted(r.time for r in server.requests)
    for worker in (*first, *second):
        assert harvested_by(worker) > 0, worker.stderr
    # the similar authors were computed once, by the worker that ended last, not by each
    assert sum(refreshed_by(w) for w in first) == 1, [w.stderr[-2000:] for w in first]
    assert sum("left to the cycle that ends last" in w.stderr for w in first) >= 1
    assert sum(map(harvested_by, first)) == sum(map(harvested_by, second)) == AUTHORS
    other = "SELECT author_key, status, error FROM run WHERE status NOT IN ('ok', 'skipped')"
    assert query(db_url, other) == []
    modes = query(db_url, "SELECT mode, COUNT(*) FROM run WHERE status = 'ok' GROUP BY mode")
    assert sorted(tuple(m) for m in modes) == [("full", AUTHORS), ("incremental", AUTHORS)]
    assert query(db_url, "SELECT COUNT(*) FROM count_change")[0][0] == AUTHORS  # baselines only
    assert len(starts) >= 2 * 19
    # Arrival times at the server, but for the requests held at the gate (sent while the
    # other workers are still starting). The pacer spaces the starts of requests; where
    # they arrive also depends on when each process and the look-alike's handler threads
    # get a CPU: with four workers, the look-alike and PostgreSQL on two cores, a request
    # can be logged tens of milliseconds late, shortening the gap after the one before.
    # So: the rate exactly, and no two requests together.
    gated = [b for b in starts if any(lo <= b <= hi for lo, hi in held)]
    gaps = [b - a for a, b in itertools.pairwise(starts) if b not in gated]
    assert statistics.median(gaps) >= DELAY * 0.99, statistics.median(gaps)
    assert min(gaps) >= DELAY * 0.6, sorted(gaps)[:3]


def test_workers_starting_together_on_a_fresh_database_migrate_it_once(db_url: str) -> None:
    stores = [Store.open(db_url) for _ in range(WORKERS)]
    barrier = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def upgrade(store: Store) -> None:
        barrier.wait()
        try:
            store.upgrade()
        except BaseException as exc:  # collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=upgrade, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    try:
        assert not any(t.is_alive() for t in threads), "the upgrades deadlocked"
        assert errors == []
        assert {current_revision(s.engine) for s in stores} == {head_revision()}
    finally:
        for store in stores:
            store.close()


ONCE_AUTHORS, ONCE_DELAY, ONCE_STALL = 60, 0.05, 0.3
NOISE = 0.1
"""Seconds by which the look-alike's stamps can trail the moments they record when its
thread waits for a CPU (two cores, four workers, PostgreSQL and the test)."""


def test_four_once_runs_started_together_leave_the_database_one_run_leaves(
    tmp_path: Path, db_url: str
) -> None:
    """Four ``harvest --once`` processes on ``db_url`` (a cold import) and one alone on a
    SQLite file of its own: the same papers and memberships. The four each harvest a
    part, send one request at a time although every answer takes six times
    ``delay_seconds`` (no request arrives before the previous reply was written out), and
    leave the similar authors to the one that ends last."""
    corpus, authors = synthetic_corpus(ONCE_AUTHORS, 4, seed=5)
    alone_url = f"sqlite:///{tmp_path / 'alone.db'}"
    with LookalikeServer(corpus) as server:
        configs = [
            write_config(
                tmp_path / name,
                url,
                server.url,
                authors=[{"key": a.key, "name": a.name} for a in authors],
                arxiv={"delay_seconds": ONCE_DELAY, "page_size": 20, "max_attempts": 2},
                logging={"level": "INFO"},
                harvest={"group_query_chars": 200},  # about six authors a query
            )
            for name, url in (("shared.toml", db_url), ("alone.toml", alone_url))
        ]
        pre_migrate(db_url)
        server.faults.add(Stall(ONCE_STALL, then_respond=True), times=None)
        command = [sys.executable, "-m", "harvester.cli", "--config", str(configs[0]), "--once"]
        runs = [
            subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(WORKERS)
        ]
        outputs = [run.communicate(timeout=240) for run in runs]
        shared = sorted(server.requests, key=lambda r: r.time)
        server.faults.clear()
        alone = run_cli("--config", str(configs[1]), "--once")
    assert [run.returncode for run in runs] == [0] * WORKERS, [err for _, err in outputs]
    assert alone.returncode == 0, alone.stderr
    harvested = [sum(" papers  +" in line for line in out.splitlines()) for out, _ in outputs]
    assert sum(harvested) == ONCE_AUTHORS and min(harvested) > 0, harvested
    assert memberships(db_url) == memberships(alone_url)
    assert sum(err.count("similar authors recomputed") for _, err in outputs) == 1
    assert len(shared) >= 10
    for before, after in itertools.pairwise(shared):
        assert before.ended is not None, before
        assert after.time >= before.ended - NOISE, (before.time, before.ended, after.time)


def memberships(db_url: str) -> list[tuple[str, str, str]]:
    sql = "SELECT author_key, arxiv_id, status FROM membership ORDER BY author_key, arxiv_id"
    return [tuple(row) for row in query(db_url, sql)]
