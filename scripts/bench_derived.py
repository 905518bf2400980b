"""The similar authors' cost on a harvested database: a full recompute, or a refresh by change.

Run it on a copy of a database (it writes the similar authors, and ``change`` notes papers
as changed), one process a measure, so the peak memory printed is that measure's::

    cp harvester.db /tmp/copy.db
    .venv/bin/python scripts/bench_derived.py full sqlite:////tmp/copy.db
    .venv/bin/python scripts/bench_derived.py change sqlite:////tmp/copy.db --papers 5

``full`` is ``harvest refresh --all`` (a new model, every list); ``same-model`` recomputes
every list with the stored model; ``change`` notes ``--papers`` papers of random profiles
as changed, as a harvest that rewrote them would, then refreshes by change (``--profile``
prints where the time went). To compare two versions of the code on the same database, run
each on its own copy, the older with ``PYTHONPATH`` pointing at its checkout.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import time
from pathlib import Path

import harvester
from harvester.profile import refresh_similar_authors
from harvester.store import Store
from harvester.store.papers import log_changes


def peak_rss_mb() -> float:
    """This process's peak resident set size so far (``VmHWM``), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def note_changes(store: Store, papers: int, seed: int) -> list[str]:
    """Note one paper of each of ``papers`` random profiles as changed."""
    rng = random.Random(seed)
    with store.corpus() as rows:
        keys = rng.sample([key for key, _ in rows.tracked_profiles()], papers)
        ids = [rng.choice(sorted({i for _, i, _ in rows.memberships(keys=[k])})) for k in keys]
    with store.engine.begin() as conn:
        log_changes(conn, ids)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=("full", "same-model", "change"))
    parser.add_argument("url", help="a copy of a harvested database")
    parser.add_argument("--papers", type=int, default=5, help="papers noted as changed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="under cProfile")
    args = parser.parse_args()
    store = Store.open(args.url)
    if args.mode == "change":
        note_changes(store, args.papers, args.seed)
    everything = args.mode != "change"
    refit = args.mode == "full"
    began = time.monotonic()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.runcall(refresh_similar_authors, store, everything=everything, refit=refit)
    else:
        refresh_similar_authors(store, everything=everything, refit=refit)
    wall = time.monotonic() - began
    store.close()
    print(f"code: {Path(harvester.__file__).parent}")
    print(f"{args.mode}: {wall:.2f} s, peak RSS {peak_rss_mb():.0f} MB")
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
