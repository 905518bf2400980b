"""What runs after every harvest cycle: :func:`after_cycle`.

``harvest --once``, the demo and the daemon call it after :func:`harvester.sync.run_cycle`
returns, outside any harvest transaction. It recomputes the similar authors when the data
they derive from changed (a digest of it is kept in ``derived_state``), then rewrites the
static site when ``[output] html_dir`` is set.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, delete, insert, select, text

from ..settings import Settings
from ..store import Store
from ..store.schema import derived_state, similar_author
from .corpus import read_corpus
from .site import write_site

if TYPE_CHECKING:
    from .similar import Similar

logger = logging.getLogger(__name__)

SIMILAR_AUTHORS = "similar_authors"
"""The ``derived_state`` row of the similar authors."""
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
    with _snapshot(store) as conn:
        signature = data_signature(conn)
        if not force and _stored_signature(conn) == signature:
            logger.debug("similar authors are current")
            return False
        corpus = read_corpus(conn)
    from .similar import compute_similar  # scikit-learn takes a second to import: only now

    similar = compute_similar(corpus)
    rows = [_row(key, i, s, now) for key, found in similar.items() for i, s in enumerate(found)]
    with store.transaction() as conn:
        _lock(conn)
        if not force and _stored_signature(conn) == signature:
            return False  # another process stored the same result meanwhile
        conn.execute(delete(similar_author))
        if rows:
            conn.execute(insert(similar_author), rows)
        conn.execute(delete(derived_state).where(derived_state.c.name == SIMILAR_AUTHORS))
        conn.execute(
            insert(derived_state).values(
                name=SIMILAR_AUTHORS, signature=signature, refreshed_at=now
            )
        )
    logger.info("similar authors recomputed for %d profiles", len(similar))
    return True


def _snapshot(store: Store) -> Connection:
    """A connection whose statements all read one snapshot (harvests may commit meanwhile).

    SQLite's transactions already are snapshots; PostgreSQL's default, READ COMMITTED,
    gives each statement its own, so the corpus could be read half before and half after
    another process's harvest.
    """
    conn = store.engine.connect()
    if conn.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
    return conn


def _lock(conn: Connection) -> None:
    """One refresh writes at a time (processes may share the database).

    SQLite transactions start with ``BEGIN IMMEDIATE`` (:mod:`harvester.store.engine`),
    which already serialises writers; PostgreSQL needs a table lock, or two refreshes
    could each delete what they see and insert the same positions.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("LOCK TABLE similar_author IN SHARE ROW EXCLUSIVE MODE"))


def data_signature(conn: Connection) -> str:
    """A digest of everything the similar authors derive from (cheap: a few aggregates)."""
    queries = (
        "SELECT key, name FROM author ORDER BY key",
        "SELECT COUNT(*), MAX(changed_at) FROM paper",
        "SELECT COUNT(*), MAX(since), SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END)"
        " FROM membership",
    )
    digest = hashlib.sha256(ALGORITHM_VERSION.encode())
    for query in queries:
        for row in conn.execute(text(query)):
            digest.update(repr(tuple(str(value) for value in row)).encode())
    return digest.hexdigest()


def _stored_signature(conn: Connection) -> str | None:
    query = select(derived_state.c.signature).where(derived_state.c.name == SIMILAR_AUTHORS)
    return conn.execute(query).scalar_one_or_none()


def _row(key: str, index: int, s: Similar, now: datetime) -> dict[str, object]:
    return {
        "author_key": key,
        "position": index + 1,
        "similar_name": s.name,
        "similar_key": s.key,
        "score": s.score,
        "shared_papers": s.shared_papers,
        "coauthor_score": s.coauthor_score,
        "topic_score": s.topic_score,
        "category_score": s.category_score,
        "shared_terms": ", ".join(s.shared_terms),
        "shared_categories": " ".join(s.shared_categories),
        "reason": s.reason,
        "computed_at": now,
    }
