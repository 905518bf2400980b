"""``harvest --once``: a line per author as its harvest ends, aligned, saying full or
incremental; ``--only KEY...`` harvests some of the configured authors.

Real subprocesses against the look-alike and a real database (SQLite and PostgreSQL).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from arxiv_lookalike import LookalikeServer
from arxiv_lookalike.faults import Stall
from harvester.store import Store

from .support import AUTHORS, REPO, rows, run_cli, write_config

ARXIV = {"delay_seconds": 0, "page_size": 100, "timeout_seconds": 30}
ONE_QUERY_EACH = {"group_query_chars": 0}


def config_for(tmp_path: Path, db_url: str, server: LookalikeServer) -> Path:
    return write_config(
        tmp_path, db_url, server.url, authors=AUTHORS, arxiv=ARXIV, harvest=ONE_QUERY_EACH
    )


def test_each_line_is_printed_as_its_author_finishes(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = config_for(tmp_path, db_url, server)
    server.faults.add(Stall(4, then_respond=True), when=lambda r: "Morwani" in r.query)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    with subprocess.Popen(
        [sys.executable, "-m", "harvester.cli", "--once", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    ) as process:
        assert process.stdout is not None
        first = process.stdout.readline()
        still_running = process.poll() is None  # morwani's answer is still on its way
        rest, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors
    assert still_running, "the first line came only when the command ended"
    assert first.startswith("kakade   76 papers  +0 new  0 new versions  full  ")
    [second] = rest.splitlines()
    assert second.startswith("morwani  ") and "  full  " in second

    again = run_cli("--once", "--config", str(config), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    lines = again.stdout.splitlines()
    assert [line[:9] for line in lines] == ["kakade   ", "morwani  "]
    assert all("  incremental  " in line for line in lines), lines


def test_only_harvests_the_authors_it_names(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = config_for(tmp_path, db_url, server)
    result = run_cli("--once", "--only", "morwani", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    assert line.startswith("morwani  ") and "  full  " in line
    assert rows(store, "SELECT DISTINCT author_key FROM run") == [("morwani",)]

    full = run_cli("--once", "--full", "--only", "morwani", "--config", str(config))
    assert full.returncode == 0, full.stderr
    assert "  full  " in full.stdout and "kakade" not in full.stdout
    modes = "SELECT mode FROM run WHERE author_key = 'morwani' ORDER BY run_id"
    assert [m for (m,) in rows(store, modes)] == ["full", "full"]


def test_only_refuses_an_unknown_key_and_goes_with_once(
    tmp_path: Path, db_url: str, server: LookalikeServer, store: Store
) -> None:
    config = config_for(tmp_path, db_url, server)
    before = store.row_counts()
    unknown = run_cli("--once", "--only", "kakade", "nobody", "--config", str(config))
    assert (unknown.returncode, unknown.stdout) == (2, "")
    [line] = unknown.stderr.splitlines()
    assert "--only nobody: no such author in the config" in line and "kakade, morwani" in line
    assert store.row_counts() == before and server.requests == []

    usage = run_cli("--only", "kakade", "--config", str(config))
    assert usage.returncode == 2 and "--only goes with --once" in usage.stderr
    assert store.row_counts() == before
