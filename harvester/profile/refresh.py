"""What runs after every harvest cycle: :func:`after_cycle`.

:func:`harvester.harvest.harvest_once` calls it once the harvests have committed. It
recomputes the similar authors when the data they derive from changed (a digest of it is
kept in ``derived_state``), then rewrites the static site when ``[output] html_dir`` is
set. Each step is isolated: a failure is logged with the step's name, leaves what that
step produced last time in place, and stops neither the other step nor the harvest's
exit code.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from ..errors import HarvesterError
from ..settings import Settings
from ..store import Store
from ..store.derived import corpus_snapshot, replace_similar_authors
from .corpus import read_corpus
from .site import write_site

logger = logging.getLogger(__name__)

ALGORITHM_VERSION = "1"
"""Part of the data signature: changing the scoring must bump it, so results are recomputed."""


def after_cycle(settings: Settings, store: Store, *, now: datetime | None = None) -> list[str]:
    """Refresh the similar authors if the data changed; rewrite the site if configured.

    Returns the names of the steps that failed (each logged as an error)."""
    moment = now or datetime.now(UTC)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("similar authors", lambda: refresh_similar_authors(store, now=moment))
    ]
    html_dir = settings.output.html_dir
    if html_dir is not None:
        steps.append(("static site", lambda: write_site(store, html_dir)))
    return [name for name, step in steps if not _isolated(name, step)]


def _isolated(name: str, step: Callable[[], object]) -> bool:
    """Run one derived step; a failure is one logged line, never the caller's problem."""
    try:
        step()
    except HarvesterError as exc:
        logger.error("%s not updated (the previous one is kept): %s", name, exc)
    except Exception as exc:  # a derived step must never take the harvest down with it
        logger.error("%s not updated (the previous one is kept): %r", name, exc)
        logger.debug("%s failed", name, exc_info=True)
    else:
        return True
    return False


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
