"""Engines for SQLite and PostgreSQL, configured the way a harvester needs them.

SQLite: every connection gets WAL, a busy timeout, foreign keys and
``synchronous=NORMAL``; a transaction that will write starts with ``BEGIN IMMEDIATE``,
so a writer takes the write lock up front instead of failing half-way (the recipe from
SQLAlchemy's SQLite dialect docs, "Serializable isolation / Savepoints / Transactional
DDL"). A connection opened with :func:`reading` begins a plain (deferred) transaction
instead: it reads a snapshot and never takes the write lock, so in WAL mode a reader
never waits for a writer and never makes one wait.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    String,
    Text,
    any_,
    create_engine,
    event,
    literal,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError

from .problems import create_error, database_error, missing_directory_error, readable

SQLITE_BUSY_TIMEOUT_MS = 30_000
DATABASE_FILE_MODE = 0o640
"""New SQLite files are readable by their owner's group (the readers' group), not by all."""


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; a missing SQLite file is created, in an existing directory."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _postgresql_on_connect)
        _ping_when_idle(engine)
        return engine
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        _prepare_sqlite_file(Path(parsed.database))
    engine = create_engine(url, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


READ_ONLY = "harvester_read_only"
"""The execution option :func:`reading` sets: the transaction only reads."""


def reading(engine: Engine) -> Connection:
    """A connection for reading only. On SQLite its transaction never takes the write lock
    and reads one snapshot. On PostgreSQL each statement runs on its own (autocommit): at
    the default isolation, READ COMMITTED, every statement of a transaction sees a snapshot
    of its own anyway, so a BEGIN and a ROLLBACK around the reads were two round trips for
    nothing (a fifth of a profile's read, ``docs/benchmarks.md``). A read that needs one
    snapshot asks for REPEATABLE READ (:func:`~.derived.corpus_snapshot`)."""
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        return conn.execution_options(isolation_level="AUTOCOMMIT")
    return conn.execution_options(**{READ_ONLY: True})


@contextmanager
def one_write(engine: Engine) -> Iterator[Connection]:
    """A connection for a single statement that writes (a lease, the request slot). On
    PostgreSQL it runs on its own (autocommit): one statement is atomic, and a BEGIN and a
    COMMIT around it were two more round trips. On SQLite a transaction that takes the
    write lock up front (``BEGIN IMMEDIATE``), committed at the end. Only for one
    statement: two in autocommit would not be one transaction."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")
        return
    with engine.begin() as conn:
        yield conn


@contextmanager
def read_session(engine: Engine, *, doing: str, rows: str) -> Iterator[Connection]:
    """:func:`reading`, with every failure one line: a database error is a
    :class:`~harvester.errors.DatabaseError` saying what was being ``doing``, and a stored
    row that does not decode is a corrupt-database error naming the ``rows``."""
    try:
        with reading(engine) as conn, readable(rows):
            yield conn
    except SQLAlchemyError as exc:
        raise database_error(exc, doing) from exc


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def _prepare_sqlite_file(path: Path) -> None:
    """Create an empty file with ``DATABASE_FILE_MODE`` if missing, never its directory
    (:func:`~.problems.missing_directory_error`)."""
    if path.exists():
        return
    if not path.parent.is_dir():
        raise missing_directory_error(path)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, DATABASE_FILE_MODE)
    except OSError as exc:
        raise create_error(path, exc) from exc
    os.close(fd)


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled PostgreSQL connection idle longer than this is pinged before it is used again."""
_IDLE_FROM = "harvester_idle_from"


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before its use only if it sat idle in the pool for
    :data:`PING_AFTER_IDLE_SECONDS`; one whose server has gone is replaced by a new one
    (the pool retries a checkout whose listener raises ``DisconnectionError``).

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: a round trip (75 us here) for
    every read session, a tenth of a profile's reads at a million papers. A daemon's
    connections wait in the pool for hours between cycles, and those are the ones a server
    restart leaves dead; a connection given back a moment ago is used as it is (were its
    server gone since, that one read fails with one line, and the pool starts afresh)."""
    dialect = engine.dialect

    def idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_FROM] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.pop(_IDLE_FROM, None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if dialect.is_disconnect(exc, dbapi_connection, None):
                raise DisconnectionError(f"the server closed an idle connection: {exc}") from exc
            raise

    event.listen(engine, "checkin", idle_from)
    event.listen(engine, "checkout", ping_if_idle)


def _postgresql_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """No JIT compilation: the views' plans are estimated dear at a million papers (a
    correlated subquery a year or a co-author), so PostgreSQL compiled a profile's read for
    600 ms to run it in 10 (``docs/benchmarks.md``). Our statements read a profile, a
    batch or a page; none runs long enough to win the compilation back."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("SET jit = off")
    finally:
        cursor.close()
    dbapi_connection.commit()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL unless it is already (the mode is stored in the file).

    Switching needs the file to itself and does not wait on the busy timeout: processes
    opening a brand-new file at the same moment get "database is locked" from it, so the
    switch is retried for as long as the busy timeout.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_on_begin(connection: Connection) -> None:
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def insert_for(conn: Connection) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``): the one place the store
    chooses between PostgreSQL's and SQLite's."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert
    from sqlalchemy.dialects import sqlite

    return sqlite.insert


def among(
    conn: Connection, column: ColumnElement[Any], values: Iterable[Any]
) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:values)``, the values as one
    array parameter. A query's author keys or paper ids are thousands of values: as an
    ``IN`` list, SQLAlchemy writes a cast placeholder for each and psycopg parses them all
    back out of the statement's text on every execution (a tenth of a steady cycle at
    2,000 authors)."""
    listed = list(values)
    if conn.dialect.name != "postgresql":
        return column.in_(listed)
    from sqlalchemy.dialects.postgresql import ARRAY

    kind = Text() if isinstance(column.type, String) else column.type  # no cast to varchar(n)
    return column == any_(literal(listed, ARRAY(kind)))


def masked_url(url: str) -> str:
    """``url`` with any password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)
