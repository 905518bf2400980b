"""Benchmark bulk mode (issue 26): OAI-PMH cycles and ``harvest import``.

Two parts, on synthetic corpora (:mod:`arxiv_lookalike.synthetic`: one tracked author per
paper, no namesakes):

1. **import**: ``harvest import FILE --no-match`` of N snapshot records (the look-alike's
   corpus written as arXiv's metadata snapshot, :mod:`arxiv_lookalike.snapshot`, gzip) in a
   child process: records a second, and the child's peak RSS (``ru_maxrss`` of the
   children), on SQLite or PostgreSQL.
2. **delta**: a daily delta of D new papers by tracked authors, served by the look-alike's
   ``/oai`` (page size 2,500 as arXiv's), harvested by an OAI-PMH cycle (``run_oai_cycle``,
   the production path) for A tracked authors, on a database that already holds the
   import's papers (``--with-import``) or none. It reports the requests and the cycle's
   local time (wall time less the server's own time per request).

::

    .venv/bin/python scripts/bench_oai.py snapshot --records 1000000 --out /tmp/s.jsonl.gz
    .venv/bin/python scripts/bench_oai.py import --snapshot /tmp/s.jsonl.gz --db sqlite
    .venv/bin/python scripts/bench_oai.py delta --authors 1000 100000 --delta 3000
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.snapshot import write_snapshot
from arxiv_lookalike.synthetic import add_new_papers, author_config, synthetic_corpus
from harvester.config import parse_settings
from harvester.cycle import CycleOptions, open_source, run_oai_cycle
from harvester.store import Store

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DAY = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)


def database(kind: str, folder: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}"
    schema = f"bench_{os.getpid()}"
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return f"{PG_URL}?options=-csearch_path%3D{schema}"


def drop(url: str) -> None:
    if "search_path" not in url:
        return
    from sqlalchemy import create_engine, text

    schema = url.rsplit("%3D", 1)[1]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


def write_config(folder: Path, url: str, authors: list[dict[str, str]], oai_url: str) -> Path:
    lines = [f'[database]\nurl = "{url}"\n', '[arxiv]\ndelay_seconds = 0\n',
             f'[harvest]\nsource = "oai"\n\n[oai]\nurl = "{oai_url}"\n']  # fmt: skip
    for author in authors:
        lines.append(f'[[authors]]\nkey = "{author["key"]}"\nname = "{author["name"]}"\n')
    path = folder / "harvester.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def snapshot_of(records: int, folder: Path) -> tuple[Path, Corpus, list[Any]]:
    started = time.monotonic()
    corpus, authors = synthetic_corpus(max(1, records // 100), 100 if records >= 100 else records)
    path = folder / "snapshot.jsonl.gz"
    write_snapshot(corpus, path, gzipped=True)
    size = path.stat().st_size / 1e6
    print(f"  snapshot of {len(corpus)} records written ({size:.0f} MB gzip) in "
          f"{time.monotonic() - started:.0f} s", flush=True)  # fmt: skip
    return path, corpus, authors


def run_import(records: int, kind: str, snapshot: Path | None) -> None:
    """The import in a child process; the snapshot is written by another child first, so
    this process stays small (a child's ``ru_maxrss`` counts what it had at fork time)."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = snapshot or folder / "snapshot.jsonl.gz"
        if snapshot is None or not snapshot.exists():
            script = Path(__file__).resolve()
            subprocess.run([sys.executable, script, "snapshot", "--records", str(records),
                            "--out", path], check=True)  # fmt: skip
        url = database(kind, folder)
        try:
            one = [{"key": "a0000", "name": "Nobody Tracked"}]
            config = write_config(folder, url, one, "http://127.0.0.1:9/oai")
            harvest = Path(sys.executable).parent / "harvest"
            subprocess.run([harvest, "--config", config, "-q", "db", "upgrade"], check=True)
            started = time.monotonic()
            done = subprocess.run(
                [harvest, "--config", config, "import", path, "--no-match"],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            seconds = time.monotonic() - started
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"  {done.stdout.strip().splitlines()[-1]}", flush=True)
            print(f"import {kind}: {seconds:.1f} s in all; peak RSS {peak:.0f} MB", flush=True)
        finally:
            drop(url)


def write_only(records: int, out: Path) -> None:
    folder = out.parent
    path, _, _ = snapshot_of(records, folder)
    path.rename(out)


def run_delta(
    author_counts: list[int], delta: int, kind: str, imported: int, snapshot: Path | None
) -> None:
    for count in author_counts:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            url = database(kind, folder)
            try:
                _delta_once(folder, url, count, delta, imported, snapshot)
            finally:
                drop(url)


def _delta_once(
    folder: Path, url: str, count: int, delta: int, imported: int, snapshot: Path | None
) -> None:
    _, authors = synthetic_corpus(count, 1, end=DAY - timedelta(days=30))
    store = Store.open(url)
    store.upgrade()
    if imported or snapshot:
        from harvester.cycle import import_snapshot

        path = snapshot or snapshot_of(imported, folder)[0]
        settings = _settings(url, authors, "http://127.0.0.1:9/oai")
        report = import_snapshot(settings, store, path)
        print(f"  {report.line()}", flush=True)
    stored = store.row_counts()["paper"]
    served = Corpus()
    add_new_papers(served, authors, delta, published=DAY - timedelta(hours=20))
    with LookalikeServer(served, clock=lambda: DAY) as server:
        settings = _settings(url, authors, server.oai_url)
        store.record_oai_window("", (DAY - timedelta(days=2)).date(), DAY)  # yesterday's cycle
        source = open_source(settings, store)
        started = time.monotonic()
        report = run_oai_cycle(settings, store, source, CycleOptions(clock=lambda: DAY))
        wall = time.monotonic() - started
        source.close()
        server_time = sum(r.seconds for r in server.requests)
        requests = len(server.requests)
    new = sum(r.paper_count or 0 for r in report.authors)
    local = wall - server_time
    print(f"delta: {delta} records, {count} authors, {stored} papers stored before: "
          f"{requests} requests, {new} papers in the profiles, local time {local:.1f} s "
          f"(wall {wall:.1f} s, server {server_time:.1f} s)", flush=True)  # fmt: skip
    store.close()


def _settings(url: str, authors: list[Any], oai_url: str) -> Any:
    data = {
        "database": {"url": url},
        "arxiv": {"delay_seconds": 0, "timeout_seconds": 120},
        "authors": author_config(authors),
        "harvest": {"source": "oai"},
        "oai": {"url": oai_url},
    }
    return parse_settings(data, Path("<bench>"), {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("part", choices=["import", "delta", "snapshot"])
    parser.add_argument("--out", type=Path, help="snapshot: the file to write")
    parser.add_argument(
        "--snapshot", type=Path, help="import, delta: store this snapshot file (delta: first)"
    )
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--authors", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--delta", type=int, default=3000)
    parser.add_argument("--with-import", type=int, default=0, metavar="RECORDS")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.part == "snapshot":
        write_only(args.records, args.out)
    elif args.part == "import":
        run_import(args.records, args.db, args.snapshot)
    else:
        run_delta(args.authors, args.delta, args.db, args.with_import, args.snapshot)


if __name__ == "__main__":
    main()
