"""``scripts/bench_cycle.py --quick``: the benchmark still runs, and its checks hold at small N.

The figures themselves are measured, not asserted (docs/benchmarks.md); what is asserted
here cannot depend on the machine's speed: request counts, and that every new paper is
recorded by the cycle after it appears.
"""

from __future__ import annotations

import re
import subprocess
import sys

from .support import REPO


def test_the_quick_benchmark_runs_and_finds_every_new_paper() -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "bench_cycle.py"), "--quick"],
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
