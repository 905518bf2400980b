"""What runs after every harvest cycle: :func:`after_cycle`.

``harvest --once``, the demo and the daemon call it after :func:`harvester.sync.run_cycle`
returns, outside any harvest transaction. It recomputes the similar authors when the data
they derive from changed (a digest of it is kept in ``derived_state``), then rewrites the
static site when ``[output] html_dir`` is set.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from ..settings import Settings
from ..store import Store
from ..store.derived import corpus_snapshot, replace_similar_authors
from .corpus import read_corpus
from .site import write_site

logger = logging.getLogger(__name__)

ALGORITHM_VERSION = "1"
"""Part of the data signature: changing the scoring must bump it, so results are recomputed."""


def after_cycle(settings: Settings, store: Store, *, now: datetime | None = None) -> None:
    """Refresh the similar authors if the data changed; rewrite the site if configured."""
    now = now or datetime.now(UTC)
    refresh_similar_authors(store, now=now)
    if settings.output.html_dir is not None:
        write_site(store, settings.output.html_dir)


def refresh_similar_authors(
    store: Store, *, now: datetime | None = None, force: bool = False
) -> bool:
    """Recompute ``similar_author`` unless the data is as it was last time; True if it did."""
    now = now or datetime.now(UTC)
    with corpus_snapshot(store.engine) as rows:
        signature = rows.signature(ALGORITHM_VERSION)
        if not force and rows.stored_signature() == signature:
            logger.debug("similar authors are current")
            return False
        corpus = read_corpus(rows)
    from .similar import compute_similar  # scikit-learn takes a second to import: only now

    similar = compute_similar(corpus)
    if not replace_similar_authors(store.engine, similar, signature, now, force=force):
        return False  # another process stored the same result meanwhile
    logger.info("similar authors recomputed for %d profiles", len(similar))
    return True
