"""Bodies of work: papers linked by shared co-authors. Without seeds, every candidate joins
a body (:func:`separate_bodies`); with seeds, the unaccepted candidates are grouped to find
another body, and what co-authors or the field accept next (:class:`Leftovers`). How each
is used: :mod:`.judgement`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from .communities import Communities
from .model import (
    ACCEPT_SCORE,
    BODY_MIN,
    BRIDGE_NAMES,
    STRAY_SHARE,
    TEXT_FOREIGN,
    TEXT_MARGIN,
    TIE,
)
from .space import Evidence, Field, Space, leave_one_out_cosine

__all__ = ["Leftovers", "coauthor_groups", "separate_bodies", "stray_claims"]


def separate_bodies(space: Space, rows: Any) -> list[Any]:
    """Groups of ``rows``: co-author communities (:class:`.communities.Communities`, across
    fields), then each community, the largest first, joins the body nearest in text that
    is not clearly of another field (for a community of :data:`.model.BODY_MIN` papers or
    more: whose categories are alike) and that no bridge was cut from.

    Largest first (ties: the body holding the smallest id first).
    """
    communities = Communities(space.coauthors, rows)
    groups = communities.groups()
    position = {int(r): k for k, r in enumerate(rows)}
    groups.sort(key=lambda g: (-len(g), int(g[0])))
    bodies: list[tuple[list[Any], Field, set[int]]] = []
    for group in groups:
        field = space.field(group)
        label = int(communities.labels[position[int(group[0])]])
        big = len(group) >= BODY_MIN
        fits = [
            (b.text_cosine(field), -k)
            for k, (_, b, labels) in enumerate(bodies)
            if not b.unlike(field)
            and not (big and not b.same_categories(field))
            and not _apart(label, labels, communities.apart)
        ]
        if fits:
            members, body, labels = bodies[-max(fits)[1]]
            members.append(group)
            body.add(field)
            labels.add(label)
        else:
            bodies.append(([group], field, {label}))
    merged = [np.sort(np.concatenate(members)) for members, _, _ in bodies]
    merged.sort(key=lambda g: (-len(g), int(g[0])))
    return merged


def stray_claims(space: Space, seeds: Any, claims: Any, allowed: Any) -> Any:
    """The claims that belong to another body of work: the candidates' bodies
    (:func:`separate_bodies`); the home is the one with most seeds; a claim in another body
    of :data:`.model.BODY_MIN` papers or more, of which seeds are under
    :data:`.model.STRAY_SHARE`, its co-authors those of that body and none tying it to the
    other seeds, is someone
    else's paper claimed by mistake (one paper claimed of 108: a chain reaction if it were
    a seed)."""
    stray = np.zeros(len(space.ids), dtype=bool)
    if not (claims & allowed).any():
        return stray
    bodies = separate_bodies(space, np.flatnonzero(allowed))
    counts = [int(np.count_nonzero(seeds[b])) for b in bodies]
    home = max(range(len(bodies)), key=lambda k: (counts[k], len(bodies[k]), -k))
    for k, body in enumerate(bodies):
        if k != home and len(body) >= BODY_MIN and counts[k] < STRAY_SHARE * len(body):
            members = np.zeros(len(space.ids), dtype=bool)
            members[body] = True
            ev = space.evidence(seeds & ~members, elsewhere=members)
            stray |= members & claims & ~ev.vouched & _tied_within(space, members)
    return stray


def _tied_within(space: Space, members: Any) -> Any:
    """Papers that share a co-author with another paper of ``members``."""
    on = np.asarray(space.coauthors.T @ members.astype(np.float64)).ravel()
    rows, cols = space.entries, space.coauthors.indices
    others = on[cols] - members[rows]
    return np.bincount(rows, weights=others > 0, minlength=len(space.ids)) > 0


def _apart(label: int, labels: set[int], apart: set[tuple[int, int]]) -> bool:
    return any((min(label, other), max(label, other)) in apart for other in labels)


def coauthor_groups(
    space: Space, rows: Any, *, respect_fields: bool, names: Any = None
) -> list[Any]:
    """Connected groups of ``rows`` (sorted index arrays) linked by shared co-authors
    (only those where ``names`` is true, when given).

    With ``respect_fields``, two papers of clearly different fields are not linked by a
    co-author name they share: that is more often two people of one name.
    """
    sub = space.coauthors[rows]
    if names is not None:
        sub = sub[:, np.flatnonzero(names)]
    links = sp.triu(sub @ sub.T, k=1).tocoo()
    left, right = links.row, links.col
    if respect_fields and len(left):
        keep = ~space.pairs_unlike(rows[left], rows[right])
        left, right = left[keep], right[keep]
    graph = sp.coo_matrix((np.ones(len(left)), (left, right)), shape=(len(rows), len(rows)))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    return [rows[part] for part in np.split(order, cuts)] if len(rows) else []


class Leftovers:
    """The unaccepted candidates, grouped by the co-authors no accepted paper has; which
    groups are another body, and which of those a namesake in sight (:mod:`.judgement`)."""

    def __init__(self, space: Space, accepted: Any) -> None:
        self.space, self.accepted = space, accepted
        first = space.evidence(accepted)
        known = first.name_accepted > 0
        rows = np.flatnonzero(~accepted)
        self.groups = coauthor_groups(space, rows, respect_fields=False, names=~known)
        self.group_of = {int(i): g for g in self.groups for i in g}
        self.others = [g for g in self.groups if self._another_body(g, first, known)]
        self.evidence = space.evidence(accepted, elsewhere=self._members(self.others))
        field = space.field(np.flatnonzero(accepted))
        self.bodies = [g for g in self.others if space.field(g).alike(field)]
        self.other_field = self._members([g for g in self.others if space.field(g).unlike(field)])
        self.nearest = self._nearest_body_text()

    def _members(self, groups: Sequence[Any]) -> Any:
        found = np.zeros(len(self.space.ids), dtype=bool)
        for group in groups:
            found[group] = True
        return found

    def _another_body(self, group: Any, first: Evidence, known: Any) -> bool:
        if len(group) < BODY_MIN or 2 * np.count_nonzero(first.shared[group]) >= len(group):
            return False
        names = np.asarray(self.space.coauthors[group].sum(axis=0)).ravel() > 0
        return int(np.count_nonzero(names & known)) <= BRIDGE_NAMES

    def _nearest_body_text(self) -> Any:
        """Each candidate's highest text cosine to another body (its own paper left out
        of its own body)."""
        best = np.zeros(len(self.space.ids))
        for body in self.others:
            members = self._members([body])
            best = np.maximum(best, leave_one_out_cosine(self.space.topics, members))
        return best

    @property
    def foreign(self) -> Any:
        """Clearly someone else's: no co-author shared, text unlike, and either categories
        unlike too or the paper in another body of another field (a cross-list to the
        author's category does not make a q-bio body's paper hers). Only with another body
        in sight: a paper of a new field and nobody else's in view may be hers (held)."""
        ev = self.evidence
        if not self.others:
            return np.zeros(len(self.space.ids), dtype=bool)  # no namesake in sight: held
        return (
            ev.foreign | (self.other_field & (ev.shared == 0) & (ev.text < TEXT_FOREIGN)) | self.far
        )

    @property
    def far(self) -> Any:
        """Another body's paper: no co-author vouches for it, it is one of another body,
        and its text is nearer that body than the accepted papers."""
        ev = self.evidence
        theirs = self._members(self.others)
        return theirs & ~ev.vouched & (self.nearest > ev.text + TIE)

    def size(self, i: int) -> int:
        group = self.group_of.get(i)
        return 0 if group is None else len(group)

    def vouched_for(self, allowed: Any) -> Any:
        """Candidates their co-authors tie to accepted papers, in any field, unless shaped
        like a bridge to another body (or of another field) and nearer that body in text:
        a shared co-author binds across fields unless a namesake is in sight."""
        ev = self.evidence
        vouched = ev.vouched & (ev.score >= ACCEPT_SCORE)
        bridge_like = (ev.pull < 1.0) | (ev.shared < 2) | ev.unlike
        nearer = bridge_like & (ev.text + TIE < self.nearest)
        return allowed & ~self.accepted & vouched & ~nearer

    def accept_by_field(self, allowed: Any) -> Any:
        """Candidates no co-author vouches for, accepted on field and text alone: with a
        namesake in sight, only when alike and clearly nearer the accepted papers; else,
        as without seeds, unless unlike or nearer another body."""
        ev = self.evidence
        small = np.array([self.size(i) < BODY_MIN for i in range(len(self.space.ids))])
        eligible = allowed & ~self.accepted & (ev.shared == 0) & small
        if self.bodies:
            return eligible & ev.same_field & (ev.text >= self.nearest + TEXT_MARGIN)
        return eligible & ~ev.unlike & (ev.text + TIE >= self.nearest)
