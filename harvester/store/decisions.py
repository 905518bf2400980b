"""What the store keeps of identity decisions (:mod:`harvester.identity.evidence`): people's
decisions (``review_decision``), read into the query's snapshot (:mod:`.snapshot`), and
the ``ambiguous`` flag the decisions set.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select, update

from ..plans import Ruling
from ..vocabulary import ReviewDecision
from . import schema as t
from .papers import chunks


def set_ambiguous(conn: Connection, author_key: str, ambiguous: bool) -> None:
    """Remember whether the evidence last found the candidates split into separate bodies."""
    a = t.author.c
    stmt = update(t.author).where(a.key == author_key, a.ambiguous.is_distinct_from(ambiguous))
    conn.execute(stmt.values(ambiguous=ambiguous))


def load_rulings(conn: Connection, author_keys: Sequence[str]) -> dict[str, dict[str, Ruling]]:
    """People's decisions (``harvest review``) of these authors, by author and id."""
    d = t.review_decision.c
    found: dict[str, dict[str, Ruling]] = {}
    for chunk in chunks(list(author_keys)):
        query = select(d.author_key, d.arxiv_id, d.decision, d.decided_at)
        for r in conn.execute(query.where(d.author_key.in_(chunk))):
            found.setdefault(r.author_key, {})[r.arxiv_id] = Ruling(
                ReviewDecision(r.decision), r.decided_at
            )
    return found
