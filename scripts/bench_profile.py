"""Benchmark: render profiles from a database of 1,000 profiles and 100,000 papers.

Builds a synthetic SQLite database through the store's own tables (bulk inserts, no
harvest), computes the similar authors the way a harvest cycle does, then times
``load_profile`` + ``render`` (text and html) for a sample of profiles against a
baseline measured in the same run: the bare ``SELECT * FROM profile_papers WHERE
author_key = ?``. Not a test: a number for docs/benchmarks.md. ::

    .venv/bin/python scripts/bench_profile.py                 # 1,000 x 100,000, ~1 min
    .venv/bin/python scripts/bench_profile.py --profiles 100 --papers 10000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, text

from harvester.names import fold_name
from harvester.profile import load_profile, refresh_similar_authors, render
from harvester.store import Store
from harvester.store import schema as t


def _words(text: str) -> list[str]:
    return text.split()


FIRST = _words(
    "Ada Alan Bea Chen Dana Eli Fatima Gil Hana Ivan Jun Kira Lars Mei Nils Omar Priya Quinn "
    "Rosa Sam Tara Umar Vera Wen Xiu Yara Zoe Aiko Bruno Carla Dev Emil Farah Goran Hugo "
    "Ines Jonas Kofi Lena Mateo Nora Otto Paz Rui Sofia Timo Uma Viktor Yusuf"
)
LAST = _words(
    "Abe Baker Costa Diaz Eriksen Fischer Garcia Hoang Ito Jensen Kowalski Larsen Moreau "
    "Novak Okafor Petrov Quint Rossi Sato Tanaka Ueda Varga Weber Xu Yilmaz Zhang Adler "
    "Berg Cruz Dubois Evans Fontaine Gupta Haas Iyer Janssen Kaur Lopez Meyer Nakamura "
    "Olsen Park Reyes Singh Torres Vogel Wagner Young"
)
CATEGORIES = _words(
    "cs.LG stat.ML cs.AI cs.CL cs.CV math.OC cs.DS cs.IT math.ST quant-ph hep-th "
    "cond-mat.stat-mech astro-ph.CO q-bio.NC econ.EM eess.SP physics.soc-ph "
    "cs.RO cs.NE math.PR"
)
START = datetime(2005, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 1, tzinfo=UTC)


class Synthetic:
    """Deterministic names, words, topics and papers."""

    def __init__(self, rng: random.Random, profiles: int) -> None:
        self.rng = rng
        syllables = [a + b for a in "bcdfgklmnprstvz" for b in "aeiou"]
        self.words = sorted(
            {"".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(6000)}
        )
        self.topics = [rng.sample(self.words, 80) for _ in range(60)]
        names = [
            f"{f} {chr(65 + i % 26)}. {la}"
            for i, (f, la) in enumerate((f, la) for f in FIRST for la in LAST)
        ]
        names += [f"{f} {la}" for f in FIRST for la in LAST]
        rng.shuffle(names)
        self.profile_names = names[:profiles]
        self.pool = names[profiles:]

    def text(self, topic: list[str], words: int) -> str:
        mix = [
            self.rng.choice(topic) if self.rng.random() < 0.4 else self.rng.choice(self.words)
            for _ in range(words)
        ]
        return " ".join(mix).capitalize()


def build(store: Store, profiles: int, papers: int, seed: int) -> None:
    rng = random.Random(seed)
    syn = Synthetic(rng, profiles)
    keys = [f"p{i:04d}" for i in range(profiles)]
    circles = [
        rng.sample(syn.pool, 30) + rng.sample([n for n in syn.profile_names if n != own], 3)
        for own in syn.profile_names
    ]
    key_of_name = {name: key for key, name in zip(keys, syn.profile_names, strict=True)}
    now = NOW
    with store.transaction() as conn:
        conn.execute(
            insert(t.author),
            [{"key": k, "name": n} for k, n in zip(keys, syn.profile_names, strict=True)],
        )
        run_ids = _runs(conn, keys, now)
        for batch in _batches(_papers(syn, keys, circles, papers, now), 5000):
            conn.execute(insert(t.paper), [b[0] for b in batch])
            conn.execute(insert(t.paper_author), [a for b in batch for a in b[1]])
            memberships = [_membership(key_of_name, b, now) for b in batch]
            conn.execute(insert(t.membership), [m for ms in memberships for m in ms])
        _events_and_counts(conn, keys, run_ids, now)


def _runs(conn: Connection, keys: list[str], now: datetime) -> dict[str, int]:
    rows = [
        {
            "author_key": k,
            "started_at": now,
            "finished_at": now,
            "status": "ok",
            "requests": 1,
            "entries_seen": 100,
            "new_papers": 0,
            "new_versions": 0,
            "events": 0,
        }
        for k in keys
    ]
    conn.execute(insert(t.run), rows)
    return dict(conn.execute(text("SELECT author_key, run_id FROM run")).all())


def _papers(
    syn: Synthetic, keys: list[str], circles: list[list[str]], count: int, now: datetime
) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    rng = syn.rng
    span = (now - START).total_seconds()
    for i in range(count):
        owner = i % len(keys)
        topic = syn.topics[owner % len(syn.topics)]
        published = START + timedelta(seconds=rng.random() * span)
        arxiv_id = f"{published:%y%m}.{i:06d}"
        primary = CATEGORIES[owner % len(CATEGORIES)]
        cats = [primary, *rng.sample([c for c in CATEGORIES if c != primary], rng.randint(0, 3))]
        authors = [syn.profile_names[owner], *rng.sample(circles[owner], rng.randint(1, 5))]
        rng.shuffle(authors)
        paper = {
            "arxiv_id": arxiv_id,
            "version": rng.randint(1, 4),
            "title": syn.text(topic, 8),
            "summary": syn.text(topic, 120),
            "published": published,
            "updated": published + timedelta(days=rng.randint(0, 300)),
            "primary_category": primary,
            "categories": " ".join(cats),
            "comment": None,
            "journal_ref": "J. Synth. Res. 1 (2020)" if rng.random() < 0.25 else None,
            "doi": f"10.1234/synth.{i}" if rng.random() < 0.2 else None,
            "withdrawn": rng.random() < 0.01,
            "fingerprint": f"{i:064d}",
            "first_seen_at": now,
            "changed_at": now,
        }
        names = [
            {
                "arxiv_id": arxiv_id,
                "position": j,
                "name": n,
                "folded_name": fold_name(n),
                "affiliations": "",
            }
            for j, n in enumerate(authors)
        ]
        yield paper, names


def _membership(
    key_of_name: dict[str, str], paper: tuple[dict[str, Any], list[dict[str, Any]]], now: datetime
) -> list[dict[str, Any]]:
    row, names = paper
    return [
        {
            "author_key": key_of_name[a["name"]],
            "arxiv_id": row["arxiv_id"],
            "status": "active",
            "matched_name": a["name"],
            "reason": "name match",
            "seen_version": row["version"],
            "seen_withdrawn": row["withdrawn"],
            "seen_meta": "{}",
            "since": now,
        }
        for a in names
        if a["name"] in key_of_name
    ]


def _events_and_counts(
    conn: Connection, keys: list[str], run_ids: dict[str, int], now: datetime
) -> None:
    counts = dict(
        conn.execute(text("SELECT author_key, COUNT(*) FROM membership GROUP BY author_key")).all()
    )
    conn.execute(
        insert(t.count_change),
        [
            {
                "author_key": k,
                "recorded_at": now,
                "paper_count": counts.get(k, 0),
                "withdrawn_count": 0,
                "previous_count": None,
                "run_id": run_ids[k],
            }
            for k in keys
        ],
    )
    newest = conn.execute(
        text("SELECT author_key, arxiv_id FROM membership ORDER BY arxiv_id DESC LIMIT :n"),
        {"n": 3 * len(keys)},
    )
    conn.execute(
        insert(t.event),
        [
            {
                "author_key": k,
                "arxiv_id": a,
                "kind": "new_paper",
                "detail": None,
                "recorded_at": now,
                "run_id": run_ids[k],
            }
            for k, a in newest
        ],
    )


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """Best of ``repeat`` wall-clock times, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def measure(store: Store, keys: list[str]) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {"baseline": [], "text": [], "html": []}
    query = text("SELECT * FROM profile_papers WHERE author_key = :key")
    with store.engine.connect() as conn:
        conn.execute(query, {"key": keys[0]}).all()  # warm up the connection and the cache
    for key in keys:

        def baseline(key: str = key) -> None:
            with store.engine.connect() as conn:
                conn.execute(query, {"key": key}).all()

        results["baseline"].append(timed(baseline))
        for fmt in ("text", "html"):
            results[fmt].append(
                timed(lambda key=key, fmt=fmt: render(load_profile(store, key), fmt))
            )
    return results


def _build(store: Store, path: Path, args: argparse.Namespace) -> None:
    start = time.perf_counter()
    store.upgrade()
    build(store, args.profiles, args.papers, args.seed)
    built = time.perf_counter() - start
    size = path.stat().st_size / 1e6
    print(f"database: {args.profiles} profiles, {args.papers} papers, {size:.0f} MB,", end=" ")
    print(f"built in {built:.1f} s")
    start = time.perf_counter()
    refresh_similar_authors(store, everything=True)
    print(f"similar authors computed in {time.perf_counter() - start:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=1000)
    parser.add_argument("--papers", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=25, help="profiles to render")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--db", type=Path, help="keep the database here (default: a temporary file)"
    )
    parser.add_argument(
        "--reuse", action="store_true", help="time the renderings of an existing --db only"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        path = args.db or Path(tmp) / "bench.db"
        if not (args.reuse and path.exists()):
            args.reuse = False
            path.unlink(missing_ok=True)
        store = Store.open(f"sqlite:///{path}")
        try:
            return _run(store, path, args)
        finally:
            store.close()


def _run(store: Store, path: Path, args: argparse.Namespace) -> int:
    if not args.reuse:
        _build(store, path, args)
    rng = random.Random(args.seed)
    keys = sorted(
        rng.sample([f"p{i:04d}" for i in range(args.profiles)], min(args.samples, args.profiles))
    )
    results = measure(store, keys)
    base = statistics.median(results["baseline"])
    print(f"{'per profile (ms)':<18}{'median':>8}{'max':>8}{'x baseline':>12}")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:<18}{median:8.1f}{max(values):8.1f}{median / base:12.1f}")
    worst = max(max(results["text"]), max(results["html"]))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average during the run: {load} ({os.cpu_count()} CPUs)")
    print(f"slowest rendering: {worst:.1f} ms ({'under' if worst < 100 else 'OVER'} 100 ms)")
    return 0 if worst < 100 else 1


if __name__ == "__main__":
    sys.exit(main())
