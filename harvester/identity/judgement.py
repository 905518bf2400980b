"""Who wrote a paper when several people share a name: evidence, scores and decisions.

Name folding (:mod:`.matching`) tells "Wei Zhang" from "Wei Zhang-Li", not one Wei
Zhang from another. :func:`judge` takes every paper whose author list names the profile
(the *candidates*) and decides, for each, *accepted*, *held* for review or *rejected*, with
a score and a one-line reason a person can check. It is pure: no database, no clock.

**Seeds.** Papers in the author's identifier feed (*anchored*) and the profile's members
are accepted whatever the evidence, and are evidence for the rest; papers a person rejected
stay rejected (a person wins over the feed: a claim can be a mistake). A claim whose
co-authors are those of another body of the name (:func:`.bodies.stray_claims`) is held and
flags the profile instead: a seed there would draw that whole body in. A paper a person
accepted (*named*) is accepted, but evidence for nothing else: a decision applies to the
papers it names.

**Evidence against the accepted papers** (:class:`.space.Space`), for each other candidate:

- *co-authors*: each shared co-author counts the accepted papers they are on; the sum
  ``s`` saturates as ``s / (s + 2)``, as in similar authors. A shared co-author can be a
  bridge to a namesake (the issue's two cs.LG Wei Zhangs have one collaborator in
  common), so the part is multiplied by the *pull*: the paper's saturated ties to accepted
  papers over those plus its other co-authors' saturated ties to *another body* (below).
  A namesake's paper shares one collaborator with her but brings its own established
  ones; her own paper brings new or unclaimed collaborators of hers, who pull nowhere;
- *text*: TF-IDF cosine to the accepted papers' centroid (the vectorizer of similar
  authors, fitted on the candidates);
- *categories*: cosine of the paper's categories to the accepted papers' category counts;
- *year*: inside the accepted span (a little slack), or how far outside it.

``score = 0.55 co-authors + 0.2 text + 0.2 categories + 0.05 year`` (:data:`.model.WEIGHTS`);
each part is leave-one-out for accepted papers (a paper is no evidence for itself).

**Another body** (:class:`.bodies.Leftovers`): the unaccepted candidates are grouped by the
co-authors no accepted paper has. A group of :data:`.model.BODY_MIN` or more, mostly papers no
accepted co-author vouches for, tied to the accepted papers through at most
:data:`.model.BRIDGE_NAMES` co-authors, is someone else's work as far as evidence can tell; in the
accepted papers' field it is a *namesake in sight*. The author's own unclaimed papers are
tied through many co-authors, so a small feed does not make them another body.

**Decisions, with seeds.** Round after round, a candidate is accepted when it shares a
co-author, its pull is at least :data:`.model.MIN_PULL`, it scores :data:`.model.ACCEPT_SCORE`,
in any field, and, when it is shaped like a bridge (one shared co-author, others pulling
towards another body, or another field), its text is no nearer another body than the
accepted papers (no namesake in sight); accepted papers then count as evidence, so
a chain of collaborators is followed. When co-authors vouch for nothing more, a candidate no
co-author vouches for (and in no group of its own) is judged on its field: with a
namesake in sight, it is accepted only if its categories and text are like the accepted
papers' and its text nearer theirs by :data:`.model.TEXT_MARGIN` (the issue's hard case: same
field, no co-author); with none, it is accepted as it would be without seeds, unless its
categories and text are both unlike or its text is nearer another body. The rounds stop
when one accepts nothing. Then a candidate with no co-author shared and text unlike the
accepted papers' is rejected when its categories are unlike too, or when it belongs to
another body of another field, but only with another body in sight (a solo paper of a new
field with nobody else in view is held, never rejected); everything else is held.

**Decisions, without seeds.** Candidates are grouped into *bodies*: co-author communities
(:mod:`.communities`: a shared co-author binds across fields, a co-author who only visits
another body does not merge it), then every community, the largest first, joins the body
nearest in text that it is not clearly foreign to (texts unlike, categories not alike; for
three papers or more, categories alike) and that no bridge was cut from. One body (the
common case: a unique name) is accepted whole, as before identity existed. Several: the
largest is accepted, the others held, and the judgement is *ambiguous* (an anchor would
settle it).

**Far candidates.** With seeds, a candidate no co-author ties to the accepted papers, of
another body of the name, whose text is nearer that body, is rejected (the reason says so):
a queue of others' papers is not reviewed.

The result does not depend on the order of the candidates.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..vocabulary import Decision
from .bodies import Leftovers, separate_bodies, stray_claims
from .explain import Explainer, candidates_text
from .model import Candidate, Judgement
from .space import Evidence, Space

__all__ = ["bodies_of", "judge"]


def judge(
    candidates: Sequence[Candidate],
    *,
    anchored: Collection[str] = (),
    accepted: Collection[str] = (),
    rejected: Collection[str] = (),
    named: Collection[str] = (),
) -> Judgement:
    """Decide every candidate; see the module docstring for how.

    ``anchored``: ids in the author's identifier feed (accepted, and evidence, unless a
    claim of another body: then held). ``accepted`` / ``rejected``: ids the profile holds
    or the config decided; they keep that decision (rejected wins over anchored).
    ``named``: ids a person accepted: accepted, and evidence for nothing else (a decision
    applies to the papers it names). Ids that are not candidates are ignored.
    """
    space = Space(candidates)
    both = (set(accepted) | set(named)) & set(rejected)
    if both:
        raise ValueError(f"decided both ways: {', '.join(sorted(both))}")
    fixed_out = space.mask(rejected)
    claims = space.mask(anchored) & ~fixed_out
    seeds = (claims | space.mask(accepted)) & ~fixed_out
    person = space.mask(named) & ~fixed_out
    if seeds.any():
        stray = stray_claims(space, seeds, claims, ~fixed_out)
        return _with_seeds(space, seeds & ~stray, fixed_out, Seeds(claims, person, stray))
    return _without_seeds(space, fixed_out, person)


def bodies_of(candidates: Sequence[Candidate]) -> list[list[str]]:
    """The separate bodies of work among ``candidates`` (ids), the largest first: what the
    evidence without an anchor sees (``harvest who``)."""
    space = Space(candidates)
    rows = np.arange(len(space.ids))
    return [[space.ids[int(i)] for i in body] for body in separate_bodies(space, rows)]


@dataclass(frozen=True, slots=True)
class Seeds:
    """What the rules fixed: the feed's claims, a person's acceptances, and the claims of
    another body (held, and the profile flagged)."""

    claims: Any
    person: Any
    stray: Any


def _with_seeds(space: Space, seeds: Any, fixed_out: Any, fixed: Seeds) -> Judgement:
    """Grow the accepted set from the seeds, then decide the rest (module docstring); a
    person's acceptances are accepted but grow nothing."""
    accepted, evidence, leftovers = _grow(space, seeds, ~fixed_out & ~fixed.person & ~fixed.stray)
    accepted = accepted | fixed.person
    explain = Explainer(space, accepted, evidence, leftovers)
    foreign, far = leftovers.foreign, leftovers.far
    verdicts = {}
    for i, arxiv_id in enumerate(space.ids):
        if fixed_out[i]:
            decision, why = Decision.REJECTED, "rejected by a person"
        elif fixed.stray[i]:
            decision, why = Decision.HELD, STRAY
        elif accepted[i]:
            decision, why = Decision.ACCEPTED, _seed_words(fixed.claims[i], fixed.person[i])
            if not why and evidence.shared[i] == 0:
                why = _by_field(leftovers.nearest[i])
        else:
            decision = Decision.REJECTED if foreign[i] else Decision.HELD
            why = FAR if far[i] and not evidence.foreign[i] else ""
        verdicts[arxiv_id] = explain.verdict(i, decision, why)
    return Judgement(verdicts, ambiguous=bool(fixed.stray.any()))


FAR = "rejected: another body's, no co-author tie to the accepted papers and text nearer it"
STRAY = "claimed, but its co-authors are those of another body of work of this name"


def _by_field(nearest: float) -> str:
    if nearest > 0:
        return f"accepted on field and text (text similarity {nearest:.2f} to another body)"
    return "accepted on field and text"


def _seed_words(anchored: bool, person: bool) -> str:
    if person:
        return "accepted by a person"
    return "listed in the author's identifier feed" if anchored else ""


def _grow(space: Space, seeds: Any, allowed: Any) -> tuple[Any, Evidence, Leftovers]:
    """Accept, round after round, what co-authors vouch for; when they vouch for nothing
    more, what the field alone allows; stop when a round accepts nothing."""
    accepted = seeds.copy()
    while True:
        leftovers = Leftovers(space, accepted)
        evidence = leftovers.evidence
        new = leftovers.vouched_for(allowed)
        if not new.any():
            new = leftovers.accept_by_field(allowed)
        if not new.any():
            return accepted, evidence, leftovers
        accepted = accepted | new


def _without_seeds(space: Space, fixed_out: Any, person: Any) -> Judgement:
    """Accept the largest body; hold the others (ambiguous when there are others); what a
    person accepted is accepted, and weighs as a plain candidate."""
    bodies = separate_bodies(space, np.flatnonzero(~fixed_out))
    accepted = np.zeros(len(space.ids), dtype=bool)
    if bodies:
        accepted[bodies[0]] = True
    evidence = space.evidence(accepted)
    explain = Explainer(space, accepted, evidence, None)
    body_of = {int(i): b for b, members in enumerate(bodies) for i in members}
    total = int((~fixed_out).sum())
    verdicts = {}
    for i, arxiv_id in enumerate(space.ids):
        if fixed_out[i]:
            verdicts[arxiv_id] = explain.verdict(i, Decision.REJECTED, "rejected by a person")
            continue
        size = len(bodies[body_of[i]])
        if person[i] and body_of[i] != 0:
            why, decision = "accepted by a person", Decision.ACCEPTED
        elif body_of[i] == 0 and len(bodies) == 1:
            why, decision = f"one body of {candidates_text(size)}", Decision.ACCEPTED
        elif body_of[i] == 0:
            why = f"largest of {len(bodies)} separate bodies ({size} of {total} candidates)"
            decision = Decision.ACCEPTED
        else:
            why = f"separate body of {candidates_text(size)}, held: no anchor tells whose it is"
            decision = Decision.HELD
        verdicts[arxiv_id] = explain.verdict(i, decision, why)
    return Judgement(verdicts, ambiguous=len(bodies) > 1)
