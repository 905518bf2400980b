"""Schema migrations with Alembic, run on our own engine (no alembic.ini needed)."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..errors import SchemaTooNewError
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
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade_schema(engine: Engine) -> None:
    """Bring the schema to the newest revision; refuse a schema newer than the code."""
    config = alembic_config()
    scripts = ScriptDirectory.from_config(config)
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot read the schema version") from exc
    if current is not None and not _known(scripts, current):
        raise SchemaTooNewError(
            f"the database is at schema revision {current}, which this version does not know"
        )
    if current == scripts.get_current_head():
        return
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
    except SQLAlchemyError as exc:
        raise database_error(exc, "schema upgrade failed") from exc
    logger.info("schema upgraded from %s to %s", current, scripts.get_current_head())


def _known(scripts: ScriptDirectory, revision: str) -> bool:
    try:
        return scripts.get_revision(revision) is not None
    except CommandError:
        return False
