"""A damaged database: checked before anything is written, repaired where it can be,
and every case one line with exit 74 (never a traceback), on SQLite and PostgreSQL."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from arxiv_lookalike import LookalikeServer
from harvester.store import Store

from .support import SEED_AUTHOR, harvest, make_settings, rows, run_cli, write_config

ARXIV = {"delay_seconds": 0, "timeout_seconds": 2, "max_attempts": 2, "page_size": 100}


@pytest.fixture
def harvested(store: Store, server: LookalikeServer, db_url: str) -> Store:
    assert harvest(store, make_settings(db_url, server.url)).exit_code == 0
    return store


def cli(
    tmp_path: Path, db_url: str, server: LookalikeServer, *args: str
) -> subprocess.CompletedProcess[str]:
    config = write_config(tmp_path, db_url, server.url, authors=[SEED_AUTHOR], arxiv=ARXIV)
    return run_cli("--config", str(config), *args)


def one_line(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code, result.stderr
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def execute(store: Store, *statements: str) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def sqlite_harvested(tmp_path: Path, server: LookalikeServer, *statements: str) -> str:
    """A harvested SQLite file, ``statements`` run on it, every connection closed."""
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    store = Store.open(db_url)
    try:
        store.upgrade()
        assert harvest(store, make_settings(db_url, server.url)).exit_code == 0
        execute(store, *statements)
    finally:
        store.close()
    return db_url


def test_db_upgrade_recreates_a_dropped_view_and_index_and_says_so(
    harvested: Store, server: LookalikeServer, db_url: str, tmp_path: Path
) -> None:
    execute(harvested, "DROP VIEW profile_stats", "DROP INDEX ix_membership_arxiv_id")
    result = cli(tmp_path, db_url, server, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:2] == [
        "repaired: recreated view profile_stats",
        "repaired: recreated index ix_membership_arxiv_id",
    ]
    assert rows(harvested, "SELECT paper_count FROM profile_stats") == [(76,)]
    again = cli(tmp_path, db_url, server, "db", "upgrade")
    assert "repaired" not in again.stdout  # nothing left to repair


def test_two_schema_version_rows_stop_everything_before_a_write(
    harvested: Store, server: LookalikeServer, db_url: str, tmp_path: Path
) -> None:
    execute(harvested, "INSERT INTO alembic_version (version_num) VALUES ('0003')")
    before = harvested.row_counts()
    result = cli(tmp_path, db_url, server, "--once")
    one_line(result, 74, "alembic_version has 2 rows", "DELETE FROM alembic_version")
    assert harvested.row_counts() == before


def test_an_unreadable_stored_row_is_one_line_and_nothing_more_is_written(
    harvested: Store, server: LookalikeServer, db_url: str, tmp_path: Path
) -> None:
    execute(harvested, "UPDATE membership SET seen_meta = 'not json'")
    before = harvested.row_counts()
    result = cli(tmp_path, db_url, server, "--once")
    one_line(result, 74, "a stored membership of kakade cannot be read")
    after = harvested.row_counts()
    assert {k: v for k, v in after.items() if k != "run"} == {
        k: v for k, v in before.items() if k != "run"
    }
    assert rows(harvested, "SELECT status FROM run ORDER BY run_id DESC LIMIT 1") == [("failed",)]


def test_an_unreadable_date_gives_read_commands_one_line(
    tmp_path: Path, server: LookalikeServer
) -> None:
    db_url = sqlite_harvested(tmp_path, server, "UPDATE paper SET published = 'not a date'")
    for command in (("profile", "kakade"), ("export", "kakade")):
        one_line(cli(tmp_path, db_url, server, *command), 74, "cannot be read")
    history = cli(tmp_path, db_url, server, "history", "kakade")
    assert (history.returncode, history.stderr) == (0, ""), history.stderr  # it shows no dates
    assert "76 papers (baseline)" in history.stdout


def test_a_file_that_fails_its_integrity_check_is_refused_before_a_write(
    tmp_path: Path, server: LookalikeServer
) -> None:
    db_url = sqlite_harvested(tmp_path, server)  # closed: the WAL is folded into the file
    path = tmp_path / "h.db"
    assert not Path(f"{path}-wal").exists()
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data) - page, 5 * page):  # scribble over b-tree pages
        data[offset + 100 : offset + 400] = b"\xa5" * 300
    path.write_bytes(bytes(data))
    result = cli(tmp_path, db_url, server, "--once")
    line = one_line(result, 74)
    assert "integrity check" in line or "malformed" in line
