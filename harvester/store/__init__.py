"""The SQLAlchemy store: schema, migrations, engines and transactions."""

from .engine import create_db_engine, sqlite_path
from .migrate import current_revision, head_revision, upgrade_schema
from .repository import RunTotals, Store
from .schema import PUBLIC_VIEWS

__all__ = [
    "PUBLIC_VIEWS",
    "RunTotals",
    "Store",
    "create_db_engine",
    "current_revision",
    "head_revision",
    "sqlite_path",
    "upgrade_schema",
]
