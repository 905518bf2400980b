"""The ``scale`` part of ``scripts/bench_cycle.py``: what a cycle costs locally, at scale.

N authors x P papers (default 2,000 x 20; ``--scale-authors 10000 --scale-papers 100`` is
the million-paper run), on SQLite or PostgreSQL (``--scale-db``). The look-alike serves
the corpus from this process; the harvester runs in a child process, as
``harvest --once`` would, so its peak memory is its own. Every request the look-alike
answers is timed (search and rendering), and a cycle's *local time* is its wall time
minus that: what the harvester itself spends.

The child runs, one after the other:

1. **cold**: the first harvest (throughput in papers/s, peak RSS);
2. **derive (full)**: the derived data computed from scratch;
3. **steady**: the next cycle, nothing new, derived data included (as ``harvest --once``);
4. **steady (profiled)**: the same under cProfile, for the breakdown by function;
   then **steady (process)**: the same as a whole ``harvest --once`` process, its parts
   and its imports (``scripts/bench_process.py``);
5. **few-new**: after ``--new-papers`` new papers by random authors, derived data included;
6. **next day**: a cycle a day later, with that day's scheduled full reconciliations;
7. **full**: ``harvest --once --full``: every author re-planned against every
   membership: the baseline the steady and few-new cycles are compared with.

Then the worst render time of the largest and of a sample of profiles, the database's
size, and the naive script's requests for the same authors (one search per author,
every page, every cycle), asked in this run.

::

    .venv/bin/python scripts/bench_cycle.py --parts scale
    .venv/bin/python scripts/bench_cycle.py --parts scale --scale-db postgresql
    .venv/bin/python scripts/bench_cycle.py --parts scale --scale-authors 10000 --scale-papers 100
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import requests
from bench_process import children_peak_rss_mb, measured_run, print_process, process_cycles
from explain_queries import RENDER_REPEAT, sample_keys, timed_renders
from sqlalchemy import Engine, create_engine, event, text

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.synthetic import add_new_papers, synthetic_corpus
from harvester.config import Settings, load_settings
from harvester.cycle import CycleOptions, harvest_once
from harvester.profile import after_cycle, load_profile, render
from harvester.status import collect_status
from harvester.store import Store

PG_ADMIN_URL = os.environ.get(
    "HARVESTER_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
BREAKDOWN_LINES = 14


# --- the parent: corpus, look-alike, child -------------------------------------------------


def run_scale(args: argparse.Namespace) -> None:
    from bench_cycle import naive_cycle, table, write_config

    corpus, authors = synthetic_corpus(args.scale_authors, args.scale_papers, seed=args.seed)
    print(
        f"\nScale: {len(authors):,} authors x {args.scale_papers} papers "
        f"({len(corpus):,} papers), {args.scale_db}, delay 0"
    )
    with LookalikeServer(corpus) as server, tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.scale_keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        with _database(args.scale_db, workdir, keep=bool(args.scale_keep)) as url:
            config = write_config(workdir, server.url, authors, database_url=url)
            cycles = _drive_child(server, config, args, corpus, authors)
            size = _database_size(url)
        naive = None if args.scale_skip_naive else naive_cycle(server, authors).requests
    rows = [_row(name, c) for name, c in cycles.items() if "wall" in c]
    headers = (
        "cycle",
        "requests",
        "statements",
        "wall s",
        "server s",
        "local s",
        "peak RSS MB",
        "note",
    )
    print(table(headers, rows, markdown=args.markdown))
    _print_summary(cycles, size, naive, len(corpus))
    if "steady (profiled)" in cycles:
        print("\nSteady cycle, profiled (cumulative seconds; harvester functions only):")
        print(cycles["steady (profiled)"]["breakdown"])
    print_process(cycles)


def _drive_child(
    server: LookalikeServer, config: Path, args: argparse.Namespace, corpus: Any, authors: Any
) -> dict[str, dict[str, Any]]:
    """Run the child; add the new papers when it asks; the server's seconds per cycle."""
    _warm(server, authors)
    command = [sys.executable, os.path.abspath(sys.argv[0]), "--scale-child", str(config)]
    command += ["--scale-skip-full"] if args.scale_skip_full else []
    command += ["--scale-brief"] if args.scale_brief else []
    child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None and child.stdout is not None
    cycles: dict[str, dict[str, Any]] = {}
    for line in child.stdout:
        message = json.loads(line)
        if message.get("ask") == "new papers":
            recent = datetime.now(UTC) - timedelta(hours=1)
            add_new_papers(corpus, authors, args.new_papers, published=recent, seed=args.seed)
            _warm(server, authors)
            child.stdin.write("ok\n")
            child.stdin.flush()
            continue
        if "began" in message:
            message["server"] = _server_seconds(server, message["began"], message["ended"])
        cycles[message["cycle"]] = message
    if child.wait() != 0:
        raise RuntimeError(f"the scale child failed with exit code {child.returncode}")
    return cycles


def _warm(server: LookalikeServer, authors: Any) -> None:
    """Have the look-alike build its search index for the corpus as it now is (a minute
    at a million papers), outside every timed cycle: it is the test server's cost, not the
    harvester's, and a request waiting for it would time out."""
    query = f'au:"{authors[0].name}"'
    requests.get(server.url, params={"search_query": query, "max_results": 1}, timeout=900)


def _server_seconds(server: LookalikeServer, began: float, ended: float) -> float:
    return sum(r.seconds for r in server.requests if began <= r.time <= ended)


def _row(name: str, cycle: dict[str, Any]) -> list[object]:
    wall, served = cycle["wall"], cycle.get("server", 0.0)
    return [
        name,
        cycle.get("requests", ""),
        cycle.get("statements", ""),
        f"{wall:.2f}",
        f"{served:.2f}",
        f"{wall - served:.2f}",
        f"{cycle['rss']:.0f}",
        cycle.get("note", ""),
    ]


def _local(cycle: dict[str, Any]) -> float:
    return float(cycle["wall"] - cycle.get("server", 0.0))


def _print_summary(
    cycles: dict[str, dict[str, Any]], size: int, naive: int | None, papers: int
) -> None:
    cold, steady, few = (cycles[k] for k in ("cold", "steady", "few-new"))
    full = cycles.get("full")
    day = cycles.get("next day")
    render_cycle = cycles["render"]
    full_derive = cycles["derive (full)"]
    print(
        f"cold import: {papers / cold['wall']:,.0f} papers/s (wall), peak RSS {cold['rss']:.0f} MB"
    )
    peak = max(c["rss"] for c in cycles.values())
    print(f"peak RSS over the whole run: {peak:.0f} MB")
    print(
        f"steady: {steady['requests']} request{'s' if steady['requests'] != 1 else ''}"
        + (
            f" (naive script: {naive}, {naive / max(1, steady['requests']):.0f}x more)"
            if naive
            else ""
        )
        + f", local {_local(steady):.2f} s"
        + (
            f"; full re-plan (baseline) local {_local(full):.2f} s, "
            f"ratio {_local(steady) / _local(full):.2f}"
            if full
            else "; full re-plan not run (--scale-skip-full)"
        )
    )
    print(
        f"few-new: local {_local(few):.2f} s = steady + {_local(few) - _local(steady):.2f} s "
        f"(derived data: {few['derive']:.2f} s; full recompute {full_derive['wall']:.2f} s, "
        f"peak RSS {full_derive['peak']:.0f} MB in its own process)"
    )
    if day:
        print(
            f"a day's requests with its scheduled reconciliations: {day['requests']}"
            + (f" (naive script: {naive})" if naive else "")
        )
    print(
        f"render (load + text + html): worst {render_cycle['worst_ms']:.1f} ms over "
        f"{render_cycle['rendered']} profiles (largest: {render_cycle['largest_papers']} papers); "
        f"worst median of {RENDER_REPEAT}: {render_cycle['worst_median_ms']:.1f} ms; "
        f"full garbage collections: {render_cycle['full_collections']}, worst render none "
        f"fell in: {render_cycle['worst_unpaused_ms']:.1f} ms"
    )
    status = cycles["status"]
    print(f"harvest status: {status['status_s']:.2f} s for {status['authors']:,} authors")
    print(f"database size: {size / 1e6:,.0f} MB")


@contextmanager
def _database(kind: str, workdir: Path, *, keep: bool = False) -> Iterator[str]:
    """A new database for the run: a SQLite file in ``workdir``, or a PostgreSQL schema,
    dropped at the end unless ``keep`` (``--scale-keep``: measured again later)."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'harvester.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}"
    finally:
        if keep:
            print(f"kept: PostgreSQL schema {schema} (config in {workdir})", flush=True)
        else:
            with admin.connect() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def _database_size(url: str) -> int:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stmt = text(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm')"
            )
            return int(conn.execute(stmt).scalar_one())
    finally:
        engine.dispose()


# --- the child: the harvester, as harvest --once runs it ----------------------------------


def scale_child(config: str, *, skip_full: bool = False, brief: bool = False) -> None:
    from bench_cycle import new_database, peak_rss_mb

    settings = load_settings(Path(config), {})
    new_database(settings)
    out = sys.stdout
    store = Store.open(settings.database.url)
    _count_statements(store.engine)
    try:
        _emit(out, "cold", _timed(lambda: _cycle(settings, store, derive=False)), peak_rss_mb())
        derived = _full_recompute(config)
        _emit(out, "derive (full)", derived, derived["peak"])
        _emit(out, "steady", _timed(lambda: _cycle(settings, store)), peak_rss_mb())
        if not brief:
            _emit(out, "steady (profiled)", _profiled(settings, store), peak_rss_mb())
            for name, row in process_cycles(Path(config)):
                _emit(out, name, row, row.get("peak", children_peak_rss_mb()))
        _ask(out, "new papers")
        _emit(out, "few-new", _few_new(settings, store), peak_rss_mb())
        tomorrow = datetime.now(UTC) + timedelta(days=1)
        if not brief:
            day = _timed(lambda: _cycle(settings, store, derive=False, clock=lambda: tomorrow))
            _emit(out, "next day", {**day, "note": "derived data not refreshed"}, peak_rss_mb())
        if not skip_full:
            later = tomorrow + timedelta(hours=1)
            full = _timed(
                lambda: _cycle(settings, store, derive=False, full=True, clock=lambda: later)
            )
            _emit(out, "full", {**full, "note": "derived data not refreshed"}, peak_rss_mb())
        _emit(out, "render", _render(settings, store), peak_rss_mb())
        _emit(out, "status", _status(settings), peak_rss_mb())
    finally:
        store.close()


def _full_recompute(config: str) -> dict[str, Any]:
    """``harvest refresh --all`` in its own process: the derived data computed from
    scratch, its wall time and its own peak RSS (not the cold import's)."""
    harvest = str(Path(sys.executable).parent / "harvest")
    run = measured_run([sys.executable, harvest, "--config", config, "refresh", "--all"])
    note = f"harvest refresh --all: peak RSS {run.peak_mb:.0f} MB"
    return {"wall": run.seconds, "peak": run.peak_mb, "note": note}


def _cycle(settings: Settings, store: Store, *, derive: bool = True, **options: Any) -> int:
    report = harvest_once(settings, store, CycleOptions(**options), derive=derive)
    if report.exit_code != 0:
        problems = [a.line() for a in report.authors if a.status != "ok"][:5]
        raise RuntimeError("harvest cycle not complete: " + "; ".join(problems))
    return sum(a.requests for a in report.authors)


_STATEMENTS = [0]
"""Statements the child's store sent to the database (each executemany and each
``COPY``'s statement counts once): the round trips a cycle costs, roughly."""


def _count_statements(engine: Engine) -> None:
    """Count every statement ``engine`` executes (:data:`_STATEMENTS`); the benchmark's
    own, never the harvester's."""

    def count(*_: Any) -> None:
        _STATEMENTS[0] += 1

    event.listen(engine, "before_cursor_execute", count)


def _timed(run: Any) -> dict[str, Any]:
    began, statements = time.monotonic(), _STATEMENTS[0]
    requests = run()
    ended = time.monotonic()
    return {
        "began": began,
        "ended": ended,
        "wall": ended - began,
        "requests": requests,
        "statements": _STATEMENTS[0] - statements,
    }


def _few_new(settings: Settings, store: Store) -> dict[str, Any]:
    """The few-new cycle, and how much of it the derived data took."""
    derive: list[float] = []

    def run() -> int:
        requests = _cycle(settings, store, derive=False)
        began = time.monotonic()
        after_cycle(settings, store)
        derive.append(time.monotonic() - began)
        return requests

    cycle = _timed(run)
    return {**cycle, "derive": derive[0], "note": f"derived data {derive[0]:.2f} s"}


def _profiled(settings: Settings, store: Store) -> dict[str, Any]:
    profiler = cProfile.Profile()
    cycle = _timed(lambda: profiler.runcall(_cycle, settings, store))
    return {**cycle, "note": "under cProfile", "breakdown": _breakdown(profiler)}


def _breakdown(profiler: cProfile.Profile) -> str:
    """The harvester's functions with the most cumulative time, then the functions of any
    library with the most time of their own, one line each."""
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    cumulative, own = [], []
    for (path, line, name), row in stats.items():
        where = f"{_short(path)}:{line} {name}"
        own.append((row[2], where))
        if "/harvester/" in path:
            cumulative.append((row[3], where))
    lines = ["  cumulative, harvester functions:"]
    lines += [f"  {s:7.3f}  {w}" for s, w in sorted(cumulative, reverse=True)[:BREAKDOWN_LINES]]
    lines.append("  own time, any function:")
    lines += [f"  {s:7.3f}  {w}" for s, w in sorted(own, reverse=True)[:BREAKDOWN_LINES]]
    return "\n".join(lines)


def _short(path: str) -> str:
    for marker in ("/harvester/", "/site-packages/", "/lib/python3"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _render(settings: Settings, store: Store) -> dict[str, Any]:
    """Worst load + render time (text and html) over the largest and some random profiles
    (``scripts/explain_queries.py render``'s way): the first of each, and the median."""
    largest, sample = sample_keys(settings, store)
    keys = list(dict.fromkeys(largest + sample))
    render(load_profile(store, keys[0]), "html")  # the renderers' imports: not a render's
    renders = timed_renders(store, keys)
    _, worst, worst_median = renders.worst()
    return {
        "wall": 0.0,
        "worst_ms": worst * 1000,
        "worst_median_ms": worst_median * 1000,
        "worst_unpaused_ms": renders.worst_unpaused() * 1000,
        "full_collections": renders.paused(),
        "rendered": len(keys),
        "largest_papers": max(renders.papers.values()),
    }


def _status(settings: Settings) -> dict[str, Any]:
    """``harvest status`` for every author, as the command reads it (a reading store)."""
    began = time.perf_counter()
    reader = Store.reader(settings.database.url)
    try:
        report = collect_status(reader, settings, datetime.now(UTC))
    finally:
        reader.close()
    return {"status_s": time.perf_counter() - began, "authors": len(report.authors)}


def _emit(out: IO[str], cycle: str, values: dict[str, Any], rss: float) -> None:
    out.write(json.dumps({"cycle": cycle, **values, "rss": rss}) + "\n")
    out.flush()


def _ask(out: IO[str], what: str) -> None:
    out.write(json.dumps({"ask": what}) + "\n")
    out.flush()
    if sys.stdin.readline().strip() != "ok":
        raise RuntimeError(f"the parent did not answer: {what}")
