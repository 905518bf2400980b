"""What the store keeps of identity decisions (:mod:`harvester.identity.evidence`): people's
decisions (``review_decision``), read into the query's snapshot (:mod:`.snapshot`), and
the ``ambiguous`` flag the decisions set.

A decision row that cannot be read (a decision that is not a
:class:`~harvester.vocabulary.ReviewDecision`, a date that is not one) is one logged line
and left out, for that author and paper alone: the rest of the cycle goes on, and a new
``harvest review`` of the paper replaces the row.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, String, select, type_coerce, update

from ..plans import Ruling
from ..vocabulary import ReviewDecision
from . import schema as t
from .engine import among
from .papers import chunks
from .problems import UNDECODABLE

logger = logging.getLogger(__name__)

_SHOWN = 60
"""Characters of an unreadable stored value a log line repeats."""


def set_ambiguous(conn: Connection, author_key: str, ambiguous: bool) -> None:
    """Remember whether the evidence last found the candidates split into separate bodies."""
    a = t.author.c
    stmt = update(t.author).where(a.key == author_key, a.ambiguous.is_distinct_from(ambiguous))
    conn.execute(stmt.values(ambiguous=ambiguous))


def set_ambiguous_many(conn: Connection, flags: Mapping[str, bool | None]) -> None:
    """:func:`set_ambiguous` for several authors (None: left as it is): a statement a value."""
    a = t.author.c
    for value in (True, False):
        keys = [key for key, flag in flags.items() if flag is value]
        if keys:
            stmt = update(t.author).where(
                among(conn, a.key, keys), a.ambiguous.is_distinct_from(value)
            )
            conn.execute(stmt.values(ambiguous=value))


def load_rulings(conn: Connection, author_keys: Sequence[str]) -> dict[str, dict[str, Ruling]]:
    """People's decisions (``harvest review``) of these authors, by author and id; an
    unreadable one is logged and left out."""
    d = t.review_decision.c
    found: dict[str, dict[str, Ruling]] = {}
    for chunk in chunks(list(author_keys)):
        query = select(d.author_key, d.arxiv_id, d.decision, raw_moment(d.decided_at))
        for key, arxiv_id, decision, decided_at in conn.execute(
            query.where(among(conn, d.author_key, chunk))
        ):
            ruling = ruling_of(key, arxiv_id, decision, decided_at)
            if ruling is not None:
                found.setdefault(key, {})[arxiv_id] = ruling
    return found


def raw_moment(column: Any) -> Any:
    """``column`` as the driver returns it (any text on SQLite), for :func:`ruling_of`."""
    return type_coerce(column, String).label(column.key)


def ruling_of(key: str, arxiv_id: str, decision: Any, decided_at: Any) -> Ruling | None:
    """A stored decision, or None (logged: which author, which paper, why)."""
    try:
        return Ruling(ReviewDecision(decision), _moment(decided_at))
    except UNDECODABLE as exc:
        detail = " ".join(str(exc).split())[:_SHOWN]
        logger.warning(
            "%s: the stored review decision on %s cannot be read (%s); it is left out"
            " (decide again with 'harvest review %s')",
            key,
            str(arxiv_id)[:_SHOWN],
            detail,
            key,
        )
        return None


def _moment(value: Any) -> datetime:
    """A stored UTC moment: a datetime (PostgreSQL) or its ISO text (SQLite)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"decided_at {str(value)[:_SHOWN]!r} is not a date")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
