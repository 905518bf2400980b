"""The store's door for everything but a harvest's own writes: each method is named for
what it gives (profiles, the run log, leases, pacing, review, derived data), so no caller
outside :mod:`harvester.store` holds the engine, a connection or a SQLAlchemy name.

:class:`~harvester.store.repository.Store` inherits these; they only open what the
submodules need on the store's engine and hand back the store's own records.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from ..config import NotifySettings
from ..plans import Plan
from ..vocabulary import ReviewDecision
from .derived import CorpusRows, SimilarUpdate, corpus_snapshot, store_similar
from .leases import Leases
from .migrate import current_revision, head_revision
from .outbox import (
    Notice,
    PendingItem,
    claim_notices,
    file_notice,
    finish_notice,
    pending_items,
    record_failing,
    unsent_notices,
)
from .pacing import DatabasePacer
from .problems import database_error
from .profiles import ProfileReader, profile_reader
from .review import (
    Apply,
    Candidacy,
    Decided,
    HeldPaper,
    Tally,
    decisions_of,
    held_papers,
    record_rulings,
    tally_of,
)
from .runlog import RunLog, run_log
from .schema import metadata
from .sharing import SharedCycle

_ANALYZED = ("author", "membership", "paper", "paper_author", "paper_version", "run")
"""The tables whose statistics the profile and status queries' plans depend on."""
_TIDIED = tuple(t for t in metadata.sorted_tables if t.name not in {"calendar_month", "ordinal"})
"""The tables a cycle writes: the ones it rewrites (``author``, ``run``, ``derived_change``,
``request_slot``...) as much as the ones it fills; not the two the migrations fill once."""


class Held(Protocol):
    """What :meth:`Door.hold_open` gives: something to close."""

    def close(self) -> None: ...


class _Nothing:
    def close(self) -> None:
        pass


class Door:
    """Named ways in, on ``self.engine`` (set by the store)."""

    engine: Engine

    @property
    def is_sqlite(self) -> bool:
        """A SQLite file (one writer at a time, WAL readers) rather than a server."""
        return self.engine.dialect.name == "sqlite"

    # -- schema -----------------------------------------------------------------------------

    def schema_revisions(self) -> tuple[str | None, str]:
        """The database's migration revision (None: none yet) and the newest one shipped."""
        return current_revision(self.engine), head_revision()

    def hold_open(self) -> Held:
        """Hold one connection until ``close()``: on SQLite the WAL index then stays in
        place, so readers of the file's group can read while the daemon runs (a server's
        database needs nothing held)."""
        if not self.is_sqlite:
            return _Nothing()
        try:
            return self.engine.connect()
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot open the database") from exc

    def analyze(self) -> None:
        """Give PostgreSQL's planner statistics after a bulk load (``harvest import``).

        Without them a profile's co-author count read all 3,000,000 author rows of a
        million papers (1.2 s) instead of its own 300; autovacuum analyzes a table only once
        a tenth of it has changed, and not at all where it is off. SQLite plans by its
        indexes and is left as it is."""
        if self.is_sqlite:
            return
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE " + ", ".join(_ANALYZED))
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot analyze the tables") from exc

    def tidy_if_stale(self) -> None:
        """After a cycle on PostgreSQL, do what autovacuum would where it is off (or has not
        got round to it after a cold harvest), for the store's own tables: one read of
        ``pg_stat_user_tables`` when nothing is due, then

        * ``VACUUM`` a table whose dead rows outnumber a fifth (and a thousand) of its live
          ones (autovacuum's default rule): every cycle rewrites its authors' leases,
          watermarks and runs, and without it each read of them wades through more dead
          rows, cycle after cycle;
        * ``VACUUM`` a table whose rows inserted since its last vacuum outnumber a fifth
          (and a thousand) of its rows (autovacuum's rule for inserts, PostgreSQL 13 on): a
          cold harvest's new pages get their hint bits and visibility map at once (2.4 s
          for a million papers), not a page at a time as later reads come by and dirty
          them;
        * ``ANALYZE`` a table never analyzed, or whose rows now number more than a tenth
          (and a thousand) off what its last statistics counted, so that the profile and
          status queries are planned on real row counts. Rows rewritten in place do not
          count (autovacuum's own rule analyzed ``author`` after every cycle).

        A table another session holds locked (a manual ``VACUUM``, an index being built) is
        skipped, never waited for: the next cycle sees to it. SQLite is left as it is."""
        if self.is_sqlite:
            return
        due = text(
            "SELECT s.relname, s.n_dead_tup > 1000 + s.n_live_tup / 5"
            " OR s.n_ins_since_vacuum > 1000 + GREATEST(c.reltuples, 0) / 5,"
            " c.reltuples < 0 OR ABS(s.n_live_tup - c.reltuples) > 1000 + c.reltuples / 10"
            " FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid"
            " WHERE s.schemaname = current_schema() AND s.relname = ANY(:tables)"
        )
        try:
            with self.engine.connect() as conn:
                found = conn.execute(due, {"tables": [table.name for table in _TIDIED]}).all()
                vacuumed = sorted(name for name, vacuum, _ in found if vacuum)
                stale = sorted(name for name, vacuum, outdated in found if outdated and not vacuum)
                conn.rollback()
                tidy = conn.execution_options(isolation_level="AUTOCOMMIT")
                if vacuumed:  # VACUUM runs outside a transaction; it analyzes too
                    tidy.exec_driver_sql("VACUUM (SKIP_LOCKED, ANALYZE) " + ", ".join(vacuumed))
                if stale:
                    tidy.exec_driver_sql("ANALYZE (SKIP_LOCKED) " + ", ".join(stale))
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot vacuum or analyze the tables") from exc

    # -- read side ----------------------------------------------------------------------------

    @contextmanager
    def profiles(self) -> Iterator[ProfileReader]:
        """The public views, read as :func:`~.engine.reading` reads."""
        with profile_reader(self.engine) as reader:
            yield reader

    @contextmanager
    def run_log(self) -> Iterator[RunLog]:
        """The runs, read as :func:`~.engine.reading` reads (status, the daemon's schedule)."""
        with run_log(self.engine) as log:
            yield log

    # -- coordination -------------------------------------------------------------------------

    def leases(self, owner: str | None = None) -> Leases:
        """Author leases claimed for ``owner`` (default: this process)."""
        return Leases(self.engine, owner=owner)

    def pacer(
        self,
        delay_seconds: float,
        *,
        name: str,
        stop_event: threading.Event | None = None,
        on_request: Callable[[], None] | None = None,
    ) -> DatabasePacer:
        """Request pacing shared through the database by every process using it."""
        return DatabasePacer(
            self.engine, delay_seconds, name=name, stop_event=stop_event, on_request=on_request
        )

    def shared_cycle(self) -> SharedCycle:
        """The lock by which cycles sharing the database leave the derived data's refresh
        to the one that ends last (:mod:`.sharing`); close it after the cycle."""
        return SharedCycle(self.engine)

    # -- review -------------------------------------------------------------------------------

    def held_papers(self, key: str) -> list[HeldPaper]:
        return held_papers(self.engine, key)

    def tally(self, key: str) -> Tally:
        return tally_of(self.engine, key)

    def decisions(self, key: str) -> list[Decided]:
        return decisions_of(self.engine, key)

    def record_decisions(
        self,
        key: str,
        decisions: Mapping[str, ReviewDecision | None],
        now: datetime,
        check: Callable[[Mapping[str, Candidacy]], None],
        apply: Apply | None = None,
    ) -> Plan | None:
        """Store a person's decisions (None: forget one), once ``check`` accepted every
        paper as it stands; with ``apply``, write at once what they change in the profile."""
        return record_rulings(self.engine, key, decisions, now, check, apply)

    # -- derived data -------------------------------------------------------------------------

    @contextmanager
    def corpus(self) -> Iterator[CorpusRows]:
        """The corpus and the changes since the last refresh, read in one snapshot."""
        with corpus_snapshot(self.engine) as rows:
            yield rows

    def store_similar(self, update: SimilarUpdate, now: datetime, *, force: bool = False) -> bool:
        """Write a refresh's similar authors unless a newer refresh got there first."""
        return store_similar(self.engine, update, now, force=force)

    # -- notifications (:mod:`.outbox`) ---------------------------------------------------

    def record_failing(
        self, targets: Sequence[NotifySettings], authors: Sequence[str], now: datetime
    ) -> int:
        """Outbox items for ``authors`` that began to fail, once a streak; how many are new."""
        return record_failing(self.engine, targets, authors, now)

    def pending_items(self, target: str) -> list[PendingItem]:
        """A target's items no message has taken yet, oldest first."""
        return pending_items(self.engine, target)

    def file_notice(
        self, target: str, item_ids: Sequence[int], title: str, body: str, now: datetime
    ) -> int | None:
        """One message of ``item_ids``; None when another process took them first."""
        return file_notice(self.engine, target, item_ids, title, body, now)

    def claim_notices(
        self, targets: Sequence[str], owner: str, now: datetime, ttl: timedelta
    ) -> list[Notice]:
        """The unsent messages of ``targets`` that ``owner`` now alone delivers."""
        return claim_notices(self.engine, targets, owner, now, ttl)

    def finish_notice(
        self, notice_id: int, owner: str, now: datetime, attempts: int, error: str | None
    ) -> None:
        """A claimed message delivered (``error`` None) or not; the claim given up."""
        finish_notice(self.engine, notice_id, owner, now, attempts, error)

    def unsent_notices(self) -> list[Notice]:
        """Every message not delivered yet, oldest first."""
        return unsent_notices(self.engine)
