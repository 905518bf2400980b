"""The store: owns the engine, the migrations and every transaction.

One query's harvests are read, then written: :meth:`Store.load_snapshot` (and, rarely,
:meth:`Store.load_extras`) read what the decisions need (:mod:`.snapshot`), and once
:mod:`harvester.cycle.planning` has decided, :meth:`Store.write_plans` writes the plans in one
transaction: an author's papers, memberships, events, count change, watermark and the
run's final status are written together or not at all, and every author's rows of one
kind in one statement (:mod:`.harvests`). Writes are
idempotent upserts keyed on the canonical arXiv id; an unchanged paper row is not
rewritten. The read side is
:mod:`.profiles`, :mod:`.derived` and :mod:`.runlog`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, literal, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..batching import AuthorState
from ..config import NotifySettings
from ..errors import DatabaseError
from ..plans import AuthorPlan, Extras, Needs, Snapshot, Wanted
from ..records import Paper
from ..vocabulary import HarvestMode, RunStatus
from . import schema as t
from .door import Door
from .engine import among, create_db_engine, insert_for, read_session, reading
from .harvests import Recorded, RunTotals, finish_runs, write_plans
from .leases import Lease
from .memberships import load_papers
from .migrate import upgrade_schema
from .papers import chunks, insert_rows, save_papers
from .problems import database_error
from .reader import open_reader, reader_if_exists
from .repair import check_database, repair_schema, restore_tables
from .roster import Purged, StoredAuthor, purge_authors, stored_authors
from .snapshot import load_extras, load_snapshot
from .versions import ImportPosition, import_batch, import_position, record_window, window_start

logger = logging.getLogger(__name__)


class Store(Door):
    """The harvester's database: :meth:`open` a URL to write, :meth:`reader` to read only,
    or construct with an engine. The engine is the store's own: callers outside
    :mod:`harvester.store` use the methods (:class:`~harvester.store.door.Door` has the
    read side, the review and the coordination)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        try:
            return cls(create_db_engine(url))
        except (OSError, SQLAlchemyError) as exc:
            raise database_error(exc, "cannot open the database") from exc

    @classmethod
    def reader(cls, url: str) -> Store:
        """A store that only reads: a SQLite file opened read-only (never created), or the
        server's database (:mod:`.reader`)."""
        return cls(open_reader(url))

    @classmethod
    def reader_if_exists(cls, url: str) -> Store | None:
        """:meth:`reader`, or None for a SQLite file not created yet in a directory that
        exists (before the first harvest)."""
        engine = reader_if_exists(url)
        return None if engine is None else cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def upgrade(self) -> None:
        """Check the database is sound (:mod:`.repair`), then create or upgrade the schema
        to the newest migration, and recreate a dropped table of recomputable data (each
        logged: a harvest never sends the user to ``harvest db upgrade`` for one)."""
        check_database(self.engine)
        upgrade_schema(self.engine)
        restore_tables(self.engine)

    def upgrade_and_repair(self) -> list[str]:
        """:meth:`upgrade`, then recreate the dropped tables of recomputable data and the
        public views and indexes that went missing; says which (``harvest db upgrade``)."""
        check_database(self.engine)
        upgrade_schema(self.engine)
        return repair_schema(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction; any database failure becomes a :class:`DatabaseError`."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise database_error(exc, "database write failed") from exc

    def sync_authors(self, authors: Iterable[tuple[str, str]]) -> None:
        """Make sure every configured author has a row (key, display name).

        Rows already right are not touched: an update would lock them, and workers
        claiming leases (:mod:`harvester.store.leases`) pass locked rows over.
        """
        wanted = dict(authors)
        a = t.author.c
        with self.transaction() as conn:
            stored = dict(
                conn.execute(select(a.key, a.name).where(among(conn, a.key, list(wanted)))).all()
            )
            new = [{"key": k, "name": n} for k, n in wanted.items() if k not in stored]
            if new:
                stmt = insert_for(conn)(t.author).on_conflict_do_nothing(index_elements=["key"])
                conn.execute(stmt, new)
            for key, name in wanted.items():
                if key in stored and stored[key] != name:
                    conn.execute(update(t.author).where(a.key == key).values(name=name))

    def start_run(self, author_key: str, now: datetime, mode: HarvestMode | None = None) -> int:
        """Log the start of a harvest in its own short transaction."""
        return self.start_runs([author_key], now, mode)[author_key]

    def start_runs(
        self, author_keys: Sequence[str], now: datetime, mode: HarvestMode | None = None
    ) -> dict[str, int]:
        """Log the start of several authors' harvests (one query) in one transaction."""
        with self.transaction() as conn:
            return _insert_runs(conn, author_keys, now, mode)

    def record_quiet_runs(
        self, author_keys: Sequence[str], started: datetime, finished: datetime
    ) -> None:
        """Log complete incremental runs that found nothing, in one statement: the authors
        an OAI-PMH delta holds nothing for (their profiles are not touched)."""
        counts = ("requests", "entries_seen", "new_papers", "new_versions", "events")
        zero = dict.fromkeys(counts, 0)
        rows = [
            {"author_key": key, "started_at": started, "finished_at": finished,
             "status": RunStatus.OK.value, "mode": HarvestMode.INCREMENTAL.value,
             "error": None, "stale_entries": 0, **zero}
            for key in author_keys
        ]  # fmt: skip
        with self.transaction() as conn:
            insert_rows(conn, t.run, rows)

    def load_states(self, author_keys: Sequence[str]) -> dict[str, AuthorState]:
        """What each author's past harvests left: watermark, last full harvest, identity."""
        a = t.author.c
        stmt = select(a.key, a.watermark, a.last_full_at, a.baseline_identity)
        with reading(self.engine) as conn:
            rows = conn.execute(stmt.where(among(conn, a.key, list(author_keys))))
            return {
                r.key: AuthorState(r.key, r.watermark, r.last_full_at, r.baseline_identity)
                for r in rows
            }

    def finish_run(self, run_id: int, now: datetime, totals: RunTotals) -> None:
        """Record a run's outcome in its own transaction."""
        with self.transaction() as conn:
            finish_runs(conn, [(run_id, totals)], now)

    def load_snapshot(self, wanted: Sequence[Wanted]) -> Snapshot:
        """What the store holds for one query's authors, read at once before anything is
        decided (:mod:`.snapshot`)."""
        with read_session(
            self.engine, doing="reading what the harvest compares with", rows="membership"
        ) as conn:
            return load_snapshot(conn, wanted)

    def load_extras(self, needs: Needs) -> Extras:
        """The member papers and stored papers the decisions need beyond the snapshot
        (read only when there are any)."""
        if not needs:
            return Extras()
        with read_session(self.engine, doing="reading stored papers", rows="paper") as conn:
            return load_extras(conn, needs)

    def write_plans(
        self,
        plans: Sequence[AuthorPlan],
        clock: Callable[[], datetime],
        lease: Lease | None = None,
        targets: Sequence[NotifySettings] = (),
    ) -> list[Recorded | DatabaseError]:
        """Write one query's decided plans in ONE transaction, all of them together, or
        when that fails each author in a savepoint of its own (:mod:`.harvests`): per
        author, what was written, or the database error that rolled that author alone back.
        With ``lease``, the transaction first confirms it is still ours
        (:class:`LeaseLostError`: nothing is written) and releases the authors with the
        write. Each author's notifications for
        ``targets`` go into the outbox with its events (:mod:`.outbox`)."""
        with self.transaction() as conn:
            outcomes = write_plans(conn, plans, clock(), lease, targets)
        if lease is not None:
            lease.released([p.key for p in plans])
        return outcomes

    def record_incomplete(
        self, runs: Sequence[tuple[int, RunTotals]], now: datetime, papers: Sequence[Paper] = ()
    ) -> None:
        """Close runs that did not harvest completely, in one transaction; ``papers`` that
        did arrive valid are stored too (paper rows only), so nothing arXiv sent is lost."""
        with self.transaction() as conn:
            if papers:
                save_papers(conn, papers, now)
            finish_runs(conn, runs, now)

    def set_mode(self, run_ids: Sequence[int], mode: HarvestMode) -> None:
        """Runs that turned into another kind of harvest (an incremental one gone full)."""
        with self.transaction() as conn:
            conn.execute(
                update(t.run).where(among(conn, t.run.c.run_id, list(run_ids))).values(mode=mode)
            )

    def fail_running(self, run_ids: Sequence[int], now: datetime, error: str) -> None:
        """Close those of ``run_ids`` still ``running`` as ``failed`` (best effort: when the
        database itself is what failed, the next cycle closes them as abandoned)."""
        r = t.run.c
        stmt = (
            update(t.run)
            .where(r.run_id.in_(list(run_ids)), r.status == RunStatus.RUNNING)
            .values(status=RunStatus.FAILED, finished_at=now, error=error)
        )
        try:
            with self.engine.begin() as conn:
                conn.execute(stmt)
        except SQLAlchemyError as exc:
            logger.warning(
                "could not close runs %s: %s", list(run_ids), database_error(exc, "write")
            )

    def record_skip(self, author_key: str, why: str, now: datetime) -> None:
        """A ``skipped`` run: another process has the author, or the cycle gave up on it."""
        self.record_skips({author_key: why}, now)

    def record_skips(self, reasons: Mapping[str, str], now: datetime) -> None:
        """A ``skipped`` run for each author of ``reasons``, saying why, in one statement:
        a query's authors that other processes hold cost one round trip, not two each."""
        if not reasons:
            return
        totals = {**RunTotals(RunStatus.SKIPPED).values(), "status": RunStatus.SKIPPED.value}
        rows = [
            {**totals, "author_key": key, "started_at": now, "finished_at": now, "error": why,
             "mode": None}
            for key, why in reasons.items()
        ]  # fmt: skip
        with self.transaction() as conn:
            insert_rows(conn, t.run, rows)

    def close_abandoned_runs(self, now: datetime) -> int:
        """Runs still 'running' from a process that died are marked failed.

        A run whose author holds a live lease belongs to a process that is still
        harvesting it (:mod:`harvester.store.leases`) and is left alone; a dead
        process's lease expires within minutes.
        """
        leased = select(t.author.c.key).where(t.author.c.lease_until >= now)
        with self.transaction() as conn:
            stmt = (
                update(t.run)
                .where(t.run.c.status == RunStatus.RUNNING, t.run.c.author_key.not_in(leased))
                .values(
                    status=RunStatus.FAILED, finished_at=now, error="abandoned: the process ended"
                )
            )
            return conn.execute(stmt).rowcount

    # -- inside a caller's transaction ------------------------------------------------------

    def load_papers(self, conn: Connection, ids: Sequence[str]) -> dict[str, Paper]:
        """Stored papers by id, with their authors."""
        return load_papers(conn, ids)

    def save_papers(self, conn: Connection, papers: Sequence[Paper], now: datetime) -> int:
        """Insert new papers, rewrite changed ones with their authors, leave unchanged ones.

        Deduplicated by id (the last copy wins); returns how many papers were written.
        See :mod:`harvester.store.papers`.
        """
        return save_papers(conn, papers, now)

    def oai_window_start(self, set_spec: str) -> date | None:
        """Where the next OAI-PMH harvest of ``set_spec`` starts (None: never harvested
        completely): :mod:`.versions`."""
        try:
            return window_start(self.engine, set_spec)
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot read the OAI-PMH windows") from exc

    def record_oai_window(self, set_spec: str, newest: date | None, now: datetime) -> None:
        """A complete OAI-PMH harvest of ``set_spec`` saw datestamps up to ``newest``."""
        try:
            record_window(self.engine, set_spec, newest, now)
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot record the OAI-PMH window") from exc

    def import_position(self, source: str) -> ImportPosition | None:
        """How far ``harvest import`` has read ``source`` (None: never started)."""
        try:
            return import_position(self.engine, source)
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot read the import's progress") from exc

    def import_batch(
        self, source: str, papers: Sequence[Paper], position: ImportPosition, now: datetime
    ) -> None:
        """Store a batch of papers and the import's new position in one transaction: a
        killed import resumes after the last batch stored."""
        with self.transaction() as conn:
            save_papers(conn, papers, now)
            import_batch(conn, source, position, now)

    def papers_naming(self, folded_names: Sequence[str]) -> list[Paper]:
        """Every stored paper one of whose authors is written as one of ``folded_names``
        (:func:`harvester.names.fold_name`), with its authors: the candidates of a match
        against what the database holds (after ``harvest import``)."""
        a = t.paper_author.c
        try:
            with reading(self.engine) as conn:
                ids: set[str] = set()
                for chunk in chunks(sorted(set(folded_names))):
                    found = conn.execute(
                        select(a.arxiv_id).where(among(conn, a.folded_name, chunk))
                    )
                    ids.update(row[0] for row in found)
                return list(load_papers(conn, sorted(ids)).values())
        except SQLAlchemyError as exc:
            raise database_error(exc, "cannot read the stored papers") from exc

    def stored_authors(self) -> list[StoredAuthor]:
        """Every profile the database holds, configured or not (:mod:`.roster`)."""
        return stored_authors(self.engine)

    def purge_authors(self, keys: Sequence[str], *, dry_run: bool = False) -> Purged:
        """Remove every row of profiles ``keys`` in one transaction; ``dry_run``: count what
        would go and change nothing. An unknown key: :class:`ProfileNotFoundError`."""
        return purge_authors(self.engine, keys, dry_run=dry_run)

    def row_counts(self) -> dict[str, int]:
        """Rows per table (for tests and ``harvest status``)."""
        with reading(self.engine) as conn:
            return {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in t.metadata.sorted_tables
            }


def _insert_runs(
    conn: Connection, author_keys: Sequence[str], now: datetime, mode: HarvestMode | None
) -> dict[str, int]:
    """One ``running`` run per author, in one statement (``INSERT ... SELECT`` from the
    authors' rows, ``RETURNING`` each author with its run: rows come back in any order): a
    query's runs cost one round trip, not one an author, and one parameter for the keys,
    not ten an author. An author whose row is gone (purged meanwhile) fails the query as
    the run's foreign key would."""
    if not author_keys:
        return {}
    values: dict[str, Any] = {"started_at": now, "status": RunStatus.RUNNING, "mode": mode}
    values |= dict.fromkeys(("requests", "entries_seen", "new_papers", "new_versions", "events"), 0)
    r, a = t.run.c, t.author.c
    constants = (literal(value, r[name].type).label(name) for name, value in values.items())
    rows = select(a.key, *constants).where(among(conn, a.key, list(author_keys)))
    stmt = t.run.insert().from_select(["author_key", *values], rows)
    started = {
        key: int(run_id) for key, run_id in conn.execute(stmt.returning(r.author_key, r.run_id))
    }
    missing = sorted(set(author_keys) - started.keys())
    if missing:
        raise DatabaseError(f"cannot start a harvest of {', '.join(missing)}: no such author row")
    return started
