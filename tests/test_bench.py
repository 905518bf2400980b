"""``scripts/bench_cycle.py --quick``: the benchmark still runs, and its checks hold at small N.

The figures themselves are measured, not asserted (docs/benchmarks.md); what is asserted
here cannot depend on the machine's speed: request counts, and that every new paper is
recorded by the cycle after it appears.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from .support import REPO, require_postgres


def test_the_quick_benchmark_runs_and_finds_every_new_paper() -> None:
    """Every part runs; the memory parts at two small checkpoints (a cold harvest in a
    child process each: 3,500 papers took half the test's time and assert nothing more)."""
    quick = ["--quick", "--memory-papers", "250", "500"]
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_cycle.py"), *quick],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert re.findall(r"recorded by the harvester (\d+)/(\d+)", out) == [("5", "5")] * 2
    window = re.search(r"recorded by the day's own cycle: (\d+) of (\d+)", out)
    assert window is not None and window[1] == window[2] != "0"
    assert "0 of them past the bound" in out
    ten = re.search(r"^\s*10\s+(\d+)\s+(\d+)\s+(\d+)\s", out, re.MULTILINE)
    assert ten is not None and ten.groups() == ("1", "1", "1")  # 10 authors: one query


def test_the_scale_part_runs_and_accounts_for_every_cycle() -> None:
    """The scale part at 30 authors: every cycle reported, requests as the look-alike
    counted them (one grouped query), local time never more than wall time."""
    command = [sys.executable, str(REPO / "scripts" / "bench_cycle.py"), "--parts", "scale"]
    command += ["--scale-authors", "30", "--scale-papers", "5"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    cycles = dict(  # cycle: requests, statements, wall s, server s, local s
        (m[1], (int(m[2]), float(m[4]), float(m[6])))
        for m in re.finditer(
            r"^\s*(cold|steady|few-new|next day|full)\s+(\d+)\s+(\d+)"
            r"\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)",
            out,
            re.MULTILINE,
        )
    )
    assert set(cycles) == {"cold", "steady", "few-new", "next day", "full"}
    assert cycles["steady"][0] == cycles["few-new"][0] == 1
    assert all(0 <= local <= wall for _, wall, local in cycles.values())
    assert cycles["cold"][1] > 0
    assert "steady: 1 request (naive script: 30, 30x more)" in out
    assert re.search(r"database size: \d+ MB", out)
    render = re.search(
        r"worst median of 3: [\d.]+ ms; full garbage collections: (none|\d+ \(.+\)), "
        r"worst render none fell in: [\d.]+ ms$",
        out,
        re.MULTILINE,
    )
    assert render is not None, out
    recompute = re.search(
        r"derive \(full\)\s+([\d.]+).*harvest refresh --all: peak RSS (\d+) MB", out
    )
    assert recompute is not None and float(recompute[1]) > 0 and int(recompute[2]) > 50


def test_steady_cycles_take_turns_on_the_databases_scale_runs_kept(tmp_path: Path) -> None:
    """``scripts/bench_steady.py`` on two databases kept by ``--scale-keep``: each round
    runs a cycle on each, in process and as a ``harvest --once`` process, then the medians
    and the ratio of the second to the first."""
    scripts = REPO / "scripts"
    size = ["--scale-authors", "12", "--scale-papers", "3"]
    configs = []
    for name in ("first", "second"):
        keep = tmp_path / name
        command = [sys.executable, str(scripts / "bench_cycle.py"), "--parts", "scale", *size]
        command += ["--scale-brief", "--scale-skip-full", "--scale-skip-naive"]
        command += ["--scale-keep", str(keep)]
        kept = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
        assert kept.returncode == 0, kept.stderr[-2000:]
        configs.append(str(keep / "harvester.toml"))
    command = [sys.executable, str(scripts / "bench_steady.py"), *configs, "--process"]
    command += ["--authors", "12", "--papers", "3", "--rounds", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    rounds = re.findall(
        r"^round (\d) sqlite \((first|second)\): in process ([\d.]+) s, "
        r"harvest --once ([\d.]+) s",
        result.stdout,
        re.MULTILINE,
    )
    assert [(r[0], r[1]) for r in rounds] == [
        ("1", "first"),
        ("1", "second"),
        ("2", "first"),
        ("2", "second"),
    ]
    assert all(float(r[2]) >= 0 and float(r[3]) >= 0 for r in rounds)
    for kind in ("in process", "harvest --once"):
        ratio = f"{kind}: sqlite (second) / sqlite (first) = "
        assert re.search(re.escape(ratio) + r"[\d.]+$", result.stdout, re.MULTILINE), result.stdout


def test_the_workers_part_runs_each_n_given_and_accounts_for_the_machine() -> None:
    """``--parts workers`` with an N given twice (each run on a database of its own): every
    run imports the same database, the look-alike saw no overlapping request, and the
    whole machine's CPU is reported beside the workers'."""
    require_postgres()
    command = [sys.executable, str(REPO / "scripts" / "bench_cycle.py"), "--parts", "workers"]
    command += ["--scale-authors", "12", "--scale-papers", "3", "--workers", "1", "2", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    runs = re.findall(
        r"^(\d)\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+\S+\s+[\d.]+\s+(\d+)\s+(\d+)\s", out, re.M
    )
    assert [(n, overlaps) for n, _, overlaps in runs] == [("1", "0"), ("2", "0"), ("1", "0")]
    machine = re.findall(r"^  N=(\d): ([\d.]+) CPU-s, ([\d.]+) cores busy", out, re.M)
    assert [n for n, _, _ in machine] == ["1", "2", "1"] and all(
        float(c) > 0 for _, c, _ in machine
    )
    assert "same database whatever N: yes" in out
