"""Crashes: ``harvest --once`` killed with SIGKILL at random moments, on SQLite and PostgreSQL.

Each trial is a real ``python -m harvester.cli --once`` against the look-alike, killed after
a random number of requests (plus a random fraction of the request spacing), or at a random
moment of start-up and migration. Afterwards the database must be intact (SQLite:
``PRAGMA integrity_check`` and ``foreign_key_check``), no author half-written (memberships,
events and count history agree, and belong to finished ``ok`` runs), and one more harvest
must close the abandoned run and converge to exactly the state of an uninterrupted run
(every data table, run ids and timestamps aside).

Two scenarios alternate: the very first harvest (migrations included) of a fresh database,
and an update harvest (new paper, new version, withdrawal, metadata change, a paper gone)
of a profile that already has its baseline.

The dead process's author lease (:mod:`harvester.store.leases`) blocks that author for its
TTL, so "one more harvest" runs with a clock past it: the next cron run, in effect.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import DateTime, Engine, MetaData, create_engine, select, text

from arxiv_lookalike import Corpus, LookalikeServer, seed_corpus
from harvester.config import Settings
from harvester.store import Store
from harvester.store.leases import Leases

from .support import SEED_AUTHOR, database_url, harvest, make_settings, write_config

pytestmark = pytest.mark.slow

TRIALS = 20
"""Trials per database."""
AUTHORS = [
    SEED_AUTHOR,
    {"key": "morwani", "name": "Depen Morwani"},
    {"key": "hzhang", "name": "Hanlin Zhang"},
]
PAGE_SIZE = 5
DELAY = 0.01
"""Small pages and a little spacing: 21 requests, so kills land mid-harvest."""
ARXIV = {"page_size": PAGE_SIZE, "delay_seconds": DELAY, "timeout_seconds": 5, "max_attempts": 2}
STARTUP_TRIALS = {2, 7, 12, 17}
"""Trials killed by the clock during start-up (the migrations) rather than after a request."""
LATER = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
EXCLUDED_TABLES = {"alembic_version", "run", "request_slot", "similar_author", "derived_state"}
"""The run log and the pacing slot differ between any two runs, and the similar authors are
derived from the data after each ``harvest --once`` cycle (harvester.profile); the data
tables themselves must not differ."""
EXCLUDED_COLUMNS = {"run_id", "event_id", "change_id", "lease_owner"}

State = dict[str, list[tuple[Any, ...]]]


# --- the two corpora and their servers --------------------------------------------------


def updated_corpus() -> Corpus:
    """The seed corpus after a day on arXiv: every kind of change a harvest must write."""
    corpus = Corpus.from_dicts(seed_corpus().to_dicts())
    ids = [p.arxiv_id for p in corpus if any(a.name == "Sham Kakade" for a in p.authors)]
    template = corpus.get(ids[0])
    assert template is not None
    corpus.upsert(replace(template, arxiv_id="2611.01234", version=1, title="New", published=LATER))
    corpus.revise(ids[1], updated=LATER)
    corpus.revise(ids[2], updated=LATER, comment="This paper has been withdrawn by the author")
    retitled = corpus.get(ids[3])
    assert retitled is not None
    corpus.upsert(replace(retitled, title="A retitled paper"))
    corpus.remove(ids[4])
    return corpus


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, LookalikeServer]]:
    """``first``: the seed corpus; ``update``: the same a day later."""
    with LookalikeServer(seed_corpus()) as first, LookalikeServer(updated_corpus()) as update:
        yield {"first": first, "update": update}


# --- databases ----------------------------------------------------------------------------


def database(backend: str, directory: Path) -> contextlib.AbstractContextManager[str]:
    """A fresh, empty database URL (a SQLite file per trial, or a PostgreSQL schema)."""
    return database_url(backend, directory, f"{uuid.uuid4().hex[:8]}.db")


def settings_for(url: str, server: LookalikeServer) -> Settings:
    return make_settings(url, server.url, authors=AUTHORS, page_size=PAGE_SIZE)


def harvest_in_process(url: str, server: LookalikeServer, *, later: bool = False) -> None:
    """One uninterrupted harvest; ``later``: after any dead process's lease expired."""
    settings = settings_for(url, server)
    offset = timedelta(hours=1) if later else timedelta(0)

    def clock() -> datetime:
        return datetime.now(UTC) + offset

    store = Store.open(url)
    try:
        store.upgrade()
        leases = Leases(store.engine, clock=clock)
        report = harvest(store, settings, clock=clock, leases=leases)
        assert report.exit_code == 0, [a.line() for a in report.authors]
    finally:
        store.close()


@contextlib.contextmanager
def engine_for(url: str) -> Iterator[Engine]:
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def data_state(url: str) -> State:
    """Every data table's rows, sorted, without run ids, row ids, leases and timestamps."""
    with engine_for(url) as engine:
        meta = MetaData()
        meta.reflect(engine)
        state: State = {}
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                if table.name in EXCLUDED_TABLES:
                    continue
                columns = [
                    c
                    for c in table.columns
                    if c.name not in EXCLUDED_COLUMNS and not isinstance(c.type, DateTime)
                ]
                found = [tuple(_plain(v) for v in row) for row in conn.execute(select(*columns))]
                if table.name == "derived_change":  # notes for the next refresh: once is enough
                    found = list(set(found))
                state[table.name] = sorted(found, key=_sortable)
    return state


def _sortable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """Rows order with NULLs (a former author's name, say) first in their column."""
    return tuple((v is not None, v if v is not None else 0) for v in row)


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, bool) else value


# --- references: uninterrupted runs ---------------------------------------------------------


@dataclass
class Reference:
    state: State
    requests: int


_REFERENCES: dict[tuple[str, str], Reference] = {}


def reference(
    backend: str, scenario: str, servers: dict[str, LookalikeServer], tmp: Path
) -> Reference:
    """The state an uninterrupted run leaves (computed once per database and scenario)."""
    key = (backend, scenario)
    if key not in _REFERENCES:
        with database(backend, tmp) as url:
            if scenario == "update":
                harvest_in_process(url, servers["first"])
            before = len(servers[scenario].requests)
            harvest_in_process(url, servers[scenario])
            requests = len(servers[scenario].requests) - before
            _REFERENCES[key] = Reference(data_state(url), requests)
    return _REFERENCES[key]


_SQLITE_BASELINE: list[Path] = []


def baseline(url: str, server: LookalikeServer) -> None:
    """The first harvest, uninterrupted (a SQLite file is copied from the first one made)."""
    if not url.startswith("sqlite:///"):
        harvest_in_process(url, server)
        return
    path = Path(url.removeprefix("sqlite:///"))
    if not _SQLITE_BASELINE:
        harvest_in_process(url, server)
        template = path.with_name("baseline-template.db")
        shutil.copyfile(path, template)
        _SQLITE_BASELINE.append(template)
        return
    shutil.copyfile(_SQLITE_BASELINE[0], path)


# --- the checks -------------------------------------------------------------------------------


def check_sqlite_file(url: str) -> None:
    with engine_for(url) as engine, engine.connect() as conn:
        assert conn.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
        assert conn.execute(text("PRAGMA foreign_key_check")).all() == []


def check_no_author_half_written(url: str) -> int:
    """Memberships, events, counts and runs agree for every author; returns runs left running."""
    with engine_for(url) as engine, engine.connect() as conn:

        def q(sql: str, **params: Any) -> list[Any]:
            return list(conn.execute(text(sql), params))

        tables = set(engine.dialect.get_table_names(conn))
        assert not tables or {"alembic_version", "author", "run"} <= tables, "half a schema"
        if not tables:
            return 0  # killed before the migrations committed
        for (key,) in q("SELECT key FROM author"):
            active = q(
                "SELECT COUNT(*) FROM membership WHERE author_key = :k AND status = 'active'", k=key
            )[0][0]
            history = q(
                "SELECT paper_count FROM count_change WHERE author_key = :k"
                " ORDER BY change_id DESC",
                k=key,
            )
            baseline = q("SELECT baseline_identity FROM author WHERE key = :k", k=key)[0][0]
            if history:
                assert history[0].paper_count == active, f"{key}: count history disagrees"
                assert baseline is not None
            else:
                assert q("SELECT * FROM membership WHERE author_key = :k", k=key) == []
                assert baseline is None
        for table in ("event", "count_change"):
            orphans = q(
                f"SELECT x.run_id FROM {table} x JOIN run r ON r.run_id = x.run_id"
                " WHERE r.status <> 'ok' OR r.finished_at IS NULL"
            )
            assert orphans == [], f"{table} rows of unfinished runs"
        mismatched = q(
            "SELECT r.run_id FROM run r WHERE r.status = 'ok' AND r.events <>"
            " (SELECT COUNT(*) FROM event e WHERE e.run_id = r.run_id)"
        )
        assert mismatched == []
        assert q("SELECT arxiv_id FROM paper WHERE arxiv_id NOT IN"
                 " (SELECT arxiv_id FROM paper_author)") == []  # fmt: skip
        running = q("SELECT run_id FROM run WHERE status = 'running'")
        return len(running)


def abandoned_runs(url: str) -> tuple[int, int]:
    """(runs still running, runs closed as abandoned)."""
    with engine_for(url) as engine, engine.connect() as conn:
        running = conn.execute(text("SELECT COUNT(*) FROM run WHERE status = 'running'"))
        closed = conn.execute(
            text("SELECT COUNT(*) FROM run WHERE error = 'abandoned: the process ended'")
        )
        return running.scalar_one(), closed.scalar_one()


# --- one trial ---------------------------------------------------------------------------------


@dataclass
class Kill:
    """Where a trial's SIGKILL landed."""

    after_requests: int
    killed: bool


_FIRST_REQUEST_AFTER: list[float] = []
"""Seconds from start to the first request, as observed: where start-up ends."""


def run_and_kill(
    config: Path, server: LookalikeServer, rng: random.Random, total: int, *, startup: bool
) -> Kill:
    """Start ``harvest --once`` and SIGKILL it: after a random number of requests (plus a
    random part of the spacing), or, with ``startup``, at a random moment of the last
    0.4 s before its first request (the migrations, on a fresh database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    target = rng.randrange(1, total + 1)
    before = len(server.requests)
    began = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "harvester.cli", "-q", "--once", "--config", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        if startup:
            observed = sorted(_FIRST_REQUEST_AFTER)
            first = observed[len(observed) // 2] if observed else 1.0
            time.sleep(rng.uniform(first - 0.4, first))
        else:
            while len(server.requests) - before < target and process.poll() is None:
                assert time.monotonic() - began < 30, "the harvest made no progress"
                time.sleep(0.002)
            time.sleep(rng.uniform(0, 1.5 * DELAY))
            if len(server.requests) > before:
                _FIRST_REQUEST_AFTER.append(server.requests[before].time - began)
        killed = process.poll() is None
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    return Kill(len(server.requests) - before, killed)


@pytest.mark.parametrize("trial", range(TRIALS))
@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_harvest_leaves_a_consistent_database_and_converges(
    backend: str, trial: int, servers: dict[str, LookalikeServer], tmp_path: Path
) -> None:
    rng = random.Random(f"crash-{backend}-{trial}")
    scenario = "first" if trial % 2 == 0 else "update"
    expected = reference(backend, scenario, servers, tmp_path)
    server = servers[scenario]
    with database(backend, tmp_path) as url:
        if scenario == "update":
            baseline(url, servers["first"])
        kill = run_and_kill(
            write_config(tmp_path / "h.toml", url, server.url, authors=AUTHORS, arxiv=ARXIV),
            server,
            rng,
            expected.requests,
            startup=trial in STARTUP_TRIALS,
        )
        if backend == "sqlite" and Path(url.removeprefix("sqlite:///")).exists():
            check_sqlite_file(url)
        left_running = check_no_author_half_written(url)
        harvest_in_process(url, server, later=True)
        assert abandoned_runs(url) == (0, left_running)
        assert data_state(url) == expected.state, f"not converged after {kill}"


# --- abandoned runs ---------------------------------------------------------------------------


def test_every_cycle_first_closes_runs_a_dead_process_left_running(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url)
    store.sync_authors([("kakade", "Sham Kakade")])
    dead = store.start_run("kakade", datetime.now(UTC) - timedelta(hours=2))
    report = harvest(store, settings)
    assert report.exit_code == 0
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT run_id, status, error, finished_at FROM run ORDER BY run_id")
        )
        first, second = rows.all()
    assert (first.run_id, first.status, first.error) == (
        dead,
        "failed",
        "abandoned: the process ended",
    )
    assert first.finished_at is not None
    assert second.status == "ok"
