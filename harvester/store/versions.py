"""Version histories and OAI-PMH windows.

:func:`save_versions` runs inside :func:`~harvester.store.papers.save_papers`' transaction:
each version a paper's ``history`` lists (OAI-PMH's arXivRaw) gets a ``paper_version``
row once; a version's date and size never change, so stored rows are left alone. The
``paper_versions`` view adds the first and latest versions of papers known only through
the search API.

``oai_window`` keeps, per set, the newest datestamp a complete OAI-PMH harvest saw
(:func:`window_start` is the next harvest's ``from``: a day before it, since datestamps
have day granularity).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, update

from ..records import Paper
from . import schema as t
from .copying import copy_rows, copy_wanted, staged
from .engine import insert_for

VERSION_CHUNK = 5000
"""Version rows per executemany."""
OVERLAP = timedelta(days=1)
"""How far before the newest datestamp seen the next window starts."""


def save_versions(conn: Connection, papers: Iterable[Paper]) -> None:
    """Insert the ``paper_version`` rows not stored yet (a stored one is left alone: a
    version's date and size never change), in one statement a chunk (many rows on
    PostgreSQL: by ``COPY``, :mod:`.copying`)."""
    rows = [
        {"arxiv_id": p.arxiv_id, "version": v.version, "submitted": v.submitted,
         "size_kb": v.size_kb}
        for p in papers
        for v in p.history
    ]  # fmt: skip
    if not rows:
        return
    if copy_wanted(conn, rows):
        _copy_versions(conn, rows)
        return
    statement = insert_for(conn)(t.paper_version).on_conflict_do_nothing()
    for start in range(0, len(rows), VERSION_CHUNK):
        conn.execute(statement, rows[start : start + VERSION_CHUNK])


def _copy_versions(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """Many version rows (PostgreSQL): copied into a temporary table, then one
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``."""
    columns = list(rows[0])
    with staged(conn, t.paper_version) as incoming:
        copy_rows(conn, t.paper_version, rows, into=incoming.name)
        select_all = select(*(incoming.c[c] for c in columns))
        insert = insert_for(conn)(t.paper_version).from_select(columns, select_all)
        conn.execute(insert.on_conflict_do_nothing())


def window_start(engine: Engine, set_spec: str) -> date | None:
    """The next harvest's ``from`` for ``set_spec``: the day before the newest datestamp
    its last complete harvest saw; None when it was never harvested completely."""
    w = t.oai_window.c
    with engine.connect() as conn:
        newest = conn.execute(select(w.newest_datestamp).where(w.set_spec == set_spec)).scalar()
    return newest - OVERLAP if isinstance(newest, date) else None


def record_window(engine: Engine, set_spec: str, newest: date | None, now: datetime) -> None:
    """A complete harvest of ``set_spec`` saw up to ``newest`` (None: nothing new, so the
    window stays where it was)."""
    w = t.oai_window.c
    with engine.begin() as conn:
        current = conn.execute(select(w.newest_datestamp).where(w.set_spec == set_spec)).first()
        if current is None:
            conn.execute(t.oai_window.insert().values(set_spec=set_spec, newest_datestamp=newest,
                                                      harvested_at=now))  # fmt: skip
            return
        keep = current[0]
        latest = max(d for d in (keep, newest) if d is not None) if (keep or newest) else None
        conn.execute(update(t.oai_window).where(w.set_spec == set_spec)
                     .values(newest_datestamp=latest, harvested_at=now))  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImportPosition:
    """How far an import of one file has come (``finished``: it read the whole file)."""

    lines: int
    records: int
    newest: date | None
    finished: bool


def import_position(engine: Engine, source: str) -> ImportPosition | None:
    i = t.import_progress.c
    with engine.connect() as conn:
        row = conn.execute(
            select(i.lines, i.records, i.newest_update, i.finished_at).where(i.source == source)
        ).first()
    if row is None:
        return None
    newest = row.newest_update if isinstance(row.newest_update, date) else None
    return ImportPosition(row.lines, row.records, newest, row.finished_at is not None)


def import_batch(conn: Connection, source: str, position: ImportPosition, now: datetime) -> None:
    """Move ``source``'s position, in the transaction that stored the batch's papers."""
    i = t.import_progress.c
    values = {
        "lines": position.lines,
        "records": position.records,
        "newest_update": position.newest,
        "updated_at": now,
        "finished_at": now if position.finished else None,
    }
    moved = conn.execute(update(t.import_progress).where(i.source == source).values(**values))
    if moved.rowcount == 0:
        conn.execute(t.import_progress.insert().values(source=source, **values))
