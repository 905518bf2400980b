"""What the store contributes to identity decisions (:mod:`harvester.evidence`): people's
decisions (``review_decision``), the members the evidence weighs new candidates against,
the stored papers a decision or a claim would move, and the ``ambiguous`` flag.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, select, update

from ..changes import Observation, Seen
from ..evidence import Anchors, Ruling, person_reason
from ..matching import MatchDecision
from ..records import Paper
from ..vocabulary import Membership, ReviewDecision
from . import schema as t
from .memberships import load_papers, seen_of
from .papers import chunks

Decide = Callable[[Paper], MatchDecision]


def pending(
    conn: Connection,
    author_key: str,
    returned: Sequence[Paper],
    decide: Decide,
    anchors: Anchors,
    seen: dict[str, Seen],
) -> list[Observation]:
    """Papers an incremental harvest did not return whose membership a person's decision
    or the author's feed would change (a held paper accepted, an old paper claimed):
    observed as stored, so that the decision takes effect now, not at the next full
    harvest (``seen`` gains their memberships)."""
    ids = {p.arxiv_id for p in returned}
    wanted = sorted((anchors.rulings.keys() | anchors.claimed) - ids)
    stored: dict[str, Seen] = {}
    m = t.membership.c
    for chunk in chunks(wanted):
        query = select(t.membership).where(m.author_key == author_key, m.arxiv_id.in_(chunk))
        stored.update(seen_of(conn.execute(query)))
    due = [i for i, s in stored.items() if _undone(s, anchors, i)]
    seen.update((i, stored[i]) for i in due)
    papers = load_papers(conn, due)
    return [Observation(papers[i], decide(papers[i])) for i in due if i in papers]


def _undone(seen: Seen, anchors: Anchors, arxiv_id: str) -> bool:
    """Does the membership still disagree with a person's decision (its status, or a
    reason that does not say so), or with the feed?"""
    status, ruling = seen.status, anchors.rulings.get(arxiv_id)
    if ruling is None:  # claimed by the author's feed
        return status != Membership.ACTIVE and arxiv_id not in anchors.exclude
    if arxiv_id in anchors.include or arxiv_id in anchors.exclude:
        return False  # the config decides it, whatever the person said
    if seen.reason != person_reason(ruling):
        return True
    if ruling.decision == ReviewDecision.ACCEPTED:
        return status != Membership.ACTIVE
    return status not in (Membership.REJECTED, Membership.EXCLUDED)


def set_ambiguous(conn: Connection, author_key: str, ambiguous: bool) -> None:
    """Remember whether the evidence last found the candidates split into separate bodies."""
    a = t.author.c
    stmt = update(t.author).where(a.key == author_key, a.ambiguous.is_distinct_from(ambiguous))
    conn.execute(stmt.values(ambiguous=ambiguous))


def member_papers(conn: Connection, author_key: str) -> list[Paper]:
    """The papers of the profile's active memberships (the evidence's strongest part)."""
    m = t.membership.c
    query = select(m.arxiv_id).where(m.author_key == author_key, m.status == Membership.ACTIVE)
    ids = list(conn.execute(query).scalars())
    found: dict[str, Paper] = {}
    for chunk in chunks(ids):
        found.update(load_papers(conn, chunk))
    return [found[i] for i in ids if i in found]


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
