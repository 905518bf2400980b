"""Per-author leases: never two harvests of one author at once, whoever runs them.

The daemon and any number of ``harvest --once`` runs, from one machine or several, may share
a database. Before harvesting, a process claims the leases of the authors one query asks
for, the columns ``author.lease_owner`` and ``author.lease_until``: it selects the rows whose
lease is free or expired ``FOR NO KEY UPDATE SKIP LOCKED`` and leases them in the same
transaction.
On PostgreSQL, rows another process is claiming at that moment are passed over rather than
waited for, so several workers split a cycle's queries between them; on SQLite, whose
writers are serialised by ``BEGIN IMMEDIATE``, the clause is not needed. A lease expires
on its own, so a killed process blocks nobody for long; while the harvest runs a background
thread renews it; inside the transaction that writes the harvest, :meth:`Lease.confirm`
checks it is still ours (a process that stalled past its lease must not write over the one
that took over); at the end it is released.

A claim also refuses an author that another run harvested completely *since this run
began* (``done_since``): cycles that overlap share the work instead of repeating it.

Times come from :func:`~harvester.store.dbclock.database_now` unless a clock is injected.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import Connection, Engine, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import LeaseLostError
from ..vocabulary import RunStatus
from . import schema as t
from .dbclock import database_now
from .engine import among
from .problems import database_error

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
    """Why an author's lease could not be had; ``reason`` is shown to the user.

    ``locked``: another transaction held the row at that moment (claiming it, or writing
    it), so it may well be free a little later.
    """

    reason: str
    locked: bool = False


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
        lease, refusals = self.claim_many([author_key], done_since=done_since)
        return lease if lease is not None else refusals[author_key]

    def claim_many(
        self, author_keys: Sequence[str], *, done_since: datetime | None = None
    ) -> tuple[Lease | None, dict[str, Refusal]]:
        """One lease over every author of ``author_keys`` that is free; why not for the rest.

        The free rows are selected ``FOR NO KEY UPDATE SKIP LOCKED`` (on PostgreSQL: rows
        another process is claiming right now are passed over, not waited for; SQLite
        serialises the whole transaction instead), then leased in the same transaction.
        ``NO KEY``: the key-share locks that inserting a run or an event for the author
        takes (its foreign key) do not make the row look claimed. A refusal says whether
        the row was only locked at that moment (:attr:`Refusal.locked`): worth a retry.
        """
        try:
            with self.engine.connect() as conn, conn.begin():
                return self._claim_many(conn, list(author_keys), done_since)
        except SQLAlchemyError as exc:
            keys = ", ".join(author_keys)
            raise database_error(exc, f"cannot claim the lease of {keys}") from exc

    def _claim_many(
        self, conn: Connection, keys: list[str], done_since: datetime | None
    ) -> tuple[Lease | None, dict[str, Refusal]]:
        a = t.author.c
        now = self.now(conn)
        free = (
            select(a.key)
            .where(among(conn, a.key, keys), or_(a.lease_owner.is_(None), a.lease_until < now))
            .order_by(a.key)
            .with_for_update(skip_locked=True, key_share=True)
        )
        got = list(conn.execute(free).scalars())
        done = _harvested_since(conn, got, done_since)
        won = [key for key in got if key not in done]
        if won:
            conn.execute(
                update(t.author)
                .where(among(conn, a.key, won))
                .values(lease_owner=self.owner, lease_until=now + self.ttl)
            )
        refusals = {
            key: Refusal(f"harvested at {_stamp(done[key])} by a run that overlapped this one")
            for key in done
        }
        refusals.update(self._holders(conn, [key for key in keys if key not in got], now))
        return (Lease(self, *won) if won else None), refusals

    def abandon(self, now: datetime, reason: str) -> list[str]:
        """Give up every lease of this owner and close its runs still marked running.

        For a shutdown that cannot wait for a request in flight: the runs of the authors
        this process holds are its own, so they are closed as ``stopped``.
        """
        try:
            return self._abandon(now, reason)
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot give up the leases") from exc

    def _abandon(self, now: datetime, reason: str) -> list[str]:
        a, r = t.author.c, t.run.c
        with self.engine.begin() as conn:
            keys = list(conn.execute(select(a.key).where(a.lease_owner == self.owner)).scalars())
            if keys:
                conn.execute(
                    update(t.run)
                    .where(among(conn, r.author_key, keys), r.status == RunStatus.RUNNING)
                    .values(status=RunStatus.STOPPED, finished_at=now, error=reason)
                )
                conn.execute(
                    update(t.author)
                    .where(a.lease_owner == self.owner)
                    .values(lease_owner=None, lease_until=None)
                )
        return keys

    def _holders(
        self, conn: Connection, author_keys: list[str], now: datetime
    ) -> dict[str, Refusal]:
        """Why each of ``author_keys`` was not free, read in one statement (with several
        workers most of a query's authors can be another's)."""
        if not author_keys:
            return {}
        a = t.author.c
        stmt = select(a.key, a.lease_owner, a.lease_until).where(among(conn, a.key, author_keys))
        rows = {row.key: row for row in conn.execute(stmt)}
        refusals = {}
        for key in author_keys:
            row = rows.get(key)
            if row is None:
                refusals[key] = Refusal(f"unknown author {key!r}")
            elif row.lease_owner is None or row.lease_until < now:
                refusals[key] = Refusal("being claimed by another process", locked=True)
            else:
                refusals[key] = Refusal(
                    f"leased by {row.lease_owner} until {_stamp(row.lease_until)}"
                )
        return refusals


class Lease:
    """A held lease over one or more authors (one query's). ``with lease:`` renews it in the
    background and releases it at the end."""

    def __init__(self, leases: Leases, *author_keys: str) -> None:
        self.leases = leases
        self.author_keys = author_keys
        self.author_key = ", ".join(author_keys)
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
                    .where(among(conn, a.key, self.author_keys), a.lease_owner == self.leases.owner)
                    .values(lease_owner=None, lease_until=None)
                )
        except SQLAlchemyError as exc:  # it expires on its own
            logger.warning("%s: could not release the lease: %s", self.author_key, exc)

    def _extend(self, conn: Connection) -> bool:
        a = t.author.c
        until = self.leases.now(conn) + self.leases.ttl
        stmt = update(t.author).where(
            among(conn, a.key, self.author_keys), a.lease_owner == self.leases.owner
        )
        return conn.execute(stmt.values(lease_until=until)).rowcount == len(self.author_keys)

    def _keep(self, interval: float) -> None:
        while not self._done.wait(interval):
            try:
                if not self.renew():
                    logger.warning("%s: the lease was lost while harvesting", self.author_key)
                    return
            except SQLAlchemyError as exc:
                logger.warning("%s: could not renew the lease: %s", self.author_key, exc)


def _harvested_since(
    conn: Connection, author_keys: list[str], since: datetime | None
) -> dict[str, datetime]:
    """The authors of ``author_keys`` harvested completely after ``since``, and when."""
    if since is None or not author_keys:
        return {}
    r = t.run.c
    stmt = (
        select(r.author_key, func.max(r.finished_at))
        .where(
            among(conn, r.author_key, author_keys), r.status == RunStatus.OK, r.finished_at > since
        )
        .group_by(r.author_key)
    )
    return {key: done for key, done in conn.execute(stmt)}


def _stamp(moment: datetime | None) -> str:
    return "?" if moment is None else f"{moment:%Y-%m-%dT%H:%M:%S}Z"
