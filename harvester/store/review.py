"""The review queue and people's decisions (``harvest review``): every SQL statement of it.

:func:`held_papers` reads the public view ``review_queue`` (the papers held for review)
and the decisions still waiting for a harvest; :func:`record_rulings` writes a person's
decisions into ``review_decision``, one row per author and paper (a later decision
replaces an earlier one), in one transaction. A decision takes effect at the author's
next harvest, incremental or full (:mod:`harvester.evidence`), and lasts across all later
ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, Float, select, text
from sqlalchemy.exc import SQLAlchemyError

from ..errors import PaperNotFoundError, ProfileNotFoundError
from ..vocabulary import ReviewDecision
from . import schema as t
from .engine import read_session
from .harvests import insert_for
from .papers import chunks
from .problems import database_error
from .schema import UTCDateTime

_QUEUE = text(
    "SELECT arxiv_id, title, score, reason, held_since FROM review_queue"
    " WHERE author_key = :key ORDER BY score DESC, arxiv_id"
).columns(held_since=UTCDateTime, score=Float)


@dataclass(frozen=True, slots=True)
class HeldPaper:
    """One row of ``review_queue``, and the decision waiting for the next harvest."""

    arxiv_id: str
    title: str
    score: float | None
    reason: str | None
    held_since: datetime
    pending: str | None = None


def held_papers(engine: Engine, key: str) -> list[HeldPaper]:
    """The profile's held papers, most likely the author's first; unknown key: an error."""
    with read_session(engine, doing="cannot read the review queue", rows="held paper") as conn:
        _require(conn, key)
        d = t.review_decision.c
        decided = dict(
            conn.execute(select(d.arxiv_id, d.decision).where(d.author_key == key)).all()
        )
        return [
            HeldPaper(r.arxiv_id, r.title, r.score, r.reason, r.held_since, decided.get(r.arxiv_id))
            for r in conn.execute(_QUEUE, {"key": key})
        ]


def record_rulings(
    engine: Engine, key: str, decisions: Mapping[str, ReviewDecision], now: datetime
) -> None:
    """Store a person's decisions on papers of profile ``key`` (each must be one of its
    candidates: a paper with a membership in it), replacing earlier ones."""
    try:
        with engine.begin() as conn:
            _require(conn, key)
            _known(conn, key, sorted(decisions))
            stmt = insert_for(conn)(t.review_decision)
            stmt = stmt.on_conflict_do_update(
                index_elements=["author_key", "arxiv_id"],
                set_={"decision": stmt.excluded.decision, "decided_at": stmt.excluded.decided_at},
            )
            rows = [
                {"author_key": key, "arxiv_id": i, "decision": d, "decided_at": now}
                for i, d in decisions.items()
            ]
            conn.execute(stmt, rows)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot record the review") from exc


def _require(conn: Connection, key: str) -> None:
    keys = list(conn.execute(select(t.author.c.key).order_by(t.author.c.key)).scalars())
    if key not in keys:
        raise ProfileNotFoundError(key, keys)


def _known(conn: Connection, key: str, ids: Sequence[str]) -> None:
    """Refuse ids that are not candidates of the profile (no membership at all)."""
    m = t.membership.c
    found: set[str] = set()
    for chunk in chunks(list(ids)):
        query = select(m.arxiv_id).where(m.author_key == key, m.arxiv_id.in_(chunk))
        found.update(conn.execute(query).scalars())
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise PaperNotFoundError(key, unknown)
