"""The store: owns the engine, the migrations and every transaction.

One harvest of one author is one transaction (:meth:`Store.profile`): the
memberships, the events, the count change and the run's final status are
committed together or not at all. Writes are idempotent upserts keyed on the
canonical arXiv id; an unchanged paper row is not rewritten.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..batching import AuthorState
from ..changes import Plan, Seen
from ..records import Author, Paper
from . import schema as t
from .engine import create_db_engine
from .migrate import upgrade_schema
from .papers import save_papers
from .problems import database_error

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunTotals:
    """What a finished run reports in ``harvest_runs``."""

    status: str
    requests: int = 0
    entries_seen: int = 0
    new_papers: int = 0
    new_versions: int = 0
    events: int = 0
    error: str | None = None


class Store:
    """The harvester's database. Construct with an engine, or :meth:`open` a URL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str) -> Store:
        try:
            return cls(create_db_engine(url))
        except (OSError, SQLAlchemyError) as exc:
            raise database_error(exc, "cannot open the database") from exc

    def close(self) -> None:
        self.engine.dispose()

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        upgrade_schema(self.engine)

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
            stored = dict(conn.execute(select(a.key, a.name).where(a.key.in_(list(wanted)))).all())
            new = [{"key": k, "name": n} for k, n in wanted.items() if k not in stored]
            if new:
                stmt = _insert(conn)(t.author).on_conflict_do_nothing(index_elements=["key"])
                conn.execute(stmt, new)
            for key, name in wanted.items():
                if key in stored and stored[key] != name:
                    conn.execute(update(t.author).where(a.key == key).values(name=name))

    def start_run(self, author_key: str, now: datetime, mode: str | None = None) -> int:
        """Log the start of a harvest in its own short transaction."""
        return self.start_runs([author_key], now, mode)[author_key]

    def start_runs(
        self, author_keys: Sequence[str], now: datetime, mode: str | None = None
    ) -> dict[str, int]:
        """Log the start of several authors' harvests (one query) in one transaction."""
        zero = dict.fromkeys(("requests", "entries_seen", "new_papers", "new_versions"), 0)
        runs = {}
        with self.transaction() as conn:
            for key in author_keys:
                values = {"author_key": key, "started_at": now, "status": "running", "mode": mode}
                result = conn.execute(t.run.insert().values(**values, **zero, events=0))
                inserted = result.inserted_primary_key
                assert inserted is not None
                runs[key] = int(inserted[0])
        return runs

    def load_states(self, author_keys: Sequence[str]) -> dict[str, AuthorState]:
        """What each author's past harvests left: watermark, last full harvest, identity."""
        a = t.author.c
        stmt = select(a.key, a.watermark, a.last_full_at, a.baseline_identity)
        with self.engine.connect() as conn:
            rows = conn.execute(stmt.where(a.key.in_(list(author_keys))))
            return {
                r.key: AuthorState(r.key, r.watermark, r.last_full_at, r.baseline_identity)
                for r in rows
            }

    def finish_run(
        self, run_id: int, now: datetime, totals: RunTotals, conn: Connection | None = None
    ) -> None:
        """Record a run's outcome (inside ``conn``'s transaction when given)."""
        stmt = (
            update(t.run).where(t.run.c.run_id == run_id).values(finished_at=now, **vars_of(totals))
        )
        if conn is not None:
            conn.execute(stmt)
            return
        with self.transaction() as own:
            own.execute(stmt)

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
                .where(t.run.c.status == "running", t.run.c.author_key.not_in(leased))
                .values(status="failed", finished_at=now, error="abandoned: the process ended")
            )
            return conn.execute(stmt).rowcount

    # -- inside one author's transaction ------------------------------------------------

    def baseline_identity(self, conn: Connection, author_key: str) -> str | None:
        stmt = select(t.author.c.baseline_identity).where(t.author.c.key == author_key)
        return conn.execute(stmt).scalar_one_or_none()

    def load_seen(self, conn: Connection, author_key: str) -> dict[str, Seen]:
        m = t.membership.c
        rows = conn.execute(select(t.membership).where(m.author_key == author_key))
        return {
            r.arxiv_id: Seen(
                r.arxiv_id,
                r.status,
                r.matched_name,
                r.reason,
                r.seen_version,
                bool(r.seen_withdrawn),
                json.loads(r.seen_meta),
            )
            for r in rows
        }

    def load_papers(self, conn: Connection, ids: Sequence[str]) -> dict[str, Paper]:
        """Stored papers by id, with their authors (used to re-check membership)."""
        if not ids:
            return {}
        authors: dict[str, list[Author]] = {}
        pa = t.paper_author.c
        stmt = select(t.paper_author).where(pa.arxiv_id.in_(ids)).order_by(pa.arxiv_id, pa.position)
        for row in conn.execute(stmt):
            affiliations = tuple(a for a in row.affiliations.split("; ") if a)
            authors.setdefault(row.arxiv_id, []).append(Author(row.name, affiliations))
        rows = conn.execute(select(t.paper).where(t.paper.c.arxiv_id.in_(ids)))
        return {r.arxiv_id: _paper(r, authors.get(r.arxiv_id, [])) for r in rows}

    def save_papers(self, conn: Connection, papers: Sequence[Paper], now: datetime) -> int:
        """Insert new papers, rewrite changed ones with their authors, leave unchanged ones.

        Deduplicated by id (the last copy wins); returns how many papers were written.
        See :mod:`harvester.store.papers`.
        """
        return save_papers(conn, papers, now)

    def apply_plan(
        self, conn: Connection, author_key: str, plan: Plan, run_id: int, now: datetime
    ) -> None:
        """Write a plan's memberships, events and count change."""
        if plan.writes:
            stmt = _insert(conn)(t.membership)
            cols = (
                "status",
                "matched_name",
                "reason",
                "seen_version",
                "seen_withdrawn",
                "seen_meta",
            )
            stmt = stmt.on_conflict_do_update(
                index_elements=["author_key", "arxiv_id"],
                set_={c: stmt.excluded[c] for c in (*cols, "since")},
            )
            conn.execute(stmt, [_membership_row(author_key, s, now) for s in plan.writes])
        if plan.events:
            conn.execute(
                t.event.insert(),
                [
                    {
                        "author_key": author_key,
                        "arxiv_id": e.arxiv_id,
                        "kind": e.kind,
                        "detail": e.detail,
                        "recorded_at": now,
                        "run_id": run_id,
                    }
                    for e in plan.events
                ],
            )
        if plan.count_changed:
            conn.execute(
                t.count_change.insert().values(
                    author_key=author_key,
                    recorded_at=now,
                    paper_count=plan.paper_count,
                    withdrawn_count=plan.withdrawn_count,
                    previous_count=None if plan.baseline else plan.previous_count,
                    run_id=run_id,
                )
            )

    def advance_coverage(
        self, conn: Connection, author_key: str, watermark: datetime, full_at: datetime | None
    ) -> None:
        """After a complete harvest: the watermark only moves forward; a full one is dated."""
        a = t.author.c
        conn.execute(
            update(t.author)
            .where(a.key == author_key, or_(a.watermark.is_(None), a.watermark < watermark))
            .values(watermark=watermark)
        )
        if full_at is not None:
            conn.execute(update(t.author).where(a.key == author_key).values(last_full_at=full_at))

    def set_baseline(self, conn: Connection, author_key: str, identity: str) -> None:
        """Remember the identity the profile was last completely harvested with."""
        stmt = update(t.author).where(
            t.author.c.key == author_key,
            t.author.c.baseline_identity.is_distinct_from(identity),
        )
        conn.execute(stmt.values(baseline_identity=identity))

    def row_counts(self) -> dict[str, int]:
        """Rows per table (for tests and ``harvest status``)."""
        with self.engine.connect() as conn:
            return {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in t.metadata.sorted_tables
            }


def vars_of(totals: RunTotals) -> dict[str, Any]:
    return {
        "status": totals.status,
        "requests": totals.requests,
        "entries_seen": totals.entries_seen,
        "new_papers": totals.new_papers,
        "new_versions": totals.new_versions,
        "events": totals.events,
        "error": totals.error,
    }


def _insert(conn: Connection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def _membership_row(author_key: str, s: Seen, now: datetime) -> dict[str, Any]:
    return {
        "author_key": author_key,
        "arxiv_id": s.arxiv_id,
        "status": s.status,
        "matched_name": s.matched_name,
        "reason": s.reason,
        "seen_version": s.version,
        "seen_withdrawn": s.withdrawn,
        "seen_meta": json.dumps(s.meta, sort_keys=True),
        "since": now,
    }


def _paper(r: Any, authors: list[Author]) -> Paper:
    return Paper(
        arxiv_id=r.arxiv_id,
        version=r.version,
        title=r.title,
        summary=r.summary,
        published=r.published,
        updated=r.updated,
        authors=tuple(authors),
        primary_category=r.primary_category,
        categories=tuple(r.categories.split()),
        comment=r.comment,
        journal_ref=r.journal_ref,
        doi=r.doi,
        withdrawn=bool(r.withdrawn),
    )
