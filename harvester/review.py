"""``harvest review``: the papers held for review, and a person's decisions on them.

A paper is *held* when its author list names the profile but the evidence does not settle
whose it is (:mod:`harvester.evidence`): it is no member of the profile (not counted, no
event) until a person decides. :func:`review_queue` lists the held papers of one profile
with their score and reason; :func:`decide` records a person's decisions, which win over
the evidence (``include_ids``/``exclude_ids`` in the config win over both) and last across
harvests, full ones included. A decision takes effect at the author's next harvest; an
accepted paper then records ``new_paper``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine

from .errors import PaperNotFoundError
from .normalise import InvalidIdentifierError, parse_arxiv_id
from .store.review import HeldPaper, held_papers, record_rulings
from .vocabulary import ReviewDecision

__all__ = ["HeldPaper", "decide", "queue_json", "render_queue", "review_queue"]


def review_queue(engine: Engine, key: str) -> list[HeldPaper]:
    """The profile's held papers, the likeliest first (unknown key: ProfileNotFoundError)."""
    return held_papers(engine, key)


def decide(
    engine: Engine, key: str, accept: Sequence[str], reject: Sequence[str], now: datetime
) -> dict[str, ReviewDecision]:
    """Record that a person accepts ``accept`` and rejects ``reject`` (ids in any form
    :func:`~harvester.normalise.parse_arxiv_id` takes) for profile ``key``; returns the
    decisions by canonical id."""
    decisions = {_canonical(key, i): ReviewDecision.ACCEPTED for i in accept}
    rejected = {_canonical(key, i): ReviewDecision.REJECTED for i in reject}
    both = sorted(decisions.keys() & rejected.keys())
    if both:
        raise PaperNotFoundError(key, both, "both accepted and rejected: choose one")
    decisions.update(rejected)
    record_rulings(engine, key, decisions, now)
    return decisions


def _canonical(key: str, text: str) -> str:
    try:
        return parse_arxiv_id(text)[0]
    except InvalidIdentifierError as exc:
        raise PaperNotFoundError(key, [text], str(exc)) from None


def render_queue(key: str, held: Sequence[HeldPaper]) -> str:
    """One paper a line: id, score, reason, then the title indented below it."""
    if not held:
        return f"{key}: no papers held for review\n"
    lines = [f"{key}: {len(held)} paper{'' if len(held) == 1 else 's'} held for review"]
    for paper in held:
        score = "-" if paper.score is None else f"{paper.score:.2f}"
        pending = f"  [{paper.pending}: applied at the next harvest]" if paper.pending else ""
        lines.append(f"{paper.arxiv_id}  score {score}  {paper.reason or ''}{pending}")
        lines.append(f"    {' '.join(paper.title.split())}")
    return "\n".join(lines) + "\n"


def queue_json(key: str, held: Sequence[HeldPaper]) -> str:
    """The same as :func:`render_queue`, as JSON for other programs."""
    papers = [
        {
            "arxiv_id": p.arxiv_id,
            "title": p.title,
            "score": p.score,
            "reason": p.reason,
            "held_since": p.held_since.isoformat().replace("+00:00", "Z"),
            "pending": p.pending,
        }
        for p in held
    ]
    return json.dumps({"author_key": key, "held": papers}, indent=2, ensure_ascii=False) + "\n"
