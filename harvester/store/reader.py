"""Read-only engines, for commands that only look (``harvest status``).

A SQLite database is opened with ``mode=ro``: nothing is created, no write lock is taken
(WAL readers never wait for the writer), and a member of the database's group can run it
without write access to the file. Such a reader needs the WAL index (``-shm``) that any open
connection keeps; when nobody has the database open and the reader cannot create the index,
there is no ``-wal`` file either (the last connection folded it into the database), so the
file alone is the whole database and is read with ``immutable=1``. PostgreSQL gets the
store's own engine (:func:`~.engine.create_db_engine`): the role decides what it may do.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from ..errors import DatabaseError
from .engine import SQLITE_BUSY_TIMEOUT_MS, create_db_engine, sqlite_path
from .problems import missing_directory_error


def open_reader(url: str) -> Engine:
    """An engine that reads ``url`` and never writes; a missing SQLite file is an error."""
    path = sqlite_path(url)
    if path is None:
        return create_db_engine(url)
    if not path.parent.is_dir():
        raise missing_directory_error(path)
    if not path.exists():
        raise DatabaseError(
            f"no database at {path}",
            hint="harvest at least once (harvest --once or the daemon) or check [database] url",
        )
    engine = create_engine(make_url("sqlite://"), creator=lambda: _connect(path.resolve()))
    event.listen(engine, "connect", _on_connect)
    return engine


def reader_if_exists(url: str) -> Engine | None:
    """:func:`open_reader`, or None for a SQLite file not created yet (its directory must
    exist): a database no harvest has made."""
    path = sqlite_path(url)
    if path is not None and path.parent.is_dir() and not path.exists():
        return None
    return open_reader(url)


def _connect(path: Path) -> sqlite3.Connection:
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
    try:
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.OperationalError:
        conn.close()
        if Path(f"{path}-wal").exists():
            raise
        return sqlite3.connect(uri + "&immutable=1", uri=True, check_same_thread=False)
    return conn


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
