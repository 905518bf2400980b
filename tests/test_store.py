"""The store itself: migrations, views, schema checks and SQLite file settings."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from harvester.errors import SchemaTooNewError
from harvester.store import PUBLIC_VIEWS, Store, current_revision, head_revision
from harvester.store.schema import metadata


def test_migrations_build_exactly_the_declared_schema(store: Store) -> None:
    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []
    assert current_revision(store.engine) == head_revision()


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
