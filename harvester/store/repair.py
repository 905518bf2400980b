"""Checks and repairs of a database that the migrations alone would not notice.

:func:`check_database` runs before anything is written: a SQLite ``quick_check`` that
fails, or a schema-version table with more than one row, is one
:class:`~harvester.errors.CorruptDatabaseError` naming the problem and how to recover.
:func:`repair_schema` (``harvest db upgrade``) recreates every public view and every index
the code defines that has gone missing, and says which. Before them come the tables of
data that the papers or a person can give again (:data:`RECREATED`): a dropped one is
created empty (also by every command that migrates: :func:`restore_tables`), and the
similar authors are marked for a full recompute. The tables of harvested data are never
recreated empty: that would pass a loss off as a fresh start.

The views the code defines are the newest definition of each in the migrations
(``VIEWS`` of each revision, later revisions replacing earlier ones): the migrations stay
the one place their SQL is written.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, delete, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import CorruptDatabaseError
from . import schema as t
from .migrate import alembic_config, one_version
from .problems import database_error
from .schema import indexes_on, metadata

logger = logging.getLogger(__name__)

DERIVED = (
    t.derived_state,
    t.derived_change,
    t.similar_model,
    t.similar_profile,
    t.similar_author,
    t.coauthor_centroid,
)
"""Derived from the papers: recomputed in full once any of them is recreated."""
RECREATED = (*DERIVED, t.review_decision)
"""The tables a repair creates again, empty, when dropped (people's decisions are lost
with the table; the next ``harvest review`` writes them again)."""

QUICK_CHECK_SHOWN = 3
"""How many of ``quick_check``'s complaints the error repeats."""


def defined_views() -> dict[str, str]:
    """Every public view's SQL as of the newest revision, in creation order."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config())
    views: dict[str, str] = {}
    for script in reversed(list(scripts.walk_revisions())):
        views.update(getattr(script.module, "VIEWS", {}))
    return views


def check_database(engine: Engine) -> None:
    """Refuse a damaged database before anything is written (see the module docstring)."""
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                _quick_check(conn)
            one_version(conn)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot check the database") from exc


def repair_schema(engine: Engine) -> list[str]:
    """Recreate the tables of :data:`RECREATED`, the public views and the indexes that
    are missing; returns what was done."""
    try:
        with engine.begin() as conn:
            return _recreate_tables(conn) + _recreate_views(conn) + _recreate_indexes(conn)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot repair the schema") from exc


def restore_tables(engine: Engine) -> None:
    """Recreate the dropped tables of :data:`RECREATED` (each logged), and the views that
    read them, so that a harvest never stops at one (``harvest db upgrade`` says the rest)."""
    try:
        with engine.connect() as conn:
            present = set(inspect(conn).get_table_names())
        if all(table.name in present for table in RECREATED):
            return
        with engine.begin() as conn:
            done = _recreate_tables(conn) + _recreate_views(conn)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot repair the schema") from exc
    for line in done:
        logger.warning("%s", line)


def _recreate_tables(conn: Connection) -> list[str]:
    present = set(inspect(conn).get_table_names())
    missing = [table for table in RECREATED if table.name not in present]
    if not missing:
        return []
    metadata.create_all(conn, tables=missing)
    if any(table in DERIVED for table in missing):  # the rest is stale now: all again
        conn.execute(delete(t.similar_model))
    return [f"recreated table {table.name} (empty)" for table in missing]


def _quick_check(conn: Connection) -> None:
    found = [row[0] for row in conn.exec_driver_sql("PRAGMA quick_check")]
    if found == ["ok"]:
        return
    shown = "; ".join(found[:QUICK_CHECK_SHOWN]) + (" ..." if len(found) > 3 else "")
    raise CorruptDatabaseError(
        f"the SQLite file fails its integrity check: {shown}",
        hint="restore the file from a backup, or recover what is readable with"
        " 'sqlite3 FILE .recover | sqlite3 NEW' and point [database] url at NEW",
    )


def _recreate_views(conn: Connection) -> list[str]:
    present = set(inspect(conn).get_view_names())
    done = []
    for name, sql in defined_views().items():
        if name not in present:
            conn.execute(text(f"CREATE VIEW {name} AS {sql.strip()}"))
            done.append(f"recreated view {name}")
    return done


def _recreate_indexes(conn: Connection) -> list[str]:
    inspector = inspect(conn)
    done = []
    for table in metadata.sorted_tables:
        present = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in indexes_on(table, conn.dialect.name):
            if index.name not in present:
                index.create(conn)
                done.append(f"recreated index {index.name}")
    return done
