"""The harvest cycle: every configured author asked of arXiv, decided and stored.

:func:`harvest_once` is what ``harvest --once``, the daemon's job, the benchmarks and the
tests run: it opens the source (:func:`open_source`), runs one cycle (:func:`run_cycle`:
the queries planned by :mod:`harvester.batching`, each asked by :mod:`.fetch` and harvested
by :mod:`.query`, its decisions made by :mod:`.planning` on the store's snapshot), then the
derived steps.
What comes back is a :class:`CycleReport` of :class:`AuthorReport` lines.
"""

from .harvest import harvest_once, open_source
from .oai import run_oai_cycle
from .planning import AuthorHarvest, decide, draft, needs
from .report import (
    DEFAULT_OPTIONS,
    STOP,
    AuthorReport,
    Clock,
    CycleOptions,
    CycleProgress,
    CycleReport,
    utcnow,
)
from .run import harvest_author, run_cycle
from .snapshot_import import ImportReport, import_snapshot, match_stored

__all__ = [
    "DEFAULT_OPTIONS",
    "STOP",
    "AuthorHarvest",
    "AuthorReport",
    "Clock",
    "CycleOptions",
    "CycleProgress",
    "CycleReport",
    "ImportReport",
    "decide",
    "draft",
    "harvest_author",
    "harvest_once",
    "import_snapshot",
    "match_stored",
    "needs",
    "open_source",
    "run_cycle",
    "run_oai_cycle",
    "utcnow",
]
