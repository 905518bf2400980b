"""The ``workers`` part of ``scripts/bench_cycle.py``: N ``harvest --once`` processes, one
PostgreSQL database, a cold import.

For each N of ``--workers`` (default 1 2 4), on a fresh database of its own: N real
``harvest --once`` processes (the project's CLI, one config) are started together against
one look-alike serving the synthetic corpus (``--scale-authors`` x ``--scale-papers``).
They share the authors (leases) and the one request slot (``[arxiv] delay_seconds``, one
request at a time); their local work (parsing, planning, writing, derived data) may run
side by side. Printed per N:

* wall time (the first start to the last exit), the look-alike's answering time (the sum of
  its search and render times, as the ``scale`` part counts it) and *local time*, wall
  minus answering; papers/s; local time as a ratio of N=1's;
* requests served, and the check from the look-alike's log: no request arrived before
  the previous reply was written out (overlap), and no two arrivals came closer than
  ``delay_seconds`` (starts are what the pacer spaces; arrivals at the server trail the
  starts by a scheduling delay, so the smallest gap is shown too);
* each worker's CPU time (user + system, from ``wait4``) and peak RSS, and how many
  authors each harvested: with 2 cores, N workers cannot use more than 2 CPU-seconds a
  second between them, and PostgreSQL and the look-alike need their share;
* that the result is the same database whatever N: papers, active memberships, and a
  digest of every (author, paper, status) membership.

::

    .venv/bin/python scripts/bench_cycle.py --parts workers
    .venv/bin/python scripts/bench_cycle.py --parts workers --workers 1 2 4 --worker-delay 0
    .venv/bin/python scripts/bench_cycle.py --parts workers --scale-authors 10000 --scale-papers 10
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.exchange import RequestRecord
from arxiv_lookalike.synthetic import SyntheticAuthor, synthetic_corpus

PG_SERVER_URL = os.environ.get(
    "HARVESTER_BENCH_PG_SERVER", "postgresql+psycopg://postgres@127.0.0.1:5432"
)
"""The PostgreSQL server; each N gets a database of its own there, dropped afterwards."""
HARVEST = str(Path(sys.executable).with_name("harvest"))


@dataclass
class Worker:
    """One ``harvest --once`` process and what ``wait4`` said of it."""

    process: subprocess.Popen[str]
    exit_code: int = -1
    cpu: float = 0.0
    rss_mb: float = 0.0
    ended: float = 0.0
    harvested: int = 0


@dataclass
class Run:
    """N workers' cold import, as measured."""

    workers: int
    wall: float
    requests: list[RequestRecord]
    processes: list[Worker]
    machine_cpu: float = 0.0
    database: dict[str, Any] = field(default_factory=dict)

    @property
    def served(self) -> float:
        return sum(r.seconds for r in self.requests)

    @property
    def local(self) -> float:
        return self.wall - self.served


def run_workers(args: argparse.Namespace) -> None:
    from bench_cycle import write_config

    corpus, authors = synthetic_corpus(args.scale_authors, args.scale_papers, seed=args.seed)
    print(
        f"\nWorkers: {len(authors):,} authors x {args.scale_papers} papers "
        f"({len(corpus):,} papers), postgresql, delay {args.worker_delay:g} s, "
        f"load average {_load()}"
    )
    runs: list[Run] = []
    with LookalikeServer(corpus) as server, tempfile.TemporaryDirectory() as tmp:
        _warm(server, authors)
        for i, n in enumerate(args.workers):
            with _database() as url:
                workdir = Path(tmp) / f"run{i}-n{n}"
                workdir.mkdir()
                config = write_config(workdir, server.url, authors, database_url=url)
                _set_delay(config, args.worker_delay)
                _migrate(config)
                server.clear_requests()
                busy = machine_cpu_seconds()
                runs.append(_cold_import(config, n, server))
                runs[-1].machine_cpu = machine_cpu_seconds() - busy
                runs[-1].database = _database_digest(url)
            print(f"  N={n}: {runs[-1].wall:.1f} s wall, load average {_load()}", flush=True)
    _print(runs, len(corpus), args.worker_delay)


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy since boot (``/proc/stat``: every state but
    idle and iowait), in seconds: the harvesters', PostgreSQL's and the look-alike's."""
    fields = Path("/proc/stat").read_text(encoding="ascii").splitlines()[0].split()[1:9]
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields)
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _warm(server: LookalikeServer, authors: Sequence[SyntheticAuthor]) -> None:
    """The look-alike's search index built outside the timed runs (as the scale part)."""
    query = f'au:"{authors[0].name}"'
    requests.get(server.url, params={"search_query": query, "max_results": 1}, timeout=900)


def _set_delay(config: Path, delay: float) -> None:
    lines = config.read_text(encoding="utf-8").splitlines()
    lines = [f"delay_seconds = {delay!r}" if x.startswith("delay_seconds") else x for x in lines]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _migrate(config: Path) -> None:
    """As an installation does (``harvest db upgrade``) before its workers start."""
    subprocess.run([HARVEST, "--config", str(config), "-q", "db", "upgrade"], check=True)


def _cold_import(config: Path, n: int, server: LookalikeServer) -> Run:
    """N ``harvest --once`` started together; each reaped with ``wait4`` for its CPU time."""
    command = [HARVEST, "--config", str(config), "--once"]
    logs = [config.with_name(f"worker{i}.{kind}") for i in range(n) for kind in ("out", "err")]
    files = [log.open("w", encoding="utf-8") for log in logs]
    began = time.monotonic()
    workers = [
        Worker(subprocess.Popen(command, stdout=files[2 * i], stderr=files[2 * i + 1]))
        for i in range(n)
    ]
    for worker in workers:
        _, status, usage = os.wait4(worker.process.pid, 0)
        worker.process.returncode = worker.exit_code = os.waitstatus_to_exitcode(status)
        worker.cpu = usage.ru_utime + usage.ru_stime
        worker.rss_mb = usage.ru_maxrss / 1024
    wall = time.monotonic() - began
    for file in files:
        file.close()
    for i, worker in enumerate(workers):
        out, err = (logs[2 * i + k].read_text(encoding="utf-8") for k in (0, 1))
        worker.harvested = sum(" papers  +" in line for line in out.splitlines())
        if worker.exit_code != 0 and not _found_all_leased(worker, err):
            raise RuntimeError(f"worker {i} exited {worker.exit_code}: {err[-3000:]}")
    return Run(n, wall, server.requests, workers)


def _found_all_leased(worker: Worker, err: str) -> bool:
    """A worker that found every author leased or being claimed by the others: ``harvest``
    exits 75 (nothing could be done now, try later) when it skipped every author it had."""
    lines = [line for line in err.splitlines() if line.strip()]
    skipped = all("  skipped: " in line for line in lines)
    return worker.exit_code == 75 and worker.harvested == 0 and skipped


@contextmanager
def _database() -> Iterator[str]:
    """A PostgreSQL database of this run's own, dropped at the end."""
    name = f"bench_workers_{uuid.uuid4().hex[:10]}"
    admin = create_engine(f"{PG_SERVER_URL}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield f"{PG_SERVER_URL}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def _database_digest(url: str) -> dict[str, Any]:
    """What the workers left: papers, active memberships, a digest of every membership."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            papers = conn.execute(text("SELECT COUNT(*) FROM paper")).scalar_one()
            rows = conn.execute(
                text(
                    "SELECT author_key, arxiv_id, status FROM membership "
                    "ORDER BY author_key, arxiv_id"
                )
            )
            digest, active = hashlib.sha256(), 0
            for key, paper, status in rows:
                digest.update(f"{key}\t{paper}\t{status}\n".encode())
                active += status == "active"
            runs = conn.execute(
                text("SELECT status, COUNT(*) FROM run GROUP BY status ORDER BY status")
            )
            statuses = ", ".join(f"{s} {c}" for s, c in runs)
    finally:
        engine.dispose()
    return {"papers": papers, "active": active, "digest": digest.hexdigest()[:12], "runs": statuses}


@dataclass(frozen=True)
class Spacing:
    """The look-alike's log against the one-request rule."""

    overlaps: int
    close: int
    min_start_gap: float
    min_idle_gap: float
    slot_busy: float


def spacing(requests: Sequence[RequestRecord], delay: float) -> Spacing:
    """Overlaps (a request arrived before the previous reply was out), arrivals closer than
    ``delay``, the smallest gap between arrivals and between a reply's end and the next
    arrival, and how long replies were being answered in all (arrival to written out)."""
    ordered = sorted(requests, key=lambda r: r.time)
    pairs = list(itertools.pairwise(ordered))
    ends = [(a.ended if a.ended is not None else a.time + a.seconds) for a in ordered]
    idle = [b.time - end for (_, b), end in zip(pairs, ends, strict=False)]
    starts = [b.time - a.time for a, b in pairs]
    return Spacing(
        overlaps=sum(gap < 0 for gap in idle),
        close=sum(gap < delay for gap in starts),
        min_start_gap=min(starts, default=0.0),
        min_idle_gap=min(idle, default=0.0),
        slot_busy=sum(end - r.time for r, end in zip(ordered, ends, strict=True)),
    )


def _print(runs: Sequence[Run], papers: int, delay: float) -> None:
    from bench_cycle import table

    base = runs[0].local
    rows = []
    for run in runs:
        check = spacing(run.requests, delay)
        rows.append(
            [
                run.workers,
                f"{run.wall:.2f}",
                f"{run.served:.2f}",
                f"{run.local:.2f}",
                f"{papers / run.wall:,.0f}",
                f"{run.local / base:.2f}",
                len(run.requests),
                check.overlaps,
                check.close,
                f"{check.min_start_gap * 1000:.1f}",
                f"{check.min_idle_gap * 1000:.1f}",
                f"{check.slot_busy:.2f}",
            ]
        )
    headers = (
        "N", "wall s", "server s", "local s", "papers/s", "local / N=1", "requests",
        "overlaps", f"gaps < {delay:g} s", "min gap ms", "min idle ms", "slot busy s",
    )  # fmt: skip
    print(table(headers, rows, markdown=False))
    print("\nPer worker: CPU s (user + system), peak RSS MB, authors harvested:")
    for run in runs:
        cells = [f"{w.cpu:.1f} s / {w.rss_mb:.0f} MB / {w.harvested}" for w in run.processes]
        total = sum(w.cpu for w in run.processes)
        print(
            f"  N={run.workers}: {'; '.join(cells)}  (CPU in all {total:.1f} s, "
            f"{total / run.wall:.2f} CPU-s per wall s)"
        )
    cores = os.cpu_count() or 1
    print(f"\nThe whole machine ({cores} cores), busy CPU-s (all processes) and cores kept busy:")
    for run in runs:
        print(
            f"  N={run.workers}: {run.machine_cpu:.1f} CPU-s, {run.machine_cpu / run.wall:.2f} "
            f"cores busy; {cores} cores could do it in {run.machine_cpu / cores:.1f} s at best "
            f"({run.machine_cpu / cores / base:.2f} of N=1's local time)"
        )
    print("\nThe database each N left:")
    for run in runs:
        d = run.database
        print(
            f"  N={run.workers}: {d['papers']:,} papers, {d['active']:,} active memberships, "
            f"digest {d['digest']}, runs: {d['runs']}"
        )
    same = len({(r.database["papers"], r.database["digest"]) for r in runs}) == 1
    print("same database whatever N: " + ("yes" if same else "NO"))


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())
