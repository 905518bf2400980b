"""Schema migrations with Alembic, run on our own engine (no alembic.ini needed).

Several processes may start on a fresh database at once (workers sharing PostgreSQL, a
daemon and a cron run): upgrades take turns, and the later ones find nothing to do.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import CorruptDatabaseError, SchemaTooNewError
from .engine import reading
from .problems import database_error

if TYPE_CHECKING:  # Alembic (and Mako with it) is imported only to migrate: the commands
    # that only read compare the schema's revision with HEAD_REVISION
    from alembic.config import Config
    from alembic.script import ScriptDirectory

logger = logging.getLogger(__name__)

SCRIPT_LOCATION = "harvester:migrations"
HEAD_REVISION = "0015"
"""The newest migration's revision (``tests/test_store.py`` holds it to the scripts')."""


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    return HEAD_REVISION


def current_revision(engine: Engine) -> str | None:
    """The schema's revision (None: no schema yet); a failure to read it is a DatabaseError,
    more than one row a :class:`CorruptDatabaseError`."""
    try:
        with reading(engine) as conn:
            return one_version(conn)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot read the schema version") from exc


def one_version(conn: Connection) -> str | None:
    """The one row of ``alembic_version`` (None: no such table)."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    versions = [row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))]
    if len(versions) > 1:
        raise CorruptDatabaseError(
            f"the schema version table alembic_version has {len(versions)} rows"
            f" ({', '.join(sorted(versions))}); it must have one",
            hint="keep the row of the revision the schema really is at and delete the others"
            " (DELETE FROM alembic_version WHERE version_num <> '...'), then"
            " run 'harvest db upgrade'",
        )
    return versions[0] if versions else None


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest revision; refuse a schema newer than the code.

    A schema already at :data:`HEAD_REVISION` (every run but the first after an upgrade of
    the code) costs one read of ``alembic_version``: Alembic, Mako and the migration
    scripts are loaded only when there is something to do or to refuse."""
    current = current_revision(engine)
    if current == HEAD_REVISION:
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config()
    scripts = ScriptDirectory.from_config(config)
    if current is not None and not _known(scripts, current):
        raise SchemaTooNewError(
            f"the database is at schema revision {current}, which this version does not know"
        )
    if current == scripts.get_current_head():
        return
    try:
        with engine.begin() as conn:
            _exclusive(conn)
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise database_error(exc, "schema upgrade failed") from exc
    logger.info("schema upgraded from %s to %s", current, scripts.get_current_head())


MIGRATION_LOCK = 0x6172786976  # "arxiv"
"""The PostgreSQL advisory lock key that serialises schema upgrades."""


def _exclusive(conn: Connection) -> None:
    """Make concurrent upgrades take turns: the later one then finds the schema current.

    SQLite transactions here begin ``IMMEDIATE``, which already excludes other writers;
    PostgreSQL takes a transaction-scoped advisory lock (released at commit).
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False
