"""Per-author leases: never two harvests of one author at once, whoever runs them.

The daemon and any number of ``harvest --once`` runs, from one machine or several, may share
a database. Before harvesting, a process claims the leases of the authors one query asks
for, the columns ``author.lease_owner`` and ``author.lease_until``: one statement leases the
rows whose lease is free or expired, selected ``FOR NO KEY UPDATE SKIP LOCKED``.
On PostgreSQL, rows another process is claiming at that moment are passed over rather than
waited for, so several workers split a cycle's queries between them; on SQLite, whose
writers are serialised by ``BEGIN IMMEDIATE``, the clause is not needed. A lease expires
on its own, so a killed process blocks nobody for long; while the harvest runs a background
thread renews it; inside the transaction that writes the harvest, :meth:`Lease.release_with`
checks it is still ours (a process that stalled past its lease must not write over the one
that took over) and releases it in the same statement, so the lease ends as the harvest
commits; a lease whose harvest wrote nothing is released at its end.

A claim also refuses an author that another run harvested completely *since this run
began* (``done_since``): cycles that overlap share the work instead of repeating it.

Times come from the database's clock (:func:`~harvester.store.dbclock.statement_now`, read by
the statement itself on PostgreSQL) unless a clock is injected. Each lease statement runs on
its own (:func:`~harvester.store.engine.one_write`): on PostgreSQL one round trip, not the
four of a transaction that read the clock first.
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

from sqlalchemy import ColumnElement, Connection, Engine, exists, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import LeaseLostError
from ..vocabulary import RunStatus
from . import schema as t
from .dbclock import database_now, statement_now
from .engine import among, one_write, reading
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

    def now_in(self, conn: Connection) -> ColumnElement[datetime] | datetime:
        """Now for a statement of ``conn``'s: the injected clock's value, or the database's
        clock read by the statement itself (:func:`~.dbclock.statement_now`)."""
        return self._clock() if self._clock is not None else statement_now(conn)

    def claim(self, author_key: str, *, done_since: datetime | None = None) -> Lease | Refusal:
        """The author's lease, or why not: leased by another process, or already harvested."""
        lease, refusals = self.claim_many([author_key], done_since=done_since)
        return lease if lease is not None else refusals[author_key]

    def claim_many(
        self, author_keys: Sequence[str], *, done_since: datetime | None = None
    ) -> tuple[Lease | None, dict[str, Refusal]]:
        """One lease over every author of ``author_keys`` that is free; why not for the rest.

        One ``UPDATE ... RETURNING`` leases the rows whose lease is free or expired and that
        no run harvested completely since ``done_since``, selected ``FOR NO KEY UPDATE SKIP
        LOCKED`` (on PostgreSQL: rows another process is claiming right now are passed over,
        not waited for; SQLite serialises writers instead). ``NO KEY``: the key-share locks
        that inserting a run or an event for the author takes (its foreign key) do not make
        the row look claimed. Why the others were refused is read only if there are any; a
        refusal says whether the row was only locked at that moment
        (:attr:`Refusal.locked`): worth a retry.
        """
        try:
            with one_write(self.engine) as conn:
                won = self._lease_free(conn, list(author_keys), done_since)
            rest = [key for key in author_keys if key not in won]
            refusals = self._refusals(rest, done_since) if rest else {}
        except SQLAlchemyError as exc:
            keys = ", ".join(author_keys)
            raise database_error(exc, f"cannot claim the lease of {keys}") from exc
        ordered = [key for key in author_keys if key in won]
        return (Lease(self, *ordered) if ordered else None), refusals

    def _lease_free(
        self, conn: Connection, keys: list[str], done_since: datetime | None
    ) -> set[str]:
        """Lease the free rows of ``keys`` in one statement; the keys leased."""
        a, free, r = t.author.c, t.author.alias("free"), t.run.c
        now = self.now_in(conn)
        conditions = [
            among(conn, free.c.key, keys),
            or_(free.c.lease_owner.is_(None), free.c.lease_until < now),
        ]
        if done_since is not None:
            done = exists().where(
                r.author_key == free.c.key, r.status == RunStatus.OK, r.finished_at > done_since
            )
            conditions.append(~done)
        rows = (
            select(free.c.key)
            .where(*conditions)
            .order_by(free.c.key)
            .with_for_update(skip_locked=True, key_share=True)
        )
        stmt = (
            update(t.author)
            .where(a.key.in_(rows.scalar_subquery()))
            .values(lease_owner=self.owner, lease_until=now + self.ttl)
            .returning(a.key)
        )
        return set(conn.execute(stmt).scalars())

    def _refusals(self, keys: list[str], done_since: datetime | None) -> dict[str, Refusal]:
        """Why each of ``keys`` was not leased: harvested since ``done_since``, or held."""
        with reading(self.engine) as conn:
            done = _harvested_since(conn, keys, done_since)
            refusals = {
                key: Refusal(f"harvested at {_stamp(done[key])} by a run that overlapped this one")
                for key in done
            }
            held = [key for key in keys if key not in done]
            refusals.update(self._holders(conn, held, self.now(conn)))
        return refusals

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
        self._held = set(author_keys)
        self._guard = threading.Lock()

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

    def held(self) -> list[str]:
        """The authors this lease still covers (a committed harvest lets go of its own)."""
        with self._guard:
            return [key for key in self.author_keys if key in self._held]

    def renew(self, conn: Connection | None = None) -> bool:
        """Push the expiry out by one period; False if another process holds any of the
        authors now (one a committed harvest let go of is not renewed, and not lost)."""
        keys = self.held()
        if not keys:
            return True
        if conn is not None:
            return self._renew(conn, keys)
        with one_write(self.leases.engine) as own:
            return self._renew(own, keys)

    def release_with(self, conn: Connection, author_keys: Sequence[str]) -> None:
        """Inside the transaction that writes the harvest of ``author_keys``: confirm they
        are still ours (or raise :class:`LeaseLostError`) and release them, in one
        statement; their lease ends when that transaction commits. Then call
        :meth:`released`, so that the end of the lease does not release them again."""
        if self._let_go(conn, list(author_keys)) < len(author_keys):
            raise self._lost()

    def released(self, author_keys: Sequence[str]) -> None:
        """The transaction of :meth:`release_with` committed: these authors are let go."""
        with self._guard:
            self._held.difference_update(author_keys)

    def release(self) -> None:
        keys = self.held()
        if not keys:
            return
        try:
            with one_write(self.leases.engine) as conn:
                self._let_go(conn, keys)
        except SQLAlchemyError as exc:  # it expires on its own
            logger.warning("%s: could not release the lease: %s", self.author_key, exc)
            return
        self.released(keys)

    def _let_go(self, conn: Connection, keys: list[str]) -> int:
        """Release those of ``keys`` still ours; how many were."""
        a = t.author.c
        stmt = update(t.author).where(among(conn, a.key, keys), a.lease_owner == self.leases.owner)
        return int(conn.execute(stmt.values(lease_owner=None, lease_until=None)).rowcount)

    def _lost(self) -> LeaseLostError:
        return LeaseLostError(
            f"{self.author_key}: the lease expired and was taken over; this harvest is not stored"
        )

    def _renew(self, conn: Connection, keys: list[str]) -> bool:
        """Extend ``keys``; any not extended was either let go of by a harvest that
        committed meanwhile (no owner: fine) or taken over (another owner: lost)."""
        missed = [key for key in keys if key not in self._extend(conn, keys)]
        if not missed:
            return True
        a = t.author.c
        owned = select(a.key).where(among(conn, a.key, missed), a.lease_owner.is_not(None))
        return conn.execute(owned).first() is None

    def _extend(self, conn: Connection, keys: list[str]) -> set[str]:
        """Push the expiry of ``keys`` out by one period; the keys still ours."""
        a = t.author.c
        until = self.leases.now_in(conn) + self.leases.ttl
        stmt = update(t.author).where(among(conn, a.key, keys), a.lease_owner == self.leases.owner)
        return set(conn.execute(stmt.values(lease_until=until).returning(a.key)).scalars())

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
