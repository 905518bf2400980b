"""Build the million-paper database of the scale benchmark without a cold harvest.

The cold harvest of ``scripts/bench_cycle.py --parts scale --scale-authors 10000
--scale-papers 100`` takes 15 to 40 minutes on this machine before anything can be
measured. The same synthetic corpus (:func:`arxiv_lookalike.synthetic.synthetic_corpus`,
10,000 authors x 100 papers, seed 0) is written as arXiv's metadata snapshot and stored
with ``harvest import`` instead: the papers by batches (``COPY`` on PostgreSQL), then
matched against the 10,000 tracked authors as a harvest's answer would be
(:func:`harvester.cycle.match_stored`: memberships, profiles, counts, runs), then
``harvest refresh`` computes the derived data (similar authors) as after a cycle. Each
step is the real command, in a child process (``harvest --config ...``).

What is built, and kept for whoever measures next:

* ``bench-million/million.jsonl.gz``: the snapshot (written once, reused);
* ``bench-million/million.sqlite``: SQLite, with ``bench-million/million-sqlite.toml``;
* PostgreSQL database ``bench_million`` (127.0.0.1:5432, user postgres), with
  ``bench-million/million-postgresql.toml``.

Each config tracks the 10,000 authors; its ``[arxiv] api_url`` points at a closed port
(start the look-alike and change it to harvest). Then the script checks that the database
is the kind a cold harvest makes (papers per profile, memberships, counts, similar
authors) and prints it::

    .venv/bin/python scripts/bench_million.py --db postgresql
    .venv/bin/python scripts/bench_million.py --db sqlite
    .venv/bin/python scripts/bench_million.py --db postgresql --check   # only the check
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from arxiv_lookalike.snapshot import write_snapshot
from arxiv_lookalike.synthetic import synthetic_corpus

BENCH = Path(os.environ.get("HARVESTER_BENCH_DIR", "bench-million"))
"""Where the databases, their configs and the snapshot are kept (not in git)."""
SNAPSHOT = BENCH / "million.jsonl.gz"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "bench_million"
URLS = {
    "sqlite": f"sqlite:///{BENCH / 'million.sqlite'}",
    "postgresql": f"postgresql+psycopg://postgres@127.0.0.1:5432/{PG_DATABASE}",
}
CLOSED_PORT = "http://127.0.0.1:9/api/query"
MATCH_SLICE = 1000
"""Tracked authors matched by one ``harvest import`` run (the import itself is done, so
the run only matches): a run holds the papers naming its authors, 100,000 here, rather
than the whole million at once."""


def build(
    kind: str,
    authors_n: int,
    papers_n: int,
    seed: int,
    *,
    keep_papers: bool,
    match: tuple[int, int],
    refresh: bool,
) -> None:
    BENCH.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    _, authors = synthetic_corpus(authors_n, papers_n, seed=seed)
    if not SNAPSHOT.exists():
        corpus, _ = synthetic_corpus(authors_n, papers_n, seed=seed)
        partial = SNAPSHOT.with_suffix(".partial")
        write_snapshot(corpus, partial, gzipped=True)
        partial.rename(SNAPSHOT)
        del corpus
        print(f"snapshot written: {SNAPSHOT} in {time.monotonic() - started:.0f} s", flush=True)
    if not keep_papers:
        _fresh(kind)
    kept = _config(kind, authors, BENCH / f"million-{kind}.toml")
    harvest = str(Path(sys.executable).parent / "harvest")
    _step(harvest, kept, ["db", "upgrade"])
    _step(harvest, kept, ["import", str(SNAPSHOT), "--no-match"])
    with tempfile.TemporaryDirectory() as tmp:
        for first in range(match[0], min(match[1], len(authors)), MATCH_SLICE):
            part = _config(kind, authors[first : first + MATCH_SLICE], Path(tmp) / "part.toml")
            _step(harvest, part, ["import", str(SNAPSHOT)], what=f"authors {first}..")
    if refresh:
        _step(harvest, kept, ["refresh"])
    print(f"{kind}: built in {time.monotonic() - started:.0f} s", flush=True)


def _config(kind: str, authors: list[Any], path: Path) -> Path:
    from bench_cycle import write_config

    folder = path.parent / f"config-{kind}"
    folder.mkdir(exist_ok=True)
    config = write_config(folder, CLOSED_PORT, authors, database_url=URLS[kind])
    config.rename(path)
    folder.rmdir()
    return path


def _step(harvest: str, config: Path, step: list[str], what: str = "") -> None:
    """One ``harvest`` command; its time, and its first and last lines."""
    began = time.monotonic()
    done = subprocess.run([harvest, "--config", str(config), *step],
                          capture_output=True, text=True)  # fmt: skip
    seconds = time.monotonic() - began
    out = [line for line in done.stdout.strip().splitlines() if "papers stored" not in line]
    print(f"$ harvest {' '.join(step)} {what}: exit {done.returncode}, {seconds:.0f} s", flush=True)
    for line in out if len(out) <= 4 else [*out[:2], "...", *out[-2:]]:
        print(f"  {line}")
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"harvest {step[0]} failed ({done.returncode})")


def _fresh(kind: str) -> None:
    if kind == "sqlite":
        path = BENCH / "million.sqlite"
        for old in path.parent.glob(path.name + "*"):
            old.unlink()
        return
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE}"))
        conn.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
    admin.dispose()


CHECKS = {
    "papers": "SELECT COUNT(*) FROM paper",
    "authors": "SELECT COUNT(*) FROM author",
    "memberships by status": "SELECT status, COUNT(*) FROM membership GROUP BY status",
    "active papers a profile (min, avg, max)": (
        "SELECT MIN(n), AVG(n), MAX(n) FROM (SELECT author_key, COUNT(*) AS n FROM membership "
        "WHERE status = 'active' GROUP BY author_key) AS t"
    ),
    "count changes": "SELECT COUNT(*) FROM count_change",
    "runs by status": "SELECT status, COUNT(*) FROM run GROUP BY status",
    "similar-author rows, profiles with a list": (
        "SELECT COUNT(*), COUNT(DISTINCT author_key) FROM similar_author"
    ),
}


def copy_to_sqlite() -> None:
    """The SQLite database as a copy of the PostgreSQL one, row for row (every table, in
    foreign-key order, through the schema's own types): the two engines then hold the same
    profiles, and a read is compared on the same data. An import and a match on SQLite
    take as long again on the shared machine."""
    from harvester.store import Store
    from harvester.store.schema import metadata

    _fresh("sqlite")
    Store.open(URLS["sqlite"]).upgrade()
    source, target = create_engine(URLS["postgresql"]), create_engine(URLS["sqlite"])
    skipped = {"alembic_version", "calendar_month", "ordinal"}  # written by the migrations
    with source.connect() as read, target.begin() as write:
        for table in metadata.sorted_tables:
            if table.name in skipped:
                continue
            began, copied = time.monotonic(), 0
            rows = read.execution_options(stream_results=True, yield_per=20_000)
            for part in rows.execute(table.select()).mappings().partitions(20_000):
                write.execute(table.insert(), [dict(r) for r in part])
                copied += len(part)
            print(f"  {table.name}: {copied} rows in {time.monotonic() - began:.0f} s", flush=True)
    source.dispose()
    target.dispose()


def check(kind: str) -> None:
    """What a cold harvest leaves: every profile with its ~100 papers, counts, runs, lists."""
    engine = create_engine(URLS[kind])
    with engine.connect() as conn:
        for what, sql in CHECKS.items():
            try:
                rows = [tuple(r) for r in conn.execute(text(sql))]
            except Exception as exc:  # a table named otherwise: say so, go on
                conn.rollback()
                rows = [(f"not read: {type(exc).__name__}",)]
            print(f"  {what}: {rows}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=sorted(URLS), required=True)
    parser.add_argument("--authors", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--check", action="store_true", help="only check what is there")
    parser.add_argument(
        "--keep-papers", action="store_true", help="keep the database's papers (a resumed build)"
    )
    parser.add_argument(
        "--match", type=int, nargs=2, default=[0, 10**9], metavar=("FIRST", "END"),
        help="match only the tracked authors FIRST..END-1 (a build done in parts)",
    )  # fmt: skip
    parser.add_argument("--no-refresh", action="store_true", help="leave the derived data")
    parser.add_argument(
        "--copy-from-postgresql", action="store_true",
        help="sqlite: copy the PostgreSQL database's rows instead of importing",
    )  # fmt: skip
    args = parser.parse_args()
    if args.copy_from_postgresql:
        copy_to_sqlite()
    elif not args.check:
        build(args.db, args.authors, args.papers, args.seed, keep_papers=args.keep_papers,
              match=tuple(args.match), refresh=not args.no_refresh)  # fmt: skip
    check(args.db)


if __name__ == "__main__":
    main()
