"""The profiles the database holds (``harvest authors``), and purging one for good.

:func:`stored_authors` reads one row per profile from the public view ``profile_stats``.
:func:`purge_authors` removes everything the database holds for some profiles, in ONE
transaction: their events, count history, runs, memberships, people's review decisions,
similar-author rows and centroids, the author row itself, and the papers that belonged
to no other profile (with their author lists). Other profiles' similar authors that
named a purged profile keep the name but lose the link (``similar_key`` set to null).
Paper rows stored without any membership (kept from incomplete harvests) stay. A
``dry_run`` runs the very same statements and rolls them back, so what it reports is
exactly what a real purge removes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Engine, Table, delete, exists, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from ..errors import ProfileNotFoundError
from . import schema as t
from .engine import among, read_session
from .papers import chunks
from .problems import database_error
from .schema import UTCDateTime

_LISTING = text(
    "SELECT author_key, name, paper_count, last_harvest_at, last_complete_at"
    " FROM profile_stats ORDER BY author_key"
).columns(last_harvest_at=UTCDateTime, last_complete_at=UTCDateTime)


LINKS_CLEARED = "similar_key cleared"
"""Other profiles' similar-author rows that named a purged profile: kept, unlinked."""


@dataclass(frozen=True, slots=True)
class StoredAuthor:
    """One profile as ``profile_stats`` shows it; ``paper_count`` is None until a
    harvest completed."""

    key: str
    name: str
    paper_count: int | None
    last_harvest_at: datetime | None


@dataclass(slots=True)
class Purged:
    """What a purge removed (or, dry, would remove): rows per table, and profiles unlinked."""

    keys: tuple[str, ...]
    rows: dict[str, int] = field(default_factory=dict)

    def count(self, table: str, rows: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + max(rows, 0)


def stored_authors(engine: Engine) -> list[StoredAuthor]:
    """Every profile in the database, by key."""
    with read_session(engine, doing="cannot read the profiles", rows="profile") as conn:
        return [
            StoredAuthor(
                r.author_key,
                r.name,
                r.paper_count if r.last_complete_at is not None else None,
                r.last_harvest_at,
            )
            for r in conn.execute(_LISTING)
        ]


def purge_authors(engine: Engine, keys: Sequence[str], *, dry_run: bool = False) -> Purged:
    """Remove every row of profiles ``keys`` (all must exist), in one transaction."""
    try:
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                purged = _purge(conn, sorted(set(keys)))
            except BaseException:
                transaction.rollback()
                raise
            if dry_run:
                transaction.rollback()
            else:
                transaction.commit()
            return purged
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot purge the profiles") from exc


def _purge(conn: Connection, keys: list[str]) -> Purged:
    known = set(
        conn.execute(select(t.author.c.key).where(among(conn, t.author.c.key, keys))).scalars()
    )
    for key in keys:
        if key not in known:
            all_keys = list(conn.execute(select(t.author.c.key).order_by(t.author.c.key)).scalars())
            raise ProfileNotFoundError(key, all_keys)
    purged = Purged(tuple(keys))
    m = t.membership.c
    papers = sorted(
        set(conn.execute(select(m.arxiv_id).where(among(conn, m.author_key, keys))).scalars())
    )
    owned = (t.event, t.count_change, t.review_decision, t.membership, t.similar_author)
    for table in (*owned, t.similar_profile):
        purged.count(table.name, _delete_keyed(conn, table, keys))
    s = t.similar_author.c
    unlinked = (
        update(t.similar_author).where(among(conn, s.similar_key, keys)).values(similar_key=None)
    )
    purged.count(LINKS_CLEARED, conn.execute(unlinked).rowcount)
    purged.count(t.run.name, _delete_keyed(conn, t.run, keys))
    gone = conn.execute(delete(t.author).where(among(conn, t.author.c.key, keys))).rowcount
    purged.count(t.author.name, gone)
    _remove_orphans(conn, papers, purged)
    return purged


def _delete_keyed(conn: Connection, table: Table, keys: list[str]) -> int:
    return int(conn.execute(delete(table).where(among(conn, table.c.author_key, keys))).rowcount)


def _note_former_authors(conn: Connection, ids: list[str]) -> None:
    pa = t.paper_author.c
    former = select(pa.arxiv_id, pa.folded_name).where(among(conn, pa.arxiv_id, ids)).distinct()
    notes = [{"arxiv_id": i, "folded_name": name} for i, name in conn.execute(former)]
    if notes:
        conn.execute(insert(t.derived_change), notes)


def _remove_orphans(conn: Connection, papers: list[str], purged: Purged) -> None:
    """The purged profiles' papers no other profile has a row about: deleted, each of
    their authors noted as a former one (their recent papers changed: a stored co-author
    centroid of theirs no longer holds); the rest are noted as changed, so the next
    refresh recomputes what read them."""
    for chunk in chunks(papers):
        orphan = select(t.paper.c.arxiv_id).where(
            among(conn, t.paper.c.arxiv_id, chunk),
            ~exists().where(t.membership.c.arxiv_id == t.paper.c.arxiv_id),
            ~exists().where(t.event.c.arxiv_id == t.paper.c.arxiv_id),
            ~exists().where(t.review_decision.c.arxiv_id == t.paper.c.arxiv_id),
        )
        gone = set(conn.execute(orphan).scalars())
        kept = [i for i in chunk if i not in gone]
        if gone:
            _note_former_authors(conn, sorted(gone))
        for table in (t.paper_author, t.paper_version, t.paper) if gone else ():
            removed = conn.execute(delete(table).where(among(conn, table.c.arxiv_id, sorted(gone))))
            purged.count(table.name, removed.rowcount)
        if kept:
            conn.execute(insert(t.derived_change), [{"arxiv_id": i} for i in kept])
