"""Schema migrations with Alembic, run on our own engine (no alembic.ini needed).

Several processes may start on a fresh database at once (workers sharing PostgreSQL, a
daemon and a cron run): upgrades take turns, and the later ones find nothing to do.
"""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import SchemaTooNewError
from .engine import reading
from .problems import database_error

logger = logging.getLogger(__name__)

SCRIPT_LOCATION = "harvester:migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema's revision (None: no schema yet); a failure to read it is a DatabaseError."""
    try:
        with reading(engine) as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot read the schema version") from exc


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest revision; refuse a schema newer than the code."""
    config = alembic_config()
    scripts = ScriptDirectory.from_config(config)
    current = current_revision(engine)
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
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False
