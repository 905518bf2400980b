"""Paper rows: a batch of papers becomes inserts and rewrites, never a no-op write.

:meth:`Store.save_papers <harvester.store.repository.Store.save_papers>` runs
:func:`save_papers` inside the caller's transaction. A paper's *fingerprint* is the
SHA-256 of its stored fields and authors as sorted JSON. The batch's stored
fingerprints are read first, then:

* a new paper is inserted with its authors;
* a stored paper whose fingerprint differs is rewritten (``first_seen_at`` kept) and
  its authors replaced, unless the stored version is newer (a lagging mirror's stale
  copy never overwrites what a newer answer stored);
* an unchanged paper is left alone, ``changed_at`` included.

On SQLite the transaction began with ``BEGIN IMMEDIATE`` (:mod:`.engine`) and holds the
write lock: nobody can store a paper between the read and the writes, so a plain
INSERT and UPDATE are safe. On PostgreSQL another process may store the same paper in
between, so new and changed rows go through ``INSERT ... ON CONFLICT DO UPDATE ...
WHERE fingerprint IS DISTINCT FROM``, which writes only what still differs.

Inserts are one driver ``executemany`` each (:func:`insert_rows`): SQLAlchemy's
handling of each row's parameters costs more than SQLite's insert itself. On PostgreSQL a
batch of many rows goes by ``COPY`` instead (:mod:`.copying`; the upsert from a temporary
table), a round trip a batch rather than a statement a row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, select, update

from ..names import fold_name
from ..records import Author, Paper
from . import schema as t
from .copying import bound_values, copy_rows, copy_wanted, staged
from .engine import among, insert_for

_T = TypeVar("_T")

ID_CHUNK = 500
"""Ids per ``IN (...)`` list, well under every backend's limit on bound parameters."""

_FINGERPRINT_JSON = json.JSONEncoder(default=str, sort_keys=True, ensure_ascii=False)
"""The encoder ``json.dumps(..., default=str, sort_keys=True, ensure_ascii=False)`` builds
on every call, built once. Its output is the fingerprint's format: stored rows compare
against it, so a change would rewrite every paper once (``tests/test_store.py``)."""


def save_papers(conn: Connection, papers: Sequence[Paper], now: datetime) -> int:
    """Store ``papers`` (deduplicated by id, the last copy wins); return how many were written."""
    unique = {p.arxiv_id: p for p in papers}
    if not unique:
        return 0
    rows = {key: paper_row(p, now) for key, p in unique.items()}
    stored = _fingerprints(conn, list(rows))
    new = [row for key, row in rows.items() if key not in stored]
    changed = [
        row
        for key, row in rows.items()
        if key in stored
        and stored[key][0] != row["fingerprint"]
        and stored[key][1] <= row["version"]  # an older version never overwrites a newer one
    ]
    if conn.dialect.name == "postgresql":
        written = _upsert_papers(conn, [*new, *changed])
    else:
        written = _insert_update_papers(conn, new, changed)
    former = _delete_authors(conn, [key for key in written if key in stored])
    authors = [author_row(key, i, a) for key in written for i, a in enumerate(unique[key].authors)]
    insert_rows(conn, t.paper_author, authors)
    log_changes(conn, written, former)
    from .versions import save_versions  # the histories are saved with their papers

    save_versions(conn, unique.values())
    return len(written)


def log_changes(
    conn: Connection, ids: Iterable[str], former: Iterable[tuple[str, str]] = ()
) -> None:
    """Note papers (and former authors) the derived data must look at again
    (``derived_change``, read by :mod:`harvester.store.derived`)."""
    rows = [{"arxiv_id": key, "folded_name": None} for key in ids]
    rows += [{"arxiv_id": key, "folded_name": name} for key, name in former]
    insert_rows(conn, t.derived_change, rows)


def chunks(values: Sequence[_T]) -> Iterator[Sequence[_T]]:
    """``values`` in runs of :data:`ID_CHUNK`, for ``IN (...)`` lists."""
    for start in range(0, len(values), ID_CHUNK):
        yield values[start : start + ID_CHUNK]


def unchanged_papers(conn: Connection, papers: Sequence[Paper]) -> set[str]:
    """The ids of ``papers`` stored exactly as given: :func:`save_papers` would write nothing."""
    unique = {p.arxiv_id: p for p in papers}
    stored = _fingerprints(conn, list(unique))
    return {
        key
        for key, p in unique.items()
        if key in stored and stored[key][0] == _fingerprint(_fields(p), p)
    }


def paper_row(p: Paper, now: datetime) -> dict[str, Any]:
    """The ``paper`` row of a new or changed paper, fingerprint included."""
    row = _fields(p)
    row["fingerprint"] = _fingerprint(row, p)
    row["first_seen_at"] = row["changed_at"] = now
    return row


def _fingerprint(fields: dict[str, Any], p: Paper) -> str:
    authors = [[a.name, list(a.affiliations)] for a in p.authors]
    return hashlib.sha256(_FINGERPRINT_JSON.encode([fields, authors]).encode()).hexdigest()


def _fields(p: Paper) -> dict[str, Any]:
    row: dict[str, Any] = {
        "arxiv_id": p.arxiv_id,
        "version": p.version,
        "title": p.title,
        "summary": p.summary,
        "published": p.published,
        "updated": p.updated,
        "primary_category": p.primary_category,
        "categories": " ".join(p.categories),
        "comment": p.comment,
        "journal_ref": p.journal_ref,
        "doi": p.doi,
        "withdrawn": p.withdrawn,
    }
    return row


def author_row(arxiv_id: str, position: int, a: Author) -> dict[str, Any]:
    return {
        "arxiv_id": arxiv_id,
        "position": position,
        "name": a.name,
        "folded_name": fold_name(a.name),
        "affiliations": "; ".join(a.affiliations),
    }


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """``conn.execute(table.insert(), rows)`` as one ``executemany`` on the driver, or one
    ``COPY`` for many rows on PostgreSQL (:mod:`.copying`). Every row has the keys of the
    first."""
    if not rows:
        return
    if copy_wanted(conn, rows):
        copy_rows(conn, table, rows)
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=list(rows[0]))
    order = list(compiled.positiontup or compiled.binds)
    values = bound_values(conn, table, order, rows)
    params = values if compiled.positional else [dict(zip(order, v, strict=True)) for v in values]
    conn.exec_driver_sql(compiled.string, params)


def _fingerprints(conn: Connection, ids: list[str]) -> dict[str, tuple[str, int]]:
    """The stored fingerprint and version of each of ``ids`` that has a paper row."""
    p = t.paper.c
    found: dict[str, tuple[str, int]] = {}
    for chunk in chunks(ids):
        stmt = select(p.arxiv_id, p.fingerprint, p.version).where(among(conn, p.arxiv_id, chunk))
        found.update(
            (key, (fingerprint, version)) for key, fingerprint, version in conn.execute(stmt)
        )
    return found


def _insert_update_papers(
    conn: Connection, new: list[dict[str, Any]], changed: list[dict[str, Any]]
) -> list[str]:
    """Plain INSERT and UPDATE (SQLite, under the write lock); returns the ids written."""
    insert_rows(conn, t.paper, new)
    if changed:
        stmt = update(t.paper).where(t.paper.c.arxiv_id == bindparam("b_arxiv_id"))
        conn.execute(stmt, [_update_params(row) for row in changed])
    return [row["arxiv_id"] for row in (*new, *changed)]


def _update_params(row: dict[str, Any]) -> dict[str, Any]:
    """An UPDATE's parameters: every column but the key and ``first_seen_at``."""
    params = {k: v for k, v in row.items() if k not in ("arxiv_id", "first_seen_at")}
    params["b_arxiv_id"] = row["arxiv_id"]
    return params


def _upsert_papers(conn: Connection, rows: list[dict[str, Any]]) -> list[str]:
    """Upsert (PostgreSQL), rewriting a row only if its fingerprint differs; returns
    the ids written. Another process may have stored one of ``rows`` since the read.
    Many rows are copied into a temporary table and upserted from it in one statement."""
    if not rows:
        return []
    insert = insert_for(conn)(t.paper)
    if not copy_wanted(conn, rows):
        return [row[0] for row in conn.execute(_on_conflict(insert), rows)]
    with staged(conn, t.paper) as incoming:
        copy_rows(conn, t.paper, rows, into=incoming.name)
        columns = list(rows[0])
        from_incoming = insert.from_select(columns, select(*(incoming.c[c] for c in columns)))
        written = {row[0] for row in conn.execute(_on_conflict(from_incoming))}
    return [row["arxiv_id"] for row in rows if row["arxiv_id"] in written]


def _on_conflict(insert: Any) -> Any:
    """``insert`` rewriting a stored row only where the fingerprint differs and the
    version is not older; returning the ids written."""
    excluded = insert.excluded
    kept = {"arxiv_id", "first_seen_at"}
    return insert.on_conflict_do_update(
        index_elements=["arxiv_id"],
        set_={c.name: excluded[c.name] for c in t.paper.c if c.name not in kept},
        where=t.paper.c.fingerprint.is_distinct_from(excluded.fingerprint)
        & (t.paper.c.version <= excluded.version),
    ).returning(t.paper.c.arxiv_id)


def _delete_authors(conn: Connection, ids: list[str]) -> set[tuple[str, str]]:
    """Delete the authors of papers about to be rewritten; returns ``(id, folded name)``."""
    pa = t.paper_author.c
    former: set[tuple[str, str]] = set()
    for chunk in chunks(ids):
        former.update(
            conn.execute(select(pa.arxiv_id, pa.folded_name).where(among(conn, pa.arxiv_id, chunk)))
        )
        conn.execute(t.paper_author.delete().where(among(conn, pa.arxiv_id, chunk)))
    return former
