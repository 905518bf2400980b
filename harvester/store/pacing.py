"""Request spacing shared by every process that uses one database.

arXiv asks for one request every three seconds *in total*, however many harvesters run,
and one connection at a time. :class:`DatabasePacer` keeps the in-process
:class:`~harvester.pacer.Pacer` contract (``turn()`` holds a request's turn, ``wait()``
blocks until a request may start, or raises ``StopRequested``) for every process that
shares a database:

1. it takes the request lock, held until the answer has been read: a PostgreSQL advisory
   lock on a connection of its own (waited for in the server, woken as the holder lets go)
   or ``flock`` on a file beside a SQLite database; both are released if the process dies;
2. alone, it sets ``next_at`` of the ``request_slot`` row named after the API host to the
   database's *now* plus ``delay_seconds`` if ``next_at`` has passed (one statement);
   else it reads ``next_at``, sleeps until then (timed from the moment the database clock
   was read, with no transaction open), and sets it so;
3. it sends the request.

The next start is timed from when a request really went, so a process woken late by a
loaded machine delays the next request rather than crowding it, and requests never
overlap. No transaction is ever held across HTTP.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StopRequested
from ..pacer import Pacer
from . import schema as t
from .dbclock import first_with_now, statement_now
from .engine import insert_for, one_write, reading, sqlite_path
from .lockfile import EXCLUSIVE, LockFile, close_session
from .problems import database_error

logger = logging.getLogger(__name__)

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


_MARGIN = timedelta(seconds=0.01)
"""Added to every gap: the moments between claiming a start and the request reaching the
wire differ by a few milliseconds from one request to the next (seen as a gap of 47 ms at
a delay of 50 ms in the look-alike's log); 0.3 % of arXiv's three seconds."""
_LOCK_WAIT = 0.25
"""Seconds a wait for the request lock lasts before the stop event is looked at again."""


def slot_name(api_url: str) -> str:
    """The ``request_slot`` row for an API: its host, so every harvester of it shares one."""
    return (urlsplit(api_url).hostname or api_url)[:64]


class DatabasePacer(Pacer):
    """Keeps ``delay_seconds`` between the starts of any two requests of every process
    pacing on ``engine`` under ``name``.

    ``on_request`` is called (outside any transaction) as each request is allowed to
    start: the daemon uses it as a sign of progress for the systemd watchdog.
    """

    def __init__(
        self,
        engine: Engine,
        delay_seconds: float,
        *,
        name: str,
        stop_event: threading.Event | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> None:
        self._stop_event = stop_event or threading.Event()
        super().__init__(delay_seconds, stop_event=self._stop_event)
        self.engine = engine
        self.name = name
        self._on_request = on_request
        self._turn = threading.Lock()
        self._exchange = exchange_lock(engine, name)

    def close(self) -> None:
        """Let go of the request lock's connection or file (taken again when needed)."""
        self._exchange.close()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """A request's turn: no other process's request is in flight, and
        ``delay_seconds`` have passed since the last one started.

        arXiv asks for one connection at a time as well as one request every
        ``delay_seconds``. The request lock is taken first and held until the answer is
        read; then, alone, the process waits for the earliest allowed start and moves it
        to *its own* start plus the delay. The next start is therefore timed from when this
        request really went, however late a loaded machine woke it.
        """
        with self._turn:
            self._take_exchange()
            try:
                self._wait_for_start()
                if self._on_request is not None:
                    self._on_request()
                yield
            finally:
                self._exchange.release()

    def wait(self) -> None:
        """Block until a request may start and claim that start (a turn with nothing in
        it), or raise :class:`~harvester.errors.StopRequested`."""
        with self.turn():
            pass

    def _take_exchange(self) -> None:
        while not self._exchange.acquire(timeout=_LOCK_WAIT):
            if self._stop_event.is_set():
                raise StopRequested("stop requested while another request was in flight")
            logger.debug("another process's request is still running; waiting for it")
        if self._stop_event.is_set():
            self._exchange.release()
            raise StopRequested("stop requested before sending a request")

    def _wait_for_start(self) -> None:
        """Claim the start at once if it is due (one statement); else sleep until it is,
        then claim it (the request lock held throughout)."""
        wake_at = self._claim_if_due()
        if wake_at is None:
            return
        delay = wake_at - time.monotonic()
        if delay > 0 and self._stop_event.wait(delay):
            raise StopRequested("stop requested while waiting to send a request")
        if self._stop_event.is_set():
            raise StopRequested("stop requested before sending a request")
        self._claim()

    def _claim_if_due(self) -> float | None:
        """If the earliest allowed start has come, claim the next one (now plus the delay)
        and return None; else when it comes, on this process's monotonic clock. When
        requests are due at once (the usual case when answers take longer than the delay),
        that is one statement a request."""
        if self._move_slot(due_only=True):
            return None
        try:
            return self._earliest()
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot read the request slot") from exc

    def _earliest(self) -> float:
        """When the next request may start, on this process's monotonic clock: the slot
        and the database's clock read in one statement (the slot's row is made the first
        time it is missing, and allows a request at once)."""
        slot = t.request_slot.c
        with reading(self.engine) as conn:
            row, now = first_with_now(conn, select(slot.next_at).where(slot.name == self.name))
            read_at = time.monotonic()
        if row is None:
            self._make_slot()
            return read_at
        wake_at: float = read_at + max(0.0, (row.next_at - now).total_seconds())
        return wake_at

    def _make_slot(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert_for(conn)(t.request_slot)
                .values(name=self.name, next_at=_NEVER)
                .on_conflict_do_nothing(index_elements=["name"])
            )

    def _claim(self) -> None:
        """The next start: now, on the database's clock, plus the delay (and
        :data:`_MARGIN`), in one statement."""
        self._move_slot(due_only=False)

    def _move_slot(self, *, due_only: bool) -> bool:
        """Set the slot's next start to now plus the delay and :data:`_MARGIN` (with
        ``due_only``, only if that start has come); whether it was set."""
        slot = t.request_slot.c
        try:
            with one_write(self.engine) as conn:
                now = statement_now(conn)
                where = [slot.name == self.name, *([slot.next_at <= now] if due_only else [])]
                gap = timedelta(seconds=self.delay_seconds) + _MARGIN
                stmt = update(t.request_slot).where(*where).values(next_at=now + gap)
                return bool(conn.execute(stmt).rowcount)
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot claim a request slot") from exc


class ExchangeLock(Protocol):
    """Held while one request is in flight, by one process of all that share a database."""

    def acquire(self, timeout: float) -> bool: ...

    def release(self) -> None: ...

    def close(self) -> None: ...


def exchange_lock(engine: Engine, name: str) -> ExchangeLock:
    """PostgreSQL: an advisory lock; a SQLite file: ``flock`` on a file beside it."""
    if engine.dialect.name == "postgresql":
        return _AdvisoryLock(engine, name)
    path = sqlite_path(engine.url.render_as_string(hide_password=False))
    if path is None:
        return _ThreadLock()
    return _FileLock(path.with_name(path.name + ".requests.lock"))


def _poll(attempt: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not attempt():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
    return True


class _ThreadLock:
    """One process only (an in-memory database): a plain lock is enough."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def acquire(self, timeout: float) -> bool:
        return self._lock.acquire(timeout=timeout)

    def release(self) -> None:
        self._lock.release()

    def close(self) -> None:
        pass


class _FileLock(LockFile):
    """``flock`` on a file beside the database: released by the kernel if the process dies."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, "request lock")

    def acquire(self, timeout: float) -> bool:
        return _poll(lambda: self.try_lock(EXCLUSIVE), timeout)


class _AdvisoryLock:
    """A session advisory lock on a connection of its own, kept open (no transaction):
    released by the server if the process or its connection dies."""

    def __init__(self, engine: Engine, name: str) -> None:
        self.engine = engine
        digest = hashlib.sha256(f"arxiv-harvester requests {name}".encode()).digest()
        self.key = int.from_bytes(digest[:8], "big", signed=True)
        self._conn: Connection | None = None

    def acquire(self, timeout: float) -> bool:
        """Wait for the lock in the server, at most ``timeout`` (its ``lock_timeout``): the
        waiter is woken as the holder lets go, with no polling."""
        millis = f"{max(1, round(timeout * 1000))}ms"
        try:
            if self._conn is None:
                self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._conn.execute(_LOCK, {"key": self.key, "timeout": millis})
        except SQLAlchemyError as exc:
            if getattr(getattr(exc, "orig", None), "sqlstate", None) == _LOCK_NOT_AVAILABLE:
                return False
            self._drop()
            raise database_error(exc, "cannot take the request lock") from exc
        return True

    def _drop(self) -> None:
        """Discard the lock's connection after an error (the server lets go of its lock)."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.invalidate()

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(_UNLOCK, {"key": self.key})
        except SQLAlchemyError as exc:  # the connection is gone, and the lock with it
            logger.warning("%s", database_error(exc, "could not release the request lock"))
            self._drop()

    def close(self) -> None:
        """Back to the pool, which would keep a session lock alive: released first, or
        the connection discarded."""
        if self._conn is not None:
            conn, self._conn = self._conn, None
            close_session(conn, "request lock")


_LOCK = text("SELECT set_config('lock_timeout', :timeout, true), pg_advisory_lock(:key)")
"""The lock, waited for at most ``lock_timeout``: set for this statement's own transaction
(``true``: local), so the pooled connection keeps no short timeout afterwards."""
_LOCK_NOT_AVAILABLE = "55P03"
"""SQLSTATE lock_not_available: ``lock_timeout`` ran out while waiting."""
_UNLOCK = text("SELECT pg_advisory_unlock(:key)")
