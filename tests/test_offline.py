"""``harvest --once`` (``make run``) where arXiv cannot be reached at all: a name that does
not resolve, or a port where nothing listens. One short line that points to the demo,
exit 75, two requests in all (not a backoff per author), and nothing marked as gone."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from harvester.cycle import harvest_once
from harvester.errors import UnreachableError
from harvester.store import Store
from harvester.vocabulary import RunStatus

from .support import SEED_AUTHOR, make_settings, rows, run_cli, write_config

AUTHORS = (SEED_AUTHOR, {"key": "other", "name": "Ada Lovelace"})
ARXIV = {"delay_seconds": 0.2, "max_attempts": 5, "max_wait_seconds": 2}


def closed_port() -> int:
    """A local port where nothing listens (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unreachable_urls() -> list[tuple[str, str]]:
    return [
        ("http://nonexistent.invalid/api/query", "the name does not resolve"),
        (f"http://127.0.0.1:{closed_port()}/api/query", "the connection was refused"),
    ]


@pytest.mark.parametrize(("api_url", "problem"), unreachable_urls(), ids=["dns", "refused"])
def test_once_says_in_one_line_that_arxiv_cannot_be_reached(
    tmp_path: Path, api_url: str, problem: str
) -> None:
    config = write_config(
        tmp_path, f"sqlite:///{tmp_path / 'h.db'}", api_url, authors=AUTHORS, arxiv=ARXIV
    )
    started = time.monotonic()
    result = run_cli("--once", "--config", str(config), cwd=tmp_path)
    elapsed = time.monotonic() - started
    assert result.returncode == 75, result.stderr
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("harvest: error: arXiv cannot be reached at ") and problem in line
    assert "'harvest demo' (make demo)" in line and "%22" not in line  # no encoded query
    assert elapsed < 60, elapsed  # two tries, not max_attempts backoffs per author

    status = run_cli("status", "--config", str(config), cwd=tmp_path)
    assert status.returncode == 1 and "incomplete" in status.stdout


def test_an_unreachable_host_is_tried_twice_then_the_cycle_stops_asking(
    db_url: str, store: Store
) -> None:
    """A query per author: the first author's query is tried twice, the second is
    skipped without a request, and each run says why."""
    api_url, _ = unreachable_urls()[1]
    grouped = {"group_query_chars": 0}
    settings = make_settings(db_url, api_url, **ARXIV, authors=list(AUTHORS), harvest=grouped)
    report = harvest_once(settings, store)
    assert isinstance(report.unreachable, UnreachableError) and report.harvested_none
    assert [a.status for a in report.authors] == [RunStatus.INCOMPLETE, RunStatus.SKIPPED]
    assert report.exit_code == 75
    runs = rows(store, "SELECT author_key, requests, status, error FROM run ORDER BY run_id")
    assert [(r.author_key, r.requests, r.status) for r in runs] == [
        ("kakade", 2, "incomplete"),
        ("other", 0, "skipped"),
    ]
    assert all("cannot be reached at 127.0.0.1:" in r.error for r in runs)
    assert rows(store, "SELECT count(*) AS n FROM paper")[0].n == 0
