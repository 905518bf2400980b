"""Bad local input through ``harvest`` as cron runs it (a real subprocess): an unreadable
config file, and a database that cannot be written.

Configuration errors are covered key by key in tests/test_settings.py and, through the
command, in tests/test_cli.py (``test_bad_config_is_one_line_exit_2_and_nothing_written``).

A read-only file, a read-only directory, a directory where the file cannot be created, a
directory that does not exist (never created: a typo must not start a second database), a
full disk (a small tmpfs), a schema newer than the code: each gives one clear line on
stderr, a sysexits code (73 cannot create, 74 cannot open or write) and nothing
half-written. New SQLite files are created mode 0640.

The tests run as root in CI, and root ignores file modes: the ``harvest`` subprocess then
runs without ``CAP_DAC_OVERRIDE``/``CAP_DAC_READ_SEARCH`` (``setpriv`` drops them from its
bounding set before ``exec``), so modes apply to it as to the service user. The full-disk
test mounts a tmpfs, which needs root; where that is impossible it is skipped
(docs/reliability.md describes the manual check).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from arxiv_lookalike import LookalikeServer
from harvester.store import Store

from .support import run_cli, write_config
from .test_cli import ARXIV

DROP_FILE_CAPABILITIES = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--"]
"""Root keeps its uid but must obey file modes (util-linux ``setpriv``, then ``exec``)."""


@functools.cache
def _can_drop_capabilities() -> bool:
    if shutil.which("setpriv") is None:
        return False
    return subprocess.run([*DROP_FILE_CAPABILITIES, "true"], check=False).returncode == 0


def _as_service_user() -> list[str]:
    """The command prefix that makes file modes apply to the ``harvest`` subprocess."""
    if os.geteuid() != 0:
        return []  # modes apply already
    if not _can_drop_capabilities():
        pytest.skip("cannot drop CAP_DAC_OVERRIDE here (setpriv missing or not permitted)")
    return DROP_FILE_CAPABILITIES


def harvest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    return subprocess.run(
        [*_as_service_user(), sys.executable, "-m", "harvester.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def config(tmp_path: Path, db_url: str, api_url: str = "http://127.0.0.1:9/api/query") -> Path:
    return write_config(tmp_path, db_url, api_url, arxiv=ARXIV)


def one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """Exit ``code`` and one ``harvest: error:`` line, the last (warnings may come first)."""
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    errors = [line for line in result.stderr.splitlines() if line.startswith("harvest: error: ")]
    assert len(errors) == 1 and result.stderr.endswith(errors[0] + "\n"), result.stderr
    for needle in needles:
        assert needle in errors[0]
    assert "[SQL:" not in errors[0] and "Background on this error" not in errors[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sqlite_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def migrate(db_url: str) -> None:
    """Create the schema in-process (quicker than a ``harvest db upgrade`` subprocess)."""
    store = Store.open(db_url)
    try:
        store.upgrade()
    finally:
        store.close()  # the last connection checkpoints the WAL away


@pytest.fixture
def upgraded(tmp_path: Path) -> Path:
    """A migrated SQLite database in ``tmp_path/state``."""
    path = tmp_path / "state" / "h.db"
    path.parent.mkdir()
    migrate(f"sqlite:///{path}")
    return path


def test_a_read_only_database_file(tmp_path: Path, upgraded: Path, server: LookalikeServer) -> None:
    upgraded.chmod(0o444)
    before = digest(upgraded)
    result = harvest(
        "--once",
        "--config",
        str(config(tmp_path, f"sqlite:///{upgraded}", server.url)),
        cwd=tmp_path,
    )
    one_line_error(result, 74, "the database is read-only", "write access")
    assert digest(upgraded) == before
    assert server.requests == []  # refused before asking arXiv anything


def test_a_read_only_directory(tmp_path: Path, upgraded: Path, server: LookalikeServer) -> None:
    upgraded.parent.chmod(0o555)
    before = digest(upgraded)
    try:
        result = harvest(
            "--once",
            "--config",
            str(config(tmp_path, f"sqlite:///{upgraded}", server.url)),
            cwd=tmp_path,
        )
    finally:
        upgraded.parent.chmod(0o755)
    one_line_error(result, 74, "the database is read-only", "its directory")
    assert digest(upgraded) == before


def test_a_database_that_cannot_be_created(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = harvest(
        "db",
        "upgrade",
        "--config",
        str(config(tmp_path, f"sqlite:///{locked}/h.db")),
        cwd=tmp_path,
    )
    locked.chmod(0o755)
    one_line_error(
        result, 73, f"cannot create the database file {locked}/h.db", "Permission denied"
    )
    assert list(locked.iterdir()) == []


MISSING_DIRECTORY_COMMANDS = [
    ("--once",),
    ("daemon", "--run-now"),
    ("db", "upgrade"),
    ("refresh",),
    ("status",),
    ("profile", "kakade"),
    ("history", "kakade"),
    ("export", "kakade"),
    ("review", "kakade"),
    ("review", "kakade", "--accept", "2101.00001"),
]


@pytest.mark.parametrize("command", MISSING_DIRECTORY_COMMANDS, ids=" ".join)
def test_a_database_directory_that_does_not_exist_is_never_created(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A typo in the url must not start a second, empty database: exit 73, nothing made."""
    typo = tmp_path / "nonexistent" / "dir"
    path = config(tmp_path, "sqlite:///h.db")
    result = run_cli(
        *command,
        "--config",
        str(path),
        cwd=tmp_path,
        env={"HARVESTER_DATABASE_URL": f"sqlite:///{typo}/x.db"},
        timeout=60,
    )
    one_line_error(result, 73, f"the database's directory does not exist: {typo} (for x.db)")
    assert not typo.parent.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["harvester.toml"]


def test_an_unreadable_config_file(tmp_path: Path) -> None:
    path = config(tmp_path, "sqlite:///h.db")
    path.chmod(0o200)
    result = harvest("--once", "--config", str(path), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == f"harvest: error: {path}: cannot read the file: permission denied\n"
    assert list(tmp_path.glob("*.db")) == []


def test_a_schema_newer_than_the_code(tmp_path: Path, db_url: str, server: LookalikeServer) -> None:
    path = config(tmp_path, db_url, server.url)
    migrate(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result = harvest("--once", "--config", str(path), cwd=tmp_path)
    one_line_error(result, 74, "schema revision 9999", "upgrade arxiv-harvester")
    with engine.connect() as conn:
        for table in ("author", "run", "paper"):
            assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0
    engine.dispose()
    assert server.requests == []


def test_new_database_files_are_not_world_readable(tmp_path: Path) -> None:
    path = tmp_path / "state" / "h.db"
    path.parent.mkdir()
    result = harvest(
        "db", "upgrade", "--config", str(config(tmp_path, f"sqlite:///{path}")), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # under the usual umask 022
    for sidecar in path.parent.glob("h.db-*"):
        assert stat.S_IMODE(sidecar.stat().st_mode) & 0o007 == 0


# --- a full disk ----------------------------------------------------------------------------


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory: Path, leave: int) -> Path:
    """Fill the file system of ``directory`` until ``leave`` bytes are free."""
    filler = directory / "filler"
    vfs = os.statvfs(directory)
    with filler.open("wb") as out:
        room = vfs.f_bavail * vfs.f_frsize - leave
        while room > 0:
            room -= out.write(b"\0" * min(room, 1 << 20))
    return filler


def test_a_full_disk_leaves_nothing_half_written(tmp_path: Path, server: LookalikeServer) -> None:
    with tmpfs(tmp_path / "small", "2m") as disk:
        db = disk / "h.db"
        path = config(tmp_path, f"sqlite:///{db}", server.url)
        migrate(f"sqlite:///{db}")
        filler = fill(disk, leave=48 * 1024)  # room for the run log, not for 80 papers
        result = harvest("--once", "--config", str(path), cwd=tmp_path)
        one_line_error(result, 74, "the disk holding the database is full", "free space")
        filler.unlink()
        assert sqlite_rows(db, "PRAGMA integrity_check") == [("ok",)]
        for table in ("paper", "membership", "event", "count_change"):
            assert sqlite_rows(db, f"SELECT COUNT(*) FROM {table}") == [(0,)], table
        # the dead harvest could not release its lease on a full disk: it expires on its
        # own (harvester.store.leases); the next cron run comes later than that
        engine = create_engine(f"sqlite:///{db}")
        with engine.begin() as conn:
            conn.execute(text("UPDATE author SET lease_owner = NULL, lease_until = NULL"))
        engine.dispose()
        again = harvest("--once", "--config", str(path), cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        statuses = sqlite_rows(db, "SELECT status, error FROM run ORDER BY run_id")
        assert statuses[-1] == ("ok", None)
        assert all(s == "ok" or e == "abandoned: the process ended" for s, e in statuses)
