"""Measure a harvest of the seed profile against the local look-alike.

Prints, for the configured page size and delay (defaults: those of config/harvester.toml):
requests made, the wall time of the harvest, the wall time the same requests would take at
arXiv's delay, and the time spent outside the network, with the bare HTTP time of the same
pages (fetched with plain ``requests`` in the same run) as the baseline.

    .venv/bin/python scripts/measure_seed.py [--page-size 200] [--delay 3.0] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import requests

from arxiv_lookalike import LookalikeServer, seed_corpus
from harvester.config import parse_settings
from harvester.cycle import harvest_once
from harvester.store import Store

AUTHOR = {"key": "kakade", "name": "Sham Kakade", "aliases": ["Sham M. Kakade", "Sham M Kakade"]}


def timed_harvest(url: str, db: Path, page_size: int, delay: float) -> float:
    data = {
        "database": {"url": f"sqlite:///{db}"},
        "arxiv": {"api_url": url, "page_size": page_size, "delay_seconds": delay},
        "authors": [AUTHOR],
    }
    settings = parse_settings(data, Path("<measure>"), {})
    store = Store.open(settings.database.url)
    store.upgrade()
    try:
        started = time.perf_counter()
        report = harvest_once(settings, store, derive=False)
        elapsed = time.perf_counter() - started
    finally:
        store.close()
    assert report.exit_code == 0, report
    return elapsed


def bare_fetch(server: LookalikeServer, targets: list[str]) -> float:
    started = time.perf_counter()
    with requests.Session() as session:
        for target in targets:
            session.get(server.base_url + target, timeout=30).raise_for_status()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--delay", type=float, default=3.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    harvests, bares, requests_made = [], [], 0
    with LookalikeServer(seed_corpus()) as server, tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            server.clear_requests()
            elapsed = timed_harvest(server.url, Path(tmp) / f"{run}.db", args.page_size, 0.0)
            targets = [f"{r.path}?{r.query}" for r in server.requests]
            requests_made = len(targets)
            harvests.append(elapsed)
            bares.append(bare_fetch(server, targets))
    harvest, bare = statistics.median(harvests), statistics.median(bares)
    at_delay = max(0, requests_made - 1) * args.delay + harvest
    print(f"page_size={args.page_size} delay={args.delay:g}s runs={args.runs}")
    print(f"requests made:                     {requests_made}")
    print(f"harvest wall time (delay 0):       {harvest * 1000:8.1f} ms (median)")
    print(f"bare HTTP time of the same pages:  {bare * 1000:8.1f} ms (median, baseline)")
    print(f"time outside the network:          {(harvest - bare) * 1000:8.1f} ms")
    print(f"harvest / bare HTTP ratio:         {harvest / bare:8.2f}")
    print(f"wall time at delay {args.delay:g}s:            {at_delay:8.2f} s")


if __name__ == "__main__":
    main()
