"""Steady cycles on databases a scale run kept, the engines taking turns in the same minutes.

``scripts/bench_cycle.py --parts scale --scale-keep DIR`` keeps its database and config.
This script serves the same synthetic corpus again from the look-alike (same authors,
papers and seed; the build of its search index is not timed), points each kept config at
it, and runs steady cycles on each database in turn, round after round, so that SQLite
and PostgreSQL are compared on the same load:

* in process (as the scale part's **steady** row: ``harvest_once`` with the derived data),
  in one long-lived child process per database that runs a cycle each round, as a daemon
  would. The look-alike answers from this process: in the same interpreter, its threads
  building answers held the interpreter lock that a cycle waited to get back after each
  round trip to PostgreSQL (1,500 a cycle at a million papers: PostgreSQL's cycles took
  7.5 to 8.9 s, and 5.6 to 6.3 s with a switch interval of 0.5 ms instead of 5);
* with ``--process``, also as a whole ``harvest --once`` process (as **steady (process)**:
  interpreter, imports, settings, schema check, cycle, derived-data check, exit).

Each figure is *local time*: the wall time less the look-alike's answering time in the same
span. Then the median of each engine's rounds, and their ratio::

    .venv/bin/python scripts/bench_steady.py --authors 10000 --papers 100 \\
        /tmp/keep-sqlite/harvester.toml /tmp/keep-postgresql/harvester.toml --rounds 3
    .venv/bin/python scripts/bench_steady.py --authors 2000 --papers 20 --process \\
        /tmp/k2000-sqlite/harvester.toml /tmp/k2000-postgresql/harvester.toml
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_process import compile_harvester, measured_run
from bench_scale import _server_seconds, _warm

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.synthetic import synthetic_corpus
from harvester.config import load_settings
from harvester.cycle import CycleOptions, harvest_once
from harvester.store import Store

CHILD = "--cycle-child"
"""The first argument of :class:`CycleChild`'s process: it runs :func:`cycle_child`."""
_API_URL = re.compile(r'^api_url = ".*"$', re.MULTILINE)


def pointed(config: Path, url: str) -> Path:
    """A copy of ``config`` (beside it) whose ``[arxiv] api_url`` is ``url``."""
    copy = config.with_name("steady.toml")
    copy.write_text(_API_URL.sub(f'api_url = "{url}"', config.read_text()), encoding="utf-8")
    return copy


def engine_of(config: Path) -> str:
    return load_settings(config, {}).database.url.split(":", 1)[0].split("+")[0]


class CycleChild:
    """A process that runs a steady cycle on ``config`` each time it is asked
    (:func:`cycle_child`), its store open from one cycle to the next."""

    def __init__(self, config: Path) -> None:
        command = [sys.executable, os.path.abspath(__file__), CHILD, str(config)]
        self.config = config
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def local(self, server: LookalikeServer) -> float:
        """One cycle's local time: its wall time less the look-alike's in the same span."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("cycle\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"{self.config}: the cycle process ended ({self.process.wait()})")
        began, ended = json.loads(line)
        return ended - began - _server_seconds(server, began, ended)

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def cycle_child(config: Path) -> None:
    """The child's side: a cycle for each line read, its start and end on the monotonic
    clock (the same clock in both processes) as one JSON line."""
    settings = load_settings(config, {})
    store = Store.open(settings.database.url)
    try:
        for _ in sys.stdin:
            began = time.monotonic()
            report = harvest_once(settings, store, CycleOptions(), derive=True)
            ended = time.monotonic()
            if report.exit_code != 0:
                raise SystemExit(
                    f"{config}: the steady cycle ended with exit code {report.exit_code}"
                )
            print(json.dumps([began, ended]), flush=True)
    finally:
        store.close()


def as_process(config: Path, server: LookalikeServer) -> float:
    script = str(Path(sys.executable).parent / "harvest")
    began = time.monotonic()
    wall = measured_run([sys.executable, script, "--config", str(config), "--once"]).seconds
    return wall - _server_seconds(server, began, began + wall)


def main() -> None:
    if sys.argv[1:2] == [CHILD]:
        cycle_child(Path(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("configs", nargs="+", type=Path, help="configs a scale run kept")
    parser.add_argument("--authors", type=int, required=True)
    parser.add_argument("--papers", type=int, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--process", action="store_true", help="also as harvest --once")
    args = parser.parse_args()
    corpus, authors = synthetic_corpus(args.authors, args.papers, seed=args.seed)
    compile_harvester()
    with LookalikeServer(corpus) as server:
        _warm(server, authors)
        configs = [pointed(c, server.url) for c in args.configs]
        names = [f"{engine_of(c)} ({c.parent.name})" for c in configs]
        children = [CycleChild(c) for c in configs]
        figures: dict[str, list[float]] = {}
        try:
            for round_number in range(1, args.rounds + 1):
                for name, config, child in zip(names, configs, children, strict=True):
                    local = child.local(server)
                    figures.setdefault(f"{name}, in process", []).append(local)
                    line = f"round {round_number} {name}: in process {local:.2f} s"
                    if args.process:
                        whole = as_process(config, server)
                        figures.setdefault(f"{name}, harvest --once", []).append(whole)
                        line += f", harvest --once {whole:.2f} s"
                    print(f"{line}  (load {os.getloadavg()[0]:.2f})", flush=True)
        finally:
            for child in children:
                child.close()
    _summary(figures, names)


def _summary(figures: dict[str, list[float]], names: list[str]) -> None:
    print("\nmedian local time over the rounds:")
    for what, values in figures.items():
        each = ", ".join(f"{v:.2f}" for v in values)
        print(f"  {what}: {statistics.median(values):.2f} s  ({each})")
    if len(names) == 2:
        for kind in ("in process", "harvest --once"):
            pair = [figures.get(f"{name}, {kind}") for name in names]
            if pair[0] and pair[1]:
                ratio = statistics.median(pair[1]) / statistics.median(pair[0])
                print(f"  {kind}: {names[1]} / {names[0]} = {ratio:.2f}")


if __name__ == "__main__":
    main()
