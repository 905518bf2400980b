"""Request spacing shared by every process that uses one database.

arXiv asks for one request every three seconds *in total*, however many harvesters run.
:class:`DatabasePacer` keeps the in-process :class:`~harvester.source.Pacer` contract
(``wait()`` blocks until a request may start, or raises ``StopRequested``) but takes its
turn from the ``request_slot`` row named after the API host: in one short transaction
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL) it reads the
earliest allowed start ``next_at``, reserves ``start = max(now, next_at)`` and moves
``next_at`` to ``start + delay_seconds``; then, with no transaction open, it sleeps until
``start`` (timed from the moment the database clock was read, so the commit's latency does
not shift it). Waiters therefore queue in order, and no transaction is ever held across HTTP.
A process that wakes more than :data:`MAX_LATE` after its start (a loaded machine) lets the
slot go and queues again rather than send late, close to the next process's request.

A reserved slot that goes unused (the process stopped or died) costs the others at most
one ``delay_seconds``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..errors import DatabaseError, StopRequested
from ..source import Pacer
from . import schema as t
from .dbclock import database_now

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)
_LEAD = timedelta(seconds=0.05)
"""A free slot starts this much after it is reserved, so that the reserving transaction's
commit does not make its request late for its slot (and early for the next one's)."""


MAX_LATE = timedelta(seconds=0.02)
"""A process woken later than this after its slot start gives the slot up and queues
again: a late request would start too close to the next process's."""


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

    def wait(self) -> None:
        """Block until this process's reserved slot comes, then return (or raise
        :class:`~harvester.errors.StopRequested`)."""
        with self._turn:
            while True:
                if self._stop_event.is_set():
                    raise StopRequested("stop requested before sending a request")
                wake_at = self._reserve()
                delay = wake_at - time.monotonic()
                if delay > 0 and self._stop_event.wait(delay):
                    raise StopRequested("stop requested while waiting to send a request")
                if time.monotonic() - wake_at <= MAX_LATE.total_seconds():
                    break
                # woken too late (a busy machine): sending now would crowd the next slot
        if self._on_request is not None:
            self._on_request()

    def _reserve(self) -> float:
        """Reserve the next slot; when it starts, on this process's monotonic clock."""
        slot = t.request_slot.c
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    _insert(conn)(t.request_slot)
                    .values(name=self.name, next_at=_NEVER)
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                next_at = conn.execute(
                    select(slot.next_at).where(slot.name == self.name).with_for_update()
                ).scalar_one()
                now, read_at = database_now(conn), time.monotonic()
                start = max(now + _LEAD, next_at)
                conn.execute(
                    update(t.request_slot)
                    .where(slot.name == self.name)
                    .values(next_at=start + timedelta(seconds=self.delay_seconds))
                )
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"cannot reserve a request slot: {' '.join(str(exc).split())[:300]}"
            ) from exc
        wake_at: float = read_at + (start - now).total_seconds()
        return wake_at


def _insert(conn: Connection) -> Callable[..., postgresql.Insert | sqlite.Insert]:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
