"""The steady cycle as a whole ``harvest --once`` process, for ``scripts/bench_scale.py``.

The in-process rows of the scale part time the cycle alone; a cron job or a systemd timer
pays for more: the interpreter's start, the imports, the settings, the schema check, the
cycle, the refresh's "derived data current" decision, the notifications, the exit. Here the
real command (the ``harvest`` script the package installs) runs against the same config and
database, three times:

1. **steady (process)**: timed as a whole; the parent subtracts the look-alike's answering
   time over the same span, as for every other row;
2. with ``-X importtime``: the top imports, summed by top-level package (self time, so the
   figures add up to the total);
3. **steady (process, profiled)**: under cProfile, for the parts of the process: startup
   (interpreter and ``harvester.cli``), settings, schema check, cycle, notifications,
   derived data, and every import wherever it happened.

The harvester's bytecode is compiled first, as ``pip install`` compiles it: a cron job
runs an installed package, not one compiled afresh on every start (this machine's
environment may set ``PYTHONDONTWRITEBYTECODE``, which is dropped for these runs).
"""

from __future__ import annotations

import compileall
import os
import pstats
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harvester

IMPORT_LINES = 15
"""Top-level packages listed from ``-X importtime``."""
_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| ( *)(\S+)")
_REQUESTS = re.compile(r"\b(\d+) requests?\b")
PARTS = (
    ("settings", "harvester/cli/context.py", "settings"),
    ("schema check", "harvester/store/repository.py", "upgrade"),
    ("cycle", "harvester/cycle/run.py", "run_cycle"),
    ("notifications", "harvester/alerts/delivery.py", "after_cycle"),
    ("derived data", "harvester/profile/refresh.py", "after_cycle"),
)
"""A part of the process: the cumulative time of one function (file, name)."""


def process_cycles(config: Path) -> list[tuple[str, dict[str, Any]]]:
    """The steady cycle as ``harvest --once`` processes: rows for :func:`bench_scale._emit`."""
    compile_harvester()
    timed = _timed_process(config)
    imports = _import_times(config)
    profiled = _profiled_process(config)
    return [
        ("steady (process)", {**timed, "imports": imports, "note": "harvest --once"}),
        ("steady (process, profiled)", {**profiled, "note": "under cProfile"}),
    ]


def compile_harvester() -> None:
    """The harvester's bytecode, as ``pip install`` leaves it (see the module docstring)."""
    compileall.compile_dir(Path(harvester.__file__).parent, quiet=1)


def print_process(cycles: dict[str, dict[str, Any]]) -> None:
    """The process's parts and its top imports, after the scale part's table."""
    timed = cycles.get("steady (process)")
    profiled = cycles.get("steady (process, profiled)")
    if timed is None or profiled is None:
        return
    local = timed["wall"] - timed.get("server", 0.0)
    print(
        f"\nsteady cycle as a whole `harvest --once` process: local {local:.2f} s "
        f"(wall {timed['wall']:.2f} s, look-alike {timed.get('server', 0.0):.2f} s)"
    )
    print("its parts, under cProfile (seconds; imports wherever they happened):")
    wall = profiled["wall"]
    print(f"  {wall:7.3f}  the whole process (profiled)")
    for name, seconds in profiled["parts"].items():
        print(f"  {seconds:7.3f}  {name}")
    imports = timed["imports"]
    print(f"imports (-X importtime): {imports['total']:.3f} s in {imports['modules']} modules;")
    print("  by top-level package (self time of its modules):")
    for package, seconds in imports["top"]:
        print(f"  {seconds:7.3f}  {package}")


def _environment() -> dict[str, str]:
    """The environment of a cron job: bytecode cached; no ``HARVESTER_*`` override."""
    dropped = {"PYTHONDONTWRITEBYTECODE", "PYTHONPROFILEIMPORTTIME"}
    return {
        k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("HARVESTER_")
    }


def _command(config: Path, *python_options: str) -> list[str]:
    script = Path(sys.executable).parent / "harvest"
    return [sys.executable, *python_options, str(script), "--config", str(config), "--once"]


def _timed_process(config: Path) -> dict[str, Any]:
    began = time.monotonic()
    run = measured_run(_command(config))
    requests = sum(int(n) for n in _REQUESTS.findall(run.stdout))
    return {
        "began": began,
        "ended": began + run.seconds,
        "wall": run.seconds,
        "requests": requests,
        "peak": run.peak_mb,
    }


@dataclass(frozen=True)
class Run:
    """A ``harvest`` process that ended well: its wall seconds, its own peak RSS, its output."""

    seconds: float
    peak_mb: float
    stdout: str
    stderr: str


def measured_run(command: list[str]) -> Run:
    """Run ``command`` (a ``harvest`` command) to its end, in a cron job's environment;
    its peak RSS is its own (from its ``wait4``, not the largest child so far). A failure
    raises with the end of what it printed to stderr."""
    began = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, env=_environment(), stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.monotonic() - began
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        run = Run(seconds, usage.ru_maxrss / 1024, out.read(), err.read())
    if child.returncode != 0:
        what = " ".join(command[2:])
        raise RuntimeError(f"{what} failed ({child.returncode}): {run.stderr[-500:]}")
    return run


def children_peak_rss_mb() -> float:
    """The peak RSS of the largest child process waited for so far (the ``harvest`` runs)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def _import_times(config: Path) -> dict[str, Any]:
    """``-X importtime`` of one run: total, module count, top-level packages by self time."""
    done = measured_run(_command(config, "-X", "importtime"))
    by_package: dict[str, float] = defaultdict(float)
    total, modules = 0.0, 0
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        own, _, _, name = match.groups()
        by_package[name.split(".")[0]] += int(own) / 1e6
        total += int(own) / 1e6
        modules += 1
    top = sorted(by_package.items(), key=lambda item: item[1], reverse=True)[:IMPORT_LINES]
    return {"total": total, "modules": modules, "top": top}


def _profiled_process(config: Path) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "process.prof"
        began = time.monotonic()
        measured_run(_command(config, "-m", "cProfile", "-o", str(output)))
        ended = time.monotonic()
        stats = pstats.Stats(str(output)).stats  # type: ignore[attr-defined]
    wall = ended - began
    main = _cumulative(stats, "harvester/cli/app.py", "main")
    parts = {"startup and exit (interpreter, harvester.cli)": wall - main}
    parts |= {name: _cumulative(stats, path, function) for name, path, function in PARTS}
    imports = _cumulative(stats, "<frozen importlib._bootstrap>", "_find_and_load")
    parts["imports, wherever they happened"] = imports
    return {"began": began, "ended": ended, "wall": wall, "parts": parts}


def _cumulative(stats: dict[Any, Any], path: str, function: str) -> float:
    """The cumulative seconds of a function (0 if it did not run); recursion counted once."""
    return sum(
        row[3] for (file, _, name), row in stats.items() if file.endswith(path) and name == function
    )
