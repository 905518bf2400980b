"""Per-author leases: never two harvests of one author at once, whoever runs them.

The daemon and any number of ``harvest --once`` runs, from one machine or several, may share
a database. Before harvesting an author a process claims that author's lease, the columns
``author.lease_owner`` and ``author.lease_until``, with one conditional ``UPDATE``: it wins
only if the lease is free or expired, on SQLite (whose writers are serialised by ``BEGIN
IMMEDIATE``) and on PostgreSQL (whose row lock makes a concurrent claimer wait, then re-check
the condition) alike. A lease expires on its own, so a killed process blocks nobody for
long; while the harvest runs a background thread renews it; inside the transaction that
writes the harvest, :meth:`Lease.confirm` checks it is still ours (a process that stalled
past its lease must not write over the one that took over); at the end it is released.

A claim also refuses an author that another run harvested completely *since this run
began* (``done_since``): cycles that overlap share the work instead of repeating it.

Times come from :func:`~harvester.store.dbclock.database_now` unless a clock is injected.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Connection, Engine, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import DatabaseError, LeaseLostError
from . import schema as t
from .dbclock import database_now

logger = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 120.0
"""A lease lasts this long unless renewed: how long a killed process can block an author."""

RENEWALS_PER_TTL = 4
"""The renewal thread renews this many times per lease period."""

Clock = Callable[[], datetime]


def default_owner() -> str:
    """``host:pid``: who holds a lease, as the skip message shows it."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an author's lease could not be had; ``reason`` is shown to the user."""

    reason: str


class Leases:
    """Claims author leases on ``engine`` for one process (``owner``)."""

    def __init__(
        self,
        engine: Engine,
        *,
        owner: str | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.owner = owner or default_owner()
        self.ttl = timedelta(seconds=ttl_seconds)
        self._clock = clock

    def now(self, conn: Connection) -> datetime:
        return self._clock() if self._clock is not None else database_now(conn)

    def claim(self, author_key: str, *, done_since: datetime | None = None) -> Lease | Refusal:
        """The author's lease, or why not: leased by another process, or already harvested."""
        a = t.author.c
        try:
            with self.engine.connect() as conn, conn.begin() as transaction:
                now = self.now(conn)
                claimed = conn.execute(
                    update(t.author)
                    .where(a.key == author_key)
                    .where(or_(a.lease_owner.is_(None), a.lease_until < now))
                    .values(lease_owner=self.owner, lease_until=now + self.ttl)
                ).rowcount
                if not claimed:
                    return Refusal(self._holder(conn, author_key))
                done = _harvested_since(conn, author_key, done_since)
                if done is not None:
                    transaction.rollback()
                    return Refusal(f"harvested at {_stamp(done)} by a run that overlapped this one")
        except SQLAlchemyError as exc:
            raise DatabaseError(
                f"cannot claim the lease of {author_key}: {_one_line(exc)}"
            ) from exc
        return Lease(self, author_key)

    def abandon(self, now: datetime, reason: str) -> list[str]:
        """Give up every lease of this owner and close its runs still marked running.

        For a shutdown that cannot wait for a request in flight: the runs of the authors
        this process holds are its own, so they are closed as ``incomplete``.
        """
        try:
            return self._abandon(now, reason)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"cannot give up the leases: {_one_line(exc)}") from exc

    def _abandon(self, now: datetime, reason: str) -> list[str]:
        a, r = t.author.c, t.run.c
        with self.engine.begin() as conn:
            keys = list(conn.execute(select(a.key).where(a.lease_owner == self.owner)).scalars())
            if keys:
                conn.execute(
                    update(t.run)
                    .where(r.author_key.in_(keys), r.status == "running")
                    .values(status="incomplete", finished_at=now, error=reason)
                )
                conn.execute(
                    update(t.author)
                    .where(a.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None)
                )
        return keys

    def _holder(self, conn: Connection, author_key: str) -> str:
        a = t.author.c
        row = conn.execute(
            select(a.lease_owner, a.lease_until).where(a.key == author_key)
        ).one_or_none()
        if row is None:
            return f"unknown author {author_key!r}"
        return f"leased by {row.lease_owner} until {_stamp(row.lease_until)}"


class Lease:
    """A held lease. ``with lease:`` renews it in the background and releases it at the end."""

    def __init__(self, leases: Leases, author_key: str) -> None:
        self.leases = leases
        self.author_key = author_key
        self._done = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> Lease:
        interval = self.leases.ttl.total_seconds() / RENEWALS_PER_TTL
        self._renewer = threading.Thread(
            target=self._keep, args=(interval,), name=f"lease-{self.author_key}", daemon=True
        )
        self._renewer.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        if self._renewer is not None:
            self._renewer.join()
        self.release()

    def renew(self, conn: Connection | None = None) -> bool:
        """Push the expiry out by one period; False if the lease is no longer ours."""
        if conn is not None:
            return self._extend(conn)
        with self.leases.engine.begin() as own:
            return self._extend(own)

    def confirm(self, conn: Connection) -> None:
        """Inside the write transaction: renew, or raise :class:`LeaseLostError`."""
        if not self._extend(conn):
            raise LeaseLostError(
                f"{self.author_key}: the lease expired and was taken over;"
                " this harvest is not stored"
            )

    def release(self) -> None:
        a = t.author.c
        try:
            with self.leases.engine.begin() as conn:
                conn.execute(
                    update(t.author)
                    .where(a.key == self.author_key, a.lease_owner == self.leases.owner)
                    .values(lease_owner=None, lease_until=None)
                )
        except SQLAlchemyError as exc:  # it expires on its own
            logger.warning("%s: could not release the lease: %s", self.author_key, exc)

    def _extend(self, conn: Connection) -> bool:
        a = t.author.c
        until = self.leases.now(conn) + self.leases.ttl
        stmt = update(t.author).where(a.key == self.author_key, a.lease_owner == self.leases.owner)
        return bool(conn.execute(stmt.values(lease_until=until)).rowcount)

    def _keep(self, interval: float) -> None:
        while not self._done.wait(interval):
            try:
                if not self.renew():
                    logger.warning("%s: the lease was lost while harvesting", self.author_key)
                    return
            except SQLAlchemyError as exc:
                logger.warning("%s: could not renew the lease: %s", self.author_key, exc)


def _harvested_since(conn: Connection, author_key: str, since: datetime | None) -> datetime | None:
    if since is None:
        return None
    r = t.run.c
    stmt = select(func.max(r.finished_at)).where(
        r.author_key == author_key, r.status == "ok", r.finished_at > since
    )
    done: datetime | None = conn.execute(stmt).scalar()
    return done


def _stamp(moment: datetime | None) -> str:
    return "?" if moment is None else f"{moment:%Y-%m-%dT%H:%M:%S}Z"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]
