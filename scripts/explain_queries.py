"""The statements a profile render and ``harvest status`` run, counted, timed and explained.

On a database that already holds a harvest (the million-paper one of
``scripts/bench_million.py`` by default), with the 10,000 tracked authors of its config:

* ``render``: the scale benchmark's render (``scripts/bench_scale.py`` ``_render``: load +
  text + html) of the largest 50 and 50 random profiles: the worst and median times, and
  the statements each profile render runs (a SQLAlchemy ``before_cursor_execute`` hook, here
  in the benchmark only); ``--profile`` adds a cProfile of the worst profile's render.
* ``explain``: every statement that the render of the largest profile, of a random one and
  ``harvest status`` run, captured by the same hook as the real code runs it, then run again
  under ``EXPLAIN (ANALYZE, BUFFERS)`` with its real parameters (PostgreSQL; SQLite gets
  ``EXPLAIN QUERY PLAN``): each plan's execution time and every sequential scan of a large
  table (over 10,000 rows), then the plans themselves (``--plans``).

::

    .venv/bin/python scripts/explain_queries.py render --profile
    .venv/bin/python scripts/explain_queries.py explain --plans
    .venv/bin/python scripts/explain_queries.py render --config bench-million/million-sqlite.toml
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import random
import re
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Engine, event, text

from harvester.config import Settings, load_settings
from harvester.profile import load_profile, render
from harvester.status import collect_status
from harvester.store import Store

RENDER_SAMPLE = 50
LARGE_TABLE = 10_000
"""A sequential scan of a table with more rows than this is worth a line."""
DEFAULT_CONFIG = (
    Path(os.environ.get("HARVESTER_BENCH_DIR", "bench-million")) / "million-postgresql.toml"
)
"""The PostgreSQL config ``scripts/bench_million.py`` writes."""


@contextmanager
def captured() -> Iterator[list[tuple[str, Any]]]:
    """Every statement any engine runs meanwhile, with its parameters."""
    seen: list[tuple[str, Any]] = []

    def note(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        seen.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


def render_one(store: Store, key: str) -> int:
    profile = load_profile(store, key)
    render(profile, "text")
    render(profile, "html")
    return len(profile.papers)


def sample_keys(settings: Settings, store: Store) -> tuple[list[str], list[str]]:
    """The largest profiles (by active papers) and as many at random (seed 0), as the
    scale benchmark picks them."""
    keys = [a.key for a in settings.authors]
    rng = random.Random(0)
    sample = rng.sample(keys, min(RENDER_SAMPLE, len(keys)))
    with store.engine.connect() as conn:
        stmt = text(
            "SELECT author_key FROM membership WHERE status = 'active' "
            "GROUP BY author_key ORDER BY COUNT(*) DESC, author_key LIMIT :n"
        )
        largest = [r[0] for r in conn.execute(stmt, {"n": RENDER_SAMPLE})]
    return largest, sample


RENDER_REPEAT = 3
"""Renders of each profile: the first (nothing of it cached) gives the worst render; the
median of the three, worst over the profiles, is the same figure without one-off pauses
(a garbage collection, the shared machine's other work)."""


class FullCollections:
    """The interpreter's full (generation 2) garbage collections while it is installed as a
    ``gc`` callback: each pauses whichever render is running, whatever the database (27 ms
    at a million papers on either engine), and falls where the count of allocations says."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._began)


@dataclass
class Renders:
    """Each profile's render times, its papers, and the full collections within each render."""

    times: dict[str, list[float]] = field(default_factory=dict)
    papers: dict[str, int] = field(default_factory=dict)
    pauses: dict[str, list[float]] = field(default_factory=dict)

    def worst(self) -> tuple[str, float, float]:
        """The profile of the worst first render, that render, and the worst median."""
        times = self.times
        worst = max(times, key=lambda key: times[key][0])
        return worst, times[worst][0], max(statistics.median(t) for t in times.values())

    def worst_unpaused(self) -> float:
        """The worst first render of those no full collection fell in."""
        firsts = [t[0] for key, t in self.times.items() if not self.pauses[key][0]]
        return max(firsts, default=0.0)

    def paused(self) -> str:
        """The full collections, and in which render each fell."""
        found = [
            f"{pause * 1000:.0f} ms in {key}'s render {i + 1}"
            for key, pauses in self.pauses.items()
            for i, pause in enumerate(pauses)
            if pause
        ]
        return f"{len(found)} ({'; '.join(found)})" if found else "none"


def timed_renders(store: Store, keys: list[str]) -> Renders:
    """Each profile rendered :data:`RENDER_REPEAT` times: its times, its papers, and the
    interpreter's full collections that fell in each render."""
    renders, collections = Renders(), FullCollections()
    gc.callbacks.append(collections)
    try:
        for key in keys:
            for _ in range(RENDER_REPEAT):
                before = len(collections.pauses)
                began = time.perf_counter()
                renders.papers[key] = render_one(store, key)
                renders.times.setdefault(key, []).append(time.perf_counter() - began)
                renders.pauses.setdefault(key, []).append(sum(collections.pauses[before:]))
    finally:
        gc.callbacks.remove(collections)
    return renders


def run_render(settings: Settings, *, profile: bool) -> None:
    store = Store.open(settings.database.url)
    try:
        largest, sample = sample_keys(settings, store)
        keys = list(dict.fromkeys(largest + sample))
        render_one(store, keys[0])  # a warm connection pool, as a running command has
        counts: dict[str, int] = {}
        for key in keys:
            with captured() as seen:
                render_one(store, key)
            counts[key] = len(seen)
        renders = timed_renders(store, keys)
        times, papers = renders.times, renders.papers
        worst, first, median = renders.worst()
        dialect = store.engine.dialect.name
        print(
            f"render (load + text + html) of {len(keys)} profiles ({dialect}): "
            f"worst {first * 1000:.1f} ms ({worst}, {papers[worst]} papers), worst median of "
            f"{RENDER_REPEAT} {median * 1000:.1f} ms, median of all "
            f"{statistics.median(t for ts in times.values() for t in ts) * 1000:.1f} ms; "
            f"statements a profile: {min(counts.values())} to {max(counts.values())}; "
            f"largest profile {max(papers.values())} papers; full garbage collections: "
            f"{renders.paused()}, worst render none fell in "
            f"{renders.worst_unpaused() * 1000:.1f} ms"
        )
        if profile:
            profiler = cProfile.Profile()
            profiler.runcall(render_one, store, worst)
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
    finally:
        store.close()


def run_explain(settings: Settings, *, plans: bool) -> None:
    store = Store.open(settings.database.url)
    try:
        largest, sample = sample_keys(settings, store)
        render_one(store, largest[0])
        statements: list[tuple[str, str, Any]] = []
        for what, key in (("profile (largest)", largest[0]), ("profile (random)", sample[0])):
            with captured() as seen:
                render_one(store, key)
            statements += [(f"{what} {key}", s, p) for s, p in seen]
        with captured() as seen:
            reader = Store.reader(settings.database.url)
            try:
                report = collect_status(reader, settings, datetime.now(UTC))
            finally:
                reader.close()
        statements += [(f"status ({len(report.authors)} authors)", s, p) for s, p in seen]
        explain_all(store, statements, plans=plans)
    finally:
        store.close()


def explain_all(store: Store, statements: list[tuple[str, str, Any]], *, plans: bool) -> None:
    postgres = store.engine.dialect.name == "postgresql"
    with store.engine.connect() as conn:
        sizes = _table_sizes(conn) if postgres else {}
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        total = 0.0
        for number, (what, statement, parameters) in enumerate(statements, 1):
            if not re.match(r"\s*(SELECT|WITH)\b", statement, re.IGNORECASE):
                print(f"#{number} {what}: not a query, not explained: {_one_line(statement)[:80]}")
                continue
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
            cursor.execute(prefix + statement, parameters or ())
            lines = [str(r[0]) if postgres else " ".join(map(str, r)) for r in cursor.fetchall()]
            seconds = _execution_ms(lines)
            total += seconds
            scans = [s for s in _seq_scans(lines) if sizes.get(s, 0) > LARGE_TABLE or not postgres]
            flag = f"; Seq Scan on large table(s): {', '.join(sorted(set(scans)))}" if scans else ""
            print(f"#{number} {what}: {seconds:.2f} ms{flag}\n    {_one_line(statement)[:160]}")
            if plans:
                print("\n".join("      " + line for line in lines))
        conn.rollback()
    print(f"{len(statements)} statements, {total:.1f} ms of execution in all")


def _table_sizes(conn: Any) -> dict[str, int]:
    rows = conn.execute(
        text(
            "SELECT c.relname, c.reltuples FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname = current_schema()"
        )
    )
    return {name: int(tuples) for name, tuples in rows}


def _execution_ms(lines: list[str]) -> float:
    for line in lines:
        found = re.match(r"Execution Time: ([\d.]+) ms", line.strip())
        if found:
            return float(found.group(1))
    return 0.0


def _seq_scans(lines: list[str]) -> list[str]:
    return [m.group(1) for line in lines if (m := re.search(r"Seq Scan on (\w+)", line))]


def _one_line(statement: str) -> str:
    return " ".join(statement.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["render", "explain"])
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--profile", action="store_true", help="render: cProfile the worst")
    parser.add_argument("--plans", action="store_true", help="explain: print every plan")
    args = parser.parse_args()
    settings = load_settings(args.config, {})
    if args.part == "render":
        run_render(settings, profile=args.profile)
    else:
        run_explain(settings, plans=args.plans)


if __name__ == "__main__":
    main()
