"""Cycles that share a database, and which of them refreshes the derived data.

Workers (``harvest daemon`` and ``harvest --once`` processes on one database) split a
cycle's authors between them (:mod:`.leases`); the derived data (similar authors, the
site) are computed from the whole database, so one refresh after the last of them is
enough, and a refresh by each would cost N times the work, most of it on partial data
while the others still write. :class:`SharedCycle` decides it with one lock taken two ways:
a cycle holds it *shared* while it harvests; at its end it lets go and tries to take it
*exclusively*:

* it gets it: nobody is harvesting and nobody refreshing, so it refreshes (holding the
  lock, so that a worker ending meanwhile leaves the refresh to it: everything that worker
  wrote was written before this refresh began);
* another cycle still holds it shared: that cycle refreshes when it ends (it, too, will
  try), so this one leaves it;
* another process refreshes right now (the lock is held exclusively): that refresh may
  have read the database before this cycle's last writes, so this one waits for it to end
  and tries again.

A cycle that starts while a refresh runs harvests without the shared hold (it does not
wait for the refresh) and tries at its end like any other. On PostgreSQL the lock is an
advisory lock on a connection of its own; on a SQLite file, ``flock`` on a file beside
the database; both are released if the process dies. An in-memory database has one
process: it always refreshes.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, TextClause, text
from sqlalchemy.exc import SQLAlchemyError

from .engine import sqlite_path
from .lockfile import EXCLUSIVE, SHARED, LockFile, close_session
from .problems import database_error

logger = logging.getLogger(__name__)

WAIT_SECONDS = 0.5
"""How often a cycle waiting for another process's refresh to end looks again."""


class _Lock(Protocol):
    def try_shared(self) -> bool: ...

    def try_exclusive(self) -> bool: ...

    def release(self) -> None: ...

    def close(self) -> None: ...


class SharedCycle:
    """One process's side of the lock that the cycles on ``engine`` share."""

    def __init__(self, engine: Engine) -> None:
        self._lock = _lock_for(engine)

    def close(self) -> None:
        self._lock.close()

    @contextmanager
    def harvesting(self) -> Iterator[None]:
        """Held over a cycle's harvest: a refresh waits for its end (unless the cycle
        began while a refresh ran, see the module)."""
        held = self._lock.try_shared()
        try:
            yield
        finally:
            if held:
                self._lock.release()

    @contextmanager
    def refresh_turn(self, stop: threading.Event) -> Iterator[bool]:
        """After a cycle's harvest: True if this process is to refresh the derived data
        (the lock is held until the block ends), False if another cycle that has not
        ended yet will (or ``stop`` was set while waiting for a refresh to end)."""
        mine = self._take(stop)
        try:
            yield mine
        finally:
            if mine:
                self._lock.release()

    def _take(self, stop: threading.Event) -> bool:
        while True:
            if self._lock.try_exclusive():
                return True
            if self._lock.try_shared():  # nobody refreshes: somebody still harvests
                self._lock.release()
                logger.info("the derived data are left to the cycle that ends last")
                return False
            logger.debug("another process refreshes the derived data; waiting for it")
            if stop.wait(WAIT_SECONDS):
                return False


def _lock_for(engine: Engine) -> _Lock:
    if engine.dialect.name == "postgresql":
        return _AdvisoryLock(engine)
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None:
        return _Alone()
    return _FileLock(path.with_name(path.name + ".cycles.lock"))


class _Alone:
    """An in-memory database: one process, always its turn."""

    def try_shared(self) -> bool:
        return True

    def try_exclusive(self) -> bool:
        return True

    def release(self) -> None:
        pass

    def close(self) -> None:
        pass


class _FileLock(LockFile):
    """``flock`` on a file beside the SQLite database."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "cycle lock")

    def try_shared(self) -> bool:
        return self.try_lock(SHARED)

    def try_exclusive(self) -> bool:
        return self.try_lock(EXCLUSIVE)


class _AdvisoryLock:
    """A session advisory lock, shared or exclusive, on a connection of its own (no
    transaction): released by the server if the process or its connection dies."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.key = 0  # set on connecting: advisory locks span the server's databases
        self._conn: Connection | None = None
        self._held: str | None = None

    def try_shared(self) -> bool:
        return self._try("shared", _TRY_SHARED)

    def try_exclusive(self) -> bool:
        return self._try("exclusive", _TRY_EXCLUSIVE)

    def release(self) -> None:
        held, self._held = self._held, None
        if self._conn is None or held is None:
            return
        try:
            self._conn.execute(_UNLOCK_SHARED if held == "shared" else _UNLOCK, {"key": self.key})
        except SQLAlchemyError as exc:  # the connection is gone, and the lock with it
            logger.warning("%s", database_error(exc, "could not release the cycle lock"))
            self.close()

    def close(self) -> None:
        """Let go of the lock and its connection (back to the pool, which would keep a
        session lock alive: it is released first, or the connection discarded)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            self._held = None
            close_session(conn, "cycle lock")

    def _try(self, how: str, statement: TextClause) -> bool:
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                self.key = _key(self._conn)
            got = bool(self._conn.execute(statement, {"key": self.key}).scalar())
        except SQLAlchemyError as exc:
            self.close()
            raise database_error(exc, "cannot take the cycle lock") from exc
        if got:
            self._held = how
        return got


def _key(conn: Connection) -> int:
    """The lock's key for this database and schema: the cycles of another data set (a
    schema of its own, as each test has) neither wait for these nor refresh for them."""
    where = conn.execute(text("SELECT current_database() || '.' || current_schema()")).scalar()
    digest = hashlib.sha256(f"arxiv-harvester cycles {where}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_TRY_SHARED = text("SELECT pg_try_advisory_lock_shared(:key)")
_TRY_EXCLUSIVE = text("SELECT pg_try_advisory_lock(:key)")
_UNLOCK_SHARED = text("SELECT pg_advisory_unlock_shared(:key)")
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
