"""The SQLAlchemy store: schema, migrations, engines, and every SQL statement.

Write side: :class:`Store` (:mod:`.repository`, :mod:`.harvests`, :mod:`.papers`,
:mod:`.leases`, :mod:`.pacing`), what the decisions read (:mod:`.snapshot`), identity
decisions (:mod:`.decisions`) and people's
reviews (:mod:`.review`). Read side: :mod:`.profiles`, :mod:`.derived`, :mod:`.runlog`,
:mod:`.memberships`, and :mod:`.reader` for read-only engines.
"""

from .engine import create_db_engine, sqlite_path
from .harvests import Recorded, RunTotals
from .migrate import current_revision, head_revision, upgrade_schema
from .repository import Store
from .schema import PUBLIC_VIEWS

__all__ = [
    "PUBLIC_VIEWS",
    "Recorded",
    "RunTotals",
    "Store",
    "create_db_engine",
    "current_revision",
    "head_revision",
    "sqlite_path",
    "upgrade_schema",
]
