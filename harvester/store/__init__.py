"""The SQLAlchemy store: schema, migrations, engines, and every SQL statement; the one door
to the data. Nothing outside this package holds the engine, a connection or a SQLAlchemy
name: callers ask :class:`Store` for what they need by name, and get the records below.

Write side: :class:`Store` (:mod:`.repository`, :mod:`.harvests`, :mod:`.papers`,
:mod:`.leases`, :mod:`.pacing`, :mod:`.sharing`), what the decisions read
(:mod:`.snapshot`), identity decisions (:mod:`.decisions`) and people's reviews
(:mod:`.review`). Read side (:mod:`.door`): :mod:`.profiles`, :mod:`.derived`,
:mod:`.runlog`, :mod:`.memberships`, and :mod:`.reader` for read-only engines; the
notifications' outbox (:mod:`.outbox`).
The submodules are private to the package.
"""

from .derived import CorpusRows, SimilarUpdate
from .derived_rows import StoredCentroid, StoredModel, StoredProfile
from .door import Held
from .engine import create_db_engine, masked_url, sqlite_path
from .harvests import Recorded, RunTotals
from .leases import Lease, Leases, Refusal, default_owner
from .migrate import current_revision, head_revision, upgrade_schema
from .outbox import Notice, PendingItem
from .pacing import DatabasePacer, slot_name
from .profiles import ProfileReader
from .repository import Store
from .review import Candidacy, Decided, HeldPaper, Tally
from .roster import Purged, StoredAuthor
from .runlog import AuthorRuns, LastHarvest, RunLog
from .schema import PUBLIC_VIEWS
from .sharing import SharedCycle
from .versions import ImportPosition

__all__ = [
    "PUBLIC_VIEWS",
    "AuthorRuns",
    "Candidacy",
    "CorpusRows",
    "DatabasePacer",
    "Decided",
    "Held",
    "HeldPaper",
    "ImportPosition",
    "LastHarvest",
    "Lease",
    "Leases",
    "Notice",
    "PendingItem",
    "ProfileReader",
    "Purged",
    "Recorded",
    "Refusal",
    "RunLog",
    "RunTotals",
    "SharedCycle",
    "SimilarUpdate",
    "Store",
    "StoredAuthor",
    "StoredCentroid",
    "StoredModel",
    "StoredProfile",
    "Tally",
    "create_db_engine",
    "current_revision",
    "default_owner",
    "head_revision",
    "masked_url",
    "slot_name",
    "sqlite_path",
    "upgrade_schema",
]
