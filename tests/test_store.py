"""The store itself: migrations, views, schema checks, SQLite file settings, paper rows."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from harvester.errors import SchemaTooNewError
from harvester.records import Author, Paper, PaperVersion
from harvester.store import PUBLIC_VIEWS, Store, current_revision, head_revision
from harvester.store import schema as t
from harvester.store.copying import COPY_MIN_ROWS
from harvester.store.papers import ID_CHUNK, author_row, insert_rows, paper_row
from harvester.store.schema import POSTGRESQL_ONLY, metadata


def test_migrations_build_exactly_the_declared_schema(store: Store) -> None:
    """The same schema on both engines but for the indexes PostgreSQL alone gets
    (declared with ``ddl_if``, which Alembic's comparison does not read)."""
    dialect = store.engine.dialect.name

    def on_this_engine(item: Any, name: Any, kind: str, reflected: bool, _other: Any) -> bool:
        elsewhere = kind == "index" and name in POSTGRESQL_ONLY and dialect != "postgresql"
        return reflected or not elsewhere

    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": on_this_engine})
        diff = compare_metadata(context, metadata)
    assert diff == []
    assert current_revision(store.engine) == head_revision()


def test_the_head_revision_the_readers_expect_is_the_newest_migration() -> None:
    """Read commands compare the schema with ``HEAD_REVISION`` without importing Alembic."""
    from alembic.script import ScriptDirectory

    from harvester.store.migrate import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == head_revision()


def test_public_views_exist(store: Store) -> None:
    assert set(PUBLIC_VIEWS) <= set(inspect(store.engine).get_view_names())
    with store.engine.connect() as conn:
        for view in PUBLIC_VIEWS:
            conn.execute(text(f"SELECT * FROM {view}")).all()


def test_upgrade_is_idempotent(store: Store) -> None:
    store.upgrade()
    assert current_revision(store.engine) == head_revision()


def test_a_schema_newer_than_the_code_is_refused(store: Store) -> None:
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaTooNewError, match="9999"):
        store.upgrade()


def test_sqlite_connections_use_wal_and_foreign_keys(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    store = Store.open(f"sqlite:///{tmp_path / 'sub' / 'h.db'}")
    try:
        store.upgrade()
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30000
    finally:
        store.close()
    mode = stat.S_IMODE((tmp_path / "sub" / "h.db").stat().st_mode)
    assert mode & 0o007 == 0, "the database must not be readable by everyone"
    assert mode & 0o040, "the database must be readable by its group"


# --- paper rows (harvester.store.papers) ------------------------------------------------

T1 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
T2 = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)


def _paper(arxiv_id: str = "2401.00001", **changes: Any) -> Paper:
    fields: dict[str, Any] = {
        "arxiv_id": arxiv_id,
        "version": 1,
        "title": "Déjà vu: a title",
        "summary": "An abstract.",
        "published": datetime(2024, 1, 1, tzinfo=UTC),
        "updated": datetime(2024, 1, 2, 12, 30, tzinfo=timezone(timedelta(hours=2))),
        "authors": (Author("Sham Kakade", ("Harvard", "MSR")), Author("Jürgen Straße")),
        "primary_category": "cs.LG",
        "categories": ("cs.LG", "stat.ML"),
        "comment": None,
        "journal_ref": None,
        "doi": "10.1/x",
        "withdrawn": False,
    }
    return Paper(**{**fields, **changes})


def _rows(store: Store, table: str) -> list[tuple[Any, ...]]:
    with store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}")))


def test_the_fingerprint_keeps_its_format(store: Store) -> None:
    """Databases written by earlier versions hold this fingerprint: if it changed, every
    stored paper would look changed once and be rewritten, ``changed_at`` and all."""
    p = _paper(comment="v2: 10 pages", withdrawn=True)
    # SHA-256 of json.dumps([row, authors], default=str, sort_keys=True, ensure_ascii=False),
    # as every version so far has written it
    pinned = "f2a662a74f0c81bd5e24fc25873b0ecbb8e1e3ac8306bdb377e54cd36f77f732"
    assert paper_row(p, T1)["fingerprint"] == pinned
    with store.transaction() as conn:
        store.save_papers(conn, [p], T1)
    with store.engine.connect() as conn:
        assert conn.execute(select(t.paper.c.fingerprint)).scalar_one() == pinned


@pytest.mark.parametrize("copies", [1, COPY_MIN_ROWS], ids=["executemany", "copy"])
def test_insert_rows_stores_what_sqlalchemy_stores(store: Store, copies: int) -> None:
    """The driver-level ``executemany``, and ``COPY`` for many rows on PostgreSQL, convert
    values exactly as ``conn.execute`` does."""
    rows = [
        row
        for n in range(copies)
        for row in (
            paper_row(_paper(f"2401.{n:05d}"), T1),
            paper_row(_paper(f"2402.{n:05d}", comment="c\tx\n", journal_ref="J", doi=None), T1),
            paper_row(_paper(f"hep-th/99{n:05d}", withdrawn=True, title="Ωmega \\N"), T2),
        )
    ]
    authors = [
        author_row(f"2401.{n:05d}", i, a)
        for n in range(copies)
        for i, a in enumerate(_paper().authors)
    ]
    stored = []
    for insert in (
        lambda conn, table, rows: conn.execute(table.insert(), rows),
        insert_rows,
    ):
        with store.transaction() as conn:
            conn.execute(t.paper_author.delete())
            conn.execute(t.paper.delete())
            insert(conn, t.paper, rows)
            insert(conn, t.paper_author, authors)
        stored.append((_rows(store, "paper"), _rows(store, "paper_author")))
    assert stored[0] == stored[1]
    assert len(stored[0][0]) == 3 * copies and len(stored[0][1]) == 2 * copies


def test_only_new_and_changed_papers_are_written(store: Store) -> None:
    old, same, renamed = _paper("2401.00001"), _paper("2401.00002"), _paper("2401.00003")
    with store.transaction() as conn:
        assert store.save_papers(conn, [old, same, renamed], T1) == 3
    new = _paper("2401.00004")
    changed = _paper("2401.00001", version=2)
    renamed = _paper("2401.00003", authors=(Author("Sham M. Kakade"),))
    with store.transaction() as conn:
        assert store.save_papers(conn, [changed, same, renamed, new], T2) == 3
    with store.engine.connect() as conn:
        p = t.paper.c
        stmt = select(p.arxiv_id, p.version, p.first_seen_at, p.changed_at).order_by(p.arxiv_id)
        assert [tuple(r) for r in conn.execute(stmt)] == [
            ("2401.00001", 2, T1, T2),
            ("2401.00002", 1, T1, T1),
            ("2401.00003", 1, T1, T2),
            ("2401.00004", 1, T2, T2),
        ]
        pa = t.paper_author.c
        stmt = select(pa.arxiv_id, pa.name, pa.folded_name).where(pa.arxiv_id == "2401.00003")
        assert [tuple(r) for r in conn.execute(stmt)] == [
            ("2401.00003", "Sham M. Kakade", "sham m kakade")
        ]
    with store.transaction() as conn:
        assert store.save_papers(conn, [changed, same, renamed, new], T2) == 0


@pytest.mark.parametrize("k", [1, COPY_MIN_ROWS], ids=["row-by-row", "copy"])
def test_a_large_batch_writes_what_a_small_one_writes(store: Store, k: int) -> None:
    """New, changed, stale (an older version) and unchanged papers with their versions:
    the same outcome whether a batch goes row by row or, large on PostgreSQL, by ``COPY``
    into temporary tables and one upsert."""
    v1 = PaperVersion(1, datetime(2024, 1, 1, tzinfo=UTC), 12)
    v2 = PaperVersion(2, datetime(2024, 2, 1, tzinfo=timezone(timedelta(hours=-5))), None)
    ids = range(k)
    first = [
        *(_paper(f"2401.{n:05d}", history=(v1,)) for n in ids),  # to be changed
        *(_paper(f"2402.{n:05d}", version=2, history=(v1, v2)) for n in ids),  # then stale
        *(_paper(f"2403.{n:05d}", history=(v1,)) for n in ids),  # unchanged
    ]
    second = [
        *(_paper(f"2401.{n:05d}", version=2, history=(v1, v2)) for n in ids),
        *(_paper(f"2402.{n:05d}", title="Stale", history=(v1,)) for n in ids),
        *(_paper(f"2403.{n:05d}", history=(v1,)) for n in ids),
        *(_paper(f"2404.{n:05d}", history=(v1,)) for n in ids),  # new
    ]
    with store.transaction() as conn:
        assert store.save_papers(conn, first, T1) == 3 * k
    with store.transaction() as conn:
        assert store.save_papers(conn, second, T2) == 2 * k
    p = t.paper.c
    with store.engine.connect() as conn:
        stmt = select(p.arxiv_id, p.version, p.title, p.first_seen_at, p.changed_at)
        rows = {r.arxiv_id: tuple(r)[1:] for r in conn.execute(stmt)}
    assert rows["2401.00000"] == (2, "Déjà vu: a title", T1, T2)
    assert rows["2402.00000"] == (2, "Déjà vu: a title", T1, T1)
    assert rows["2403.00000"] == (1, "Déjà vu: a title", T1, T1)
    assert rows["2404.00000"] == (1, "Déjà vu: a title", T2, T2)
    assert len(rows) == 4 * k and len(_rows(store, "paper_author")) == 8 * k
    with store.engine.connect() as conn:
        versions = [tuple(r) for r in conn.execute(select(t.paper_version))]
    assert len(versions) == 6 * k
    assert ("2401.00000", 2, datetime(2024, 2, 1, 5, tzinfo=UTC), None) in versions
    changes = _rows(store, "derived_change")  # 3k new, 2k written, 2 former authors of k
    assert len(changes) == 7 * k


def test_a_batch_larger_than_an_id_chunk(store: Store) -> None:
    batch = [_paper(f"2401.{n:05d}") for n in range(1, ID_CHUNK + 3)]
    with store.transaction() as conn:
        assert store.save_papers(conn, batch, T1) == len(batch)
    with store.transaction() as conn:
        edited = [_paper(p.arxiv_id, title="Edited") for p in batch]
        assert store.save_papers(conn, edited, T2) == len(batch)
    assert len(_rows(store, "paper_author")) == 2 * len(batch)
    with store.engine.connect() as conn:
        titles = conn.execute(select(t.paper.c.title).distinct()).scalars().all()
    assert titles == ["Edited"]
