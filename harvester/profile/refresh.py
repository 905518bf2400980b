"""What runs after every harvest cycle: :func:`after_cycle`.

:func:`harvester.cycle.harvest_once` calls it once the harvests have committed. It
recomputes the similar authors the cycle's changes can reach (:mod:`.derive`), then
rewrites the static site when ``[output] html_dir`` is set. Each step is isolated: a
failure is logged with the step's name, leaves what that step produced last time in
place, and stops neither the other step nor the harvest's exit code.

Stored similar-author data that cannot be read (a tampered vector, model or date:
:class:`~harvester.errors.DerivedDataError`) is never restored: the refresh logs one
line and recomputes every list from the papers with a newly fitted model, replacing it
all and emptying the change log it covers. The site meets such data when no change sent
the refresh to it (a tampered score, say): it recomputes the same way, then writes
(:func:`write_site_recomputing`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Settings
from ..errors import DerivedDataError, HarvesterError
from ..store import Store
from ..topics import VERSION

if TYPE_CHECKING:
    from ..store import CorpusRows

logger = logging.getLogger(__name__)


def after_cycle(settings: Settings, store: Store, *, now: datetime | None = None) -> list[str]:
    """Refresh the similar authors if the data changed; rewrite the site if configured.

    Returns the names of the steps that failed (each logged as an error)."""
    moment = now or datetime.now(UTC)
    steps: list[tuple[str, Callable[[], object]]] = [
        ("similar authors", lambda: refresh_similar_authors(store, now=moment))
    ]
    html_dir = settings.output.html_dir
    if html_dir is not None:
        steps.append(("static site", lambda: write_site_recomputing(store, html_dir, now=moment)))
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


def write_site_recomputing(
    store: Store, directory: Path, *, now: datetime | None = None
) -> list[Path]:
    """:func:`~.site.write_site`; if a similar author it shows cannot be read, the similar
    authors are recomputed from the papers (one line, ``now`` their time) and the site
    written again."""
    from .site import write_site  # the renderers: only when a site is configured

    try:
        return write_site(store, directory)
    except DerivedDataError as exc:
        logger.warning("%s: recomputing the similar authors from the papers", exc.message)
    refresh_similar_authors(store, now=now, everything=True)
    return write_site(store, directory)


def refresh_similar_authors(
    store: Store,
    *,
    now: datetime | None = None,
    everything: bool = False,
    refit: bool | None = None,
) -> bool:
    """Recompute the similar-author lists the harvests' changes can reach (``everything``:
    all of them; ``refit``, by default with ``everything``: fit the model again); True if
    it stored anything."""
    now = now or datetime.now(UTC)
    refit = everything if refit is None else refit
    try:
        return _refresh(store, now, everything=everything, refit=refit)
    except DerivedDataError as exc:
        logger.warning("%s: recomputing the similar authors from the papers", exc.message)
    return _refresh(store, now, everything=True, refit=True)


def _refresh(store: Store, now: datetime, *, everything: bool, refit: bool) -> bool:
    with store.corpus() as rows:
        if _current(rows, everything=everything, refit=refit):
            logger.debug("similar authors are current")
            return False
        from .derive import Request, plan_refresh  # scikit-learn and scipy: a second to import

        update = plan_refresh(rows, Request(everything=everything, refit=refit), now)
    if update is None:
        logger.debug("similar authors are current")
        return False
    if not store.store_similar(update, now, force=everything):
        return False  # another process refreshed from a later state meanwhile
    kind = "recomputed" if update.full else "updated"
    logger.info("similar authors %s for %d profiles", kind, len(update.lists))
    return True


def _current(rows: CorpusRows, *, everything: bool, refit: bool) -> bool:
    """Nothing the similar authors derive from changed: no change noted since the last
    refresh, a model of this method's version, the same profiles. Decided from the change
    count, the model's header and the profiles' names, before :mod:`.derive` (and
    scikit-learn, scipy and numpy with it) is imported: a quiet cycle pays for none of
    them. :func:`~.derive.plan_refresh` answers ``None`` in exactly these cases."""
    if everything or refit or rows.change_count():
        return False
    header = rows.model_header()
    if header is None or header[0] != VERSION:
        return False
    return dict(rows.tracked_profiles()) == rows.stored_names()
