"""Benchmark: how long :func:`harvester.identity.judge` takes for many same-name candidates.

The candidates come from several namesake corpora (``arxiv_lookalike/namesakes.py``, five people
written "Wei Zhang"), judged once anchored by the tracked person's identifier feed and
once without an anchor. Not a test: a figure for docs/benchmarks.md (issue 11 asked for
5,000 candidates in well under 10 s). ::

    .venv/bin/python scripts/bench_identity.py                  # 500 and 5,000 candidates
    .venv/bin/python scripts/bench_identity.py --counts 200
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.test_identity

from arxiv_lookalike.namesakes import namesake_corpus
from harvester.identity import judge
from tests.test_identity import many_candidates


def measure(count: int) -> dict[str, float]:
    """Seconds to judge ``count`` candidates, with the feed as anchor and without one."""
    candidates = many_candidates(count)
    feed = [f"{i}-0" for i in namesake_corpus().feed_ids]
    judge(candidates[:50], anchored=feed)  # imports (scikit-learn) out of the timing
    timings = {}
    for label, anchored in (("with feed", feed), ("without anchor", [])):
        began = time.perf_counter()
        judgement = judge(candidates, anchored=anchored)
        timings[label] = time.perf_counter() - began
        if len(judgement.verdicts) != count:
            raise SystemExit(f"{len(judgement.verdicts)} verdicts for {count} candidates")
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[500, 5000])
    for count in parser.parse_args().counts:
        timings = measure(count)
        figures = ", ".join(f"{label} {seconds:.2f} s" for label, seconds in timings.items())
        print(f"{count} candidates: {figures}", flush=True)


if __name__ == "__main__":
    main()
