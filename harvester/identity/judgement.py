"""Who wrote a paper when several people share a name: evidence, scores and decisions.

Name folding (:mod:`.matching`) tells "Wei Zhang" from "Wei Zhang-Li", not one Wei
Zhang from another. :func:`judge` takes every paper whose author list names the profile
(the *candidates*) and decides, for each, *accepted*, *held* for review or *rejected*, with
a score and a one-line reason a person can check. It is pure: no database, no clock.

**Seeds.** Papers in the author's identifier feed (*anchored*) and papers a person accepted
are accepted whatever the evidence; papers a person rejected stay rejected (a person wins
over the feed: a claim can be a mistake). Seeds are evidence for the rest.

**Evidence against the accepted papers** (:class:`_Space`), for each other candidate:

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

``score = 0.55 co-authors + 0.2 text + 0.2 categories + 0.05 year`` (:data:`WEIGHTS`);
each part is leave-one-out for accepted papers (a paper is no evidence for itself).

**Another body** (:class:`_Leftovers`): the unaccepted candidates are grouped by the
co-authors no accepted paper has. A group of :data:`BODY_MIN` or more, mostly papers no
accepted co-author vouches for, tied to the accepted papers through at most
:data:`BRIDGE_NAMES` co-authors, is someone else's work as far as evidence can tell; in the
accepted papers' field it is a *namesake in sight*. The author's own unclaimed papers are
tied through many co-authors, so a small feed does not make them another body.

**Decisions, with seeds.** Round after round, a candidate is accepted when it shares a
co-author, its pull is at least :data:`MIN_PULL`, it scores :data:`ACCEPT_SCORE`, its
categories and text are not both unlike the accepted ones, and, when it is shaped like a
bridge (one shared co-author, or others pulling towards another body), its text is no
nearer another body than the accepted papers; accepted papers then count as evidence, so
a chain of collaborators is followed. When co-authors vouch for nothing more, a candidate no
co-author vouches for (and in no group of its own) is judged on its field: with a
namesake in sight, it is accepted only if its categories and text are like the accepted
papers' and its text nearer theirs by :data:`TEXT_MARGIN` (the issue's hard case: same
field, no co-author); with none, it is accepted as it would be without seeds, unless its
categories and text are both unlike or its text is nearer another body. The rounds stop
when one accepts nothing. Then a candidate with no co-author shared and text unlike the
accepted papers' is rejected when its categories are unlike too, or when it belongs to
another body of another field; everything else is held.

**Decisions, without seeds.** Candidates are grouped into *bodies*: linked by shared
co-authors (a link between two papers of clearly different fields does not count: common
co-author names collide too), then every group, the largest first, joins the body nearest
in text that it is not clearly foreign to (texts unlike, categories not alike). One body
(the common case: a unique name) is accepted whole, as before identity existed. Several:
the largest is accepted, the others held, and the judgement is *ambiguous* (an anchor
would settle it).

The result does not depend on the order of the candidates.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..names import fold_name
from ..vocabulary import Decision

__all__ = ["Candidate", "Judgement", "Verdict", "judge"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper whose author list names the profile, reduced to what identity needs."""

    arxiv_id: str
    coauthors: tuple[str, ...]
    """Display names of the other authors (not the tracked person), as written."""
    categories: tuple[str, ...]
    """arXiv categories, primary first; empty when unknown."""
    text: str
    """Title + ". " + abstract."""
    year: int


@dataclass(frozen=True, slots=True)
class Verdict:
    arxiv_id: str
    decision: Decision
    score: float
    """0..1, rounded to 4 places: how strongly the evidence ties the paper to the
    accepted ones, whatever decided it (a feed paper with a low score is worth a look)."""
    reason: str
    """One line a person can check: names with counts, categories, similarity, years."""


@dataclass(frozen=True, slots=True)
class Judgement:
    verdicts: dict[str, Verdict]
    """By arxiv_id, one per candidate."""
    ambiguous: bool
    """The candidates split into clearly separate bodies and no seed settled which."""


WEIGHTS = (0.55, 0.2, 0.2, 0.05)
"""Co-authors, text, categories, year (they sum to 1)."""
HALF_SATURATION = 2
"""Accepted papers of shared co-authors at which the co-author part is 0.5 (as similar)."""
ACCEPT_SCORE = 0.4
MIN_PULL = 0.5
"""Share of a paper's co-author weight that must point at accepted papers."""
TEXT_FULL = 0.3
"""Text cosine at which the text part is full (one author's abstracts rarely exceed it)."""
TEXT_FOREIGN = 0.06
CATEGORY_FOREIGN = 0.2
CATEGORY_SAME = 0.3
TEXT_SAME = 0.1
TEXT_MARGIN = 0.05
BODY_MIN = 3
"""Unaccepted candidates linked by their own co-authors that can be another body."""
BRIDGE_NAMES = 2
"""Co-authors in common with the accepted papers, at most, of another body."""
YEAR_SLACK = 2
TIE = 1e-9
"""Cosines this close are equal (summation order differs between centroids)."""
NAMES_SHOWN = 3
CATEGORIES_SHOWN = 3


def judge(
    candidates: Sequence[Candidate],
    *,
    anchored: Collection[str] = (),
    accepted: Collection[str] = (),
    rejected: Collection[str] = (),
) -> Judgement:
    """Decide every candidate; see the module docstring for how.

    ``anchored``: ids in the author's identifier feed (accepted, and evidence).
    ``accepted`` / ``rejected``: ids a person or the config decided; they keep that
    decision (rejected wins over anchored). Ids that are not candidates are ignored.
    """
    space = _Space(candidates)
    if set(accepted) & set(rejected):
        both = sorted(set(accepted) & set(rejected))
        raise ValueError(f"decided both ways: {', '.join(both)}")
    fixed_out = space.mask(rejected)
    seeds = (space.mask(anchored) | space.mask(accepted)) & ~fixed_out
    if seeds.any():
        return _with_seeds(space, seeds, fixed_out, space.mask(anchored), space.mask(accepted))
    return _without_seeds(space, fixed_out)


def _with_seeds(space: _Space, seeds: Any, fixed_out: Any, anchored: Any, person: Any) -> Judgement:
    """Grow the accepted set from the seeds, then decide the rest (module docstring)."""
    accepted, evidence, leftovers = _grow(space, seeds, ~fixed_out)
    explain = _Explainer(space, accepted, evidence, leftovers)
    foreign = leftovers.foreign
    verdicts = {}
    for i, arxiv_id in enumerate(space.ids):
        if fixed_out[i]:
            decision, why = Decision.REJECTED, "rejected by a person"
        elif accepted[i]:
            decision, why = Decision.ACCEPTED, _seed_words(anchored[i], person[i])
            if not why and evidence.shared[i] == 0:
                why = _by_field(leftovers.nearest[i])
        else:
            decision = Decision.REJECTED if foreign[i] else Decision.HELD
            why = ""
        verdicts[arxiv_id] = explain.verdict(i, decision, why)
    return Judgement(verdicts, ambiguous=False)


def _by_field(nearest: float) -> str:
    if nearest > 0:
        return f"accepted on field and text (text similarity {nearest:.2f} to another body)"
    return "accepted on field and text"


def _seed_words(anchored: bool, person: bool) -> str:
    if person:
        return "accepted by a person"
    return "listed in the author's identifier feed" if anchored else ""


def _grow(space: _Space, seeds: Any, allowed: Any) -> tuple[Any, _Evidence, _Leftovers]:
    """Accept, round after round, what co-authors vouch for; when they vouch for nothing
    more, what the field alone allows; stop when a round accepts nothing."""
    accepted = seeds.copy()
    while True:
        leftovers = _Leftovers(space, accepted)
        evidence = leftovers.evidence
        new = leftovers.vouched_for(allowed)
        if not new.any():
            new = leftovers.accept_by_field(allowed)
        if not new.any():
            return accepted, evidence, leftovers
        accepted = accepted | new


def _without_seeds(space: _Space, fixed_out: Any) -> Judgement:
    """Accept the largest body; hold the others (ambiguous when there are others)."""
    bodies = _bodies(space, np.flatnonzero(~fixed_out))
    accepted = np.zeros(len(space.ids), dtype=bool)
    if bodies:
        accepted[bodies[0]] = True
    evidence = space.evidence(accepted)
    explain = _Explainer(space, accepted, evidence, None)
    body_of = {int(i): b for b, members in enumerate(bodies) for i in members}
    total = int((~fixed_out).sum())
    verdicts = {}
    for i, arxiv_id in enumerate(space.ids):
        if fixed_out[i]:
            verdicts[arxiv_id] = explain.verdict(i, Decision.REJECTED, "rejected by a person")
            continue
        size = len(bodies[body_of[i]])
        if body_of[i] == 0 and len(bodies) == 1:
            why, decision = f"one body of {_candidates(size)}", Decision.ACCEPTED
        elif body_of[i] == 0:
            why = f"largest of {len(bodies)} separate bodies ({size} of {total} candidates)"
            decision = Decision.ACCEPTED
        else:
            why = f"separate body of {_candidates(size)}, held: no anchor tells whose it is"
            decision = Decision.HELD
        verdicts[arxiv_id] = explain.verdict(i, decision, why)
    return Judgement(verdicts, ambiguous=len(bodies) > 1)


def _bodies(space: _Space, rows: Any) -> list[Any]:
    """Groups of ``rows``: linked by co-authors (fields permitting), then each group, the
    largest first, joins the body nearest in text that is not clearly of another field.

    Largest first (ties: the body holding the smallest id first).
    """
    groups = _coauthor_groups(space, rows, respect_fields=True)
    groups.sort(key=lambda g: (-len(g), int(g[0])))
    bodies: list[tuple[list[Any], _Field]] = []
    for group in groups:
        field = space.field(group)
        fits = [
            (b.text_cosine(field), -k) for k, (_, b) in enumerate(bodies) if not b.unlike(field)
        ]
        if fits:
            members, body = bodies[-max(fits)[1]]
            members.append(group)
            body.add(field)
        else:
            bodies.append(([group], field))
    merged = [np.sort(np.concatenate(members)) for members, _ in bodies]
    merged.sort(key=lambda g: (-len(g), int(g[0])))
    return merged


def _coauthor_groups(
    space: _Space, rows: Any, *, respect_fields: bool, names: Any = None
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


@dataclass(frozen=True, slots=True)
class _Evidence:
    """Every candidate measured against the accepted papers (leave-one-out for those)."""

    shared: Any
    """Co-authors shared with accepted papers."""
    weight: Any
    """Accepted papers those co-authors are on, summed."""
    elsewhere: Any
    """Candidates of another body the paper's unshared co-authors are on, summed."""
    pull: Any
    name_accepted: Any
    """Per co-author name (columns of ``_Space.coauthors``): accepted papers they are on."""
    text: Any
    category: Any
    """NaN when the paper or the accepted papers have no categories."""
    year: Any
    score: Any

    @property
    def vouched(self) -> Any:
        """Shares a co-author, and its co-authors point mostly at accepted papers."""
        return (self.shared > 0) & (self.pull >= MIN_PULL)

    @property
    def unlike(self) -> Any:
        """Categories unlike the accepted ones, and text too."""
        known = ~np.isnan(self.category)
        return (
            known & (np.nan_to_num(self.category) < CATEGORY_FOREIGN) & (self.text < TEXT_FOREIGN)
        )

    @property
    def foreign(self) -> Any:
        """Clearly someone else's: no co-author shared, unlike in field and text."""
        return (self.shared == 0) & self.unlike

    @property
    def same_field(self) -> Any:
        """Categories (when known) and text like the accepted papers'."""
        like = np.isnan(self.category) | (np.nan_to_num(self.category) >= CATEGORY_SAME)
        return like & (self.text >= TEXT_SAME)


class _Space:
    """The candidates, ordered by id, as matrices: co-authors, TF-IDF text, categories."""

    def __init__(self, candidates: Sequence[Candidate]) -> None:
        ordered = sorted(candidates, key=lambda c: c.arxiv_id)
        self.ids = [c.arxiv_id for c in ordered]
        if len(set(self.ids)) != len(self.ids):
            raise ValueError("a candidate is given twice")
        self.index = {arxiv_id: i for i, arxiv_id in enumerate(self.ids)}
        self.spellings = [_spellings(c.coauthors) for c in ordered]
        self.names = sorted({name for names in self.spellings for name in names})
        self.column = {name: j for j, name in enumerate(self.names)}
        self.coauthors = _incidence(self.spellings, self.names)
        self.category_names = sorted({k for c in ordered for k in c.categories})
        self.categories = [tuple(dict.fromkeys(c.categories)) for c in ordered]
        self.cats = _incidence(self.categories, self.category_names)
        self.topics = _text_vectors([c.text for c in ordered])
        self.years = np.array([c.year for c in ordered], dtype=np.int64)
        self.entries = np.repeat(np.arange(len(ordered)), np.diff(self.coauthors.indptr))

    def mask(self, ids: Collection[str]) -> Any:
        found = np.zeros(len(self.ids), dtype=bool)
        found[[self.index[i] for i in set(ids) if i in self.index]] = True
        return found

    def evidence(self, accepted: Any, elsewhere: Any = None) -> _Evidence:
        """``elsewhere``: the unaccepted candidates whose co-authors pull away from the
        accepted papers (by default all of them)."""
        away = ~accepted if elsewhere is None else elsewhere & ~accepted
        shared, weight, others, pull, per_name = self._coauthor_counts(accepted, away)
        text = np.clip(_leave_one_out_cosine(self.topics, accepted), 0.0, 1.0)
        category = _leave_one_out_cosine(self.cats, accepted, unknown=np.nan)
        year = self._year_fit(accepted)
        parts = (
            _saturated(weight) * pull,
            np.minimum(text / TEXT_FULL, 1.0),
            np.where(np.isnan(category), 0.5, category),
            year,
        )
        score = sum(w * part for w, part in zip(WEIGHTS, parts, strict=True))
        return _Evidence(shared, weight, others, pull, per_name, text, category, year, score)

    def _coauthor_counts(self, accepted: Any, away: Any) -> tuple[Any, Any, Any, Any, Any]:
        """Per candidate: co-authors shared with accepted papers, the accepted papers they
        are on, the ``away`` candidates the unshared ones are on, and the pull; per name,
        its accepted papers. A paper is no evidence for itself."""
        mine = accepted.astype(np.float64)
        theirs = away.astype(np.float64)
        on_accepted = self.coauthors.T @ mine
        on_others = self.coauthors.T @ theirs
        rows, cols = self.entries, self.coauthors.indices
        vouching = on_accepted[cols] - mine[rows]
        others = np.where(vouching == 0, on_others[cols] - theirs[rows], 0.0)
        n = len(self.ids)
        shared = np.bincount(rows, weights=vouching > 0, minlength=n)
        weight = np.bincount(rows, weights=vouching, minlength=n)
        elsewhere = np.bincount(rows, weights=others, minlength=n)
        towards = np.bincount(rows, weights=_saturated(vouching), minlength=n)
        away = np.bincount(rows, weights=_saturated(others), minlength=n)
        pull = np.divide(towards, towards + away, out=np.zeros(n), where=towards > 0)
        return shared, weight, elsewhere, pull, on_accepted

    def _year_fit(self, accepted: Any) -> Any:
        """1 inside the accepted span widened by :data:`YEAR_SLACK`, less further out."""
        if not accepted.any():
            return np.zeros(len(self.ids))
        low, high = self.span(accepted)
        distance = np.maximum(low - YEAR_SLACK - self.years, self.years - high - YEAR_SLACK)
        return np.clip(1.0 - np.maximum(distance, 0) / 5.0, 0.0, 1.0)

    def span(self, rows: Any) -> tuple[int, int]:
        years = self.years[rows]
        return int(years.min()), int(years.max())

    def pairs_unlike(self, left: Any, right: Any) -> Any:
        """For each pair of papers: both have categories, unlike, and texts not alike
        (two abstracts share fewer words than a paper and a centroid: :data:`TEXT_SAME`)."""
        text = np.asarray(self.topics[left].multiply(self.topics[right]).sum(axis=1)).ravel()
        return _unlike(self.cats[left], self.cats[right], text, TEXT_SAME)

    def field(self, rows: Any) -> _Field:
        return _Field(_summed(self.cats, rows), _summed(self.topics, rows))


@dataclass(slots=True)
class _Field:
    """What a group of papers is about: its summed category and TF-IDF vectors."""

    cats: Any
    topics: Any

    def add(self, other: _Field) -> None:
        self.cats = self.cats + other.cats
        self.topics = self.topics + other.topics

    def text_cosine(self, other: _Field) -> float:
        return _cosine(self.topics, other.topics)

    def unlike(self, other: _Field) -> bool:
        """Clearly another field: texts unlike, categories known and not alike (a group's
        categories mix, so a few cross-lists do not make the same field)."""
        text = np.array([self.text_cosine(other)])
        return bool(_unlike(self.cats, other.cats, text, category_below=CATEGORY_SAME)[0])

    def alike(self, other: _Field) -> bool:
        """The same field: categories (or texts) alike."""
        cats = _cosine(self.cats, other.cats)
        return cats >= CATEGORY_SAME or self.text_cosine(other) >= TEXT_SAME


def _saturated(count: Any) -> Any:
    """``s / (s + 2)``: the first shared papers count most (as in similar authors)."""
    return count / (count + HALF_SATURATION)


def _spellings(coauthors: Sequence[str]) -> dict[str, str]:
    """Folded name -> the first spelling of it on the paper (names folding to nothing
    are no evidence)."""
    found: dict[str, str] = {}
    for name in coauthors:
        found.setdefault(fold_name(name), name)
    found.pop("", None)
    return found


def _incidence(rows: Sequence[Collection[str]], columns: Sequence[str]) -> Any:
    """A CSR 0/1 matrix: row ``i`` has a 1 in the column of each of ``rows[i]``."""
    position = {name: j for j, name in enumerate(columns)}
    cols = [sorted(position[name] for name in row) for row in rows]
    indptr = np.cumsum([0] + [len(c) for c in cols])
    indices = np.array([j for c in cols for j in c], dtype=np.int64)
    data = np.ones(len(indices), dtype=np.float64)
    return sp.csr_matrix((data, indices, indptr), shape=(len(rows), len(columns)))


def _text_vectors(texts: Sequence[str]) -> Any:
    """TF-IDF rows (unit length, or zero) with the settings of similar authors
    (:func:`harvester.topics.tfidf_rows`), imported when called: scikit-learn is slow to
    import, and a command that never consults the evidence should not pay for it."""
    from ..topics import tfidf_rows

    return sp.csr_matrix(tfidf_rows(texts), dtype=np.float64)


def _leave_one_out_cosine(rows: Any, accepted: Any, unknown: float = 0.0) -> Any:
    """Cosine of each row with the sum of the accepted rows, its own row left out."""
    mine = accepted.astype(np.float64)
    total = np.asarray(rows.T @ mine).ravel()
    dots = np.asarray(rows @ total).ravel()
    own = np.asarray(rows.multiply(rows).sum(axis=1)).ravel()
    dot = dots - mine * own
    norm = np.sqrt(np.maximum(total @ total - 2 * mine * dots + mine * own, 0.0) * own)
    return np.divide(dot, norm, out=np.full(len(own), unknown), where=norm > 1e-12)


def _summed(rows: Any, members: Any) -> Any:
    return np.asarray(rows[members].sum(axis=0)).ravel()


def _cosine(a: Any, b: Any) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 0 else 0.0


def _unlike(
    left_cats: Any,
    right_cats: Any,
    text: Any,
    text_below: float = TEXT_FOREIGN,
    category_below: float = CATEGORY_FOREIGN,
) -> Any:
    """Row by row: both sides have categories, their cosine is below ``category_below``,
    and ``text`` is below ``text_below``."""
    a, b = sp.csr_matrix(left_cats), sp.csr_matrix(right_cats)
    dots = np.asarray(a.multiply(b).sum(axis=1)).ravel()
    norms = np.sqrt(_row_squares(a) * _row_squares(b))
    cos = np.divide(dots, norms, out=np.zeros(len(norms)), where=norms > 0)
    return (norms > 0) & (cos < category_below) & (text < text_below)


def _row_squares(matrix: Any) -> Any:
    return np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel()


class _Leftovers:
    """The unaccepted candidates, grouped by the co-authors no accepted paper has; which
    groups are another body, and which of those a namesake in sight (module docstring)."""

    def __init__(self, space: _Space, accepted: Any) -> None:
        self.space, self.accepted = space, accepted
        first = space.evidence(accepted)
        known = first.name_accepted > 0
        rows = np.flatnonzero(~accepted)
        self.groups = _coauthor_groups(space, rows, respect_fields=False, names=~known)
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

    def _another_body(self, group: Any, first: _Evidence, known: Any) -> bool:
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
            best = np.maximum(best, _leave_one_out_cosine(self.space.topics, members))
        return best

    @property
    def foreign(self) -> Any:
        """Clearly someone else's: no co-author shared, text unlike, and either categories
        unlike too or the paper in another body of another field (a cross-list to the
        author's category does not make a q-bio body's paper hers)."""
        ev = self.evidence
        return ev.foreign | (self.other_field & (ev.shared == 0) & (ev.text < TEXT_FOREIGN))

    def size(self, i: int) -> int:
        group = self.group_of.get(i)
        return 0 if group is None else len(group)

    def vouched_for(self, allowed: Any) -> Any:
        """Candidates their co-authors tie to accepted papers, in a field not unlike
        theirs, and, when shaped like a bridge to another body, no nearer it in text."""
        ev = self.evidence
        vouched = ev.vouched & (ev.score >= ACCEPT_SCORE) & ~ev.unlike
        bridge_like = (ev.pull < 1.0) | (ev.shared < 2)
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


class _Explainer:
    """Reasons a person can check: names with counts, categories, text, years."""

    def __init__(
        self, space: _Space, accepted: Any, evidence: _Evidence, leftovers: _Leftovers | None
    ) -> None:
        self.space, self.accepted, self.ev, self.leftovers = space, accepted, evidence, leftovers
        mine = accepted.astype(np.float64)
        self.on_accepted = self.space.coauthors.T @ mine
        self.accepted_cats = self.space.cats.T @ mine
        self.any_accepted = bool(accepted.any())
        self.usual = self._usual_categories()
        self.span = self.space.span(accepted) if self.any_accepted else (0, 0)

    def verdict(self, i: int, decision: Decision, why: str) -> Verdict:
        parts = [why] if why else []
        parts += [self.coauthors(i), self.categories(i), self.text(i), *self.namesakes(i)]
        parts.append(self.year(i))
        reason = "; ".join(p for p in parts if p)
        return Verdict(self.space.ids[i], decision, round(float(self.ev.score[i]), 4), reason)

    def coauthors(self, i: int) -> str:
        shared = self.shared_names(i)
        if not shared:
            return "no co-author shared with accepted papers"
        plural = "s" if len(shared) > 1 else ""
        text = f"{len(shared)} co-author{plural} shared with accepted papers ({_listed(shared)})"
        if self.ev.pull[i] < MIN_PULL:
            others = int(self.ev.elsewhere[i])
            text += f", but its other co-authors are on {_candidates(others)} of another body"
        return text

    def shared_names(self, i: int) -> list[tuple[str, int]]:
        """``(name as written on the paper, accepted papers)``, most frequent first."""
        mine = int(self.accepted[i])
        spelled = self.space.spellings[i]
        counts = [(spelled[n], int(self.on_accepted[self.space.column[n]]) - mine)
                  for n in spelled]  # fmt: skip
        shared = [(name, count) for name, count in counts if count > 0]
        return sorted(shared, key=lambda nc: (-nc[1], nc[0]))

    def namesakes(self, i: int) -> list[str]:
        """For an unaccepted paper: its own group, another body its text is nearer, a
        namesake in sight, or evidence too weak."""
        left, ev = self.leftovers, self.ev
        if left is None or self.accepted[i]:
            return []
        parts = []
        size = left.size(i)
        if size >= BODY_MIN:
            parts.append(f"one of {size} unaccepted candidates linked by their own co-authors")
        if left.bodies and ev.shared[i] == 0 and ev.same_field[i]:
            largest = _candidates(max(len(b) for b in left.bodies))
            nearest = f"text similarity {left.nearest[i]:.2f} to another body"
            parts.append(f"a namesake in sight: {largest} in the same field ({nearest})")
        elif left.nearest[i] > ev.text[i] + TIE:
            parts.append(f"text nearer another body ({left.nearest[i]:.2f})")
        if ev.vouched[i] and ev.score[i] < ACCEPT_SCORE:
            parts.append(f"score below {ACCEPT_SCORE}")
        return parts

    def categories(self, i: int) -> str:
        own = self.space.categories[i]
        if not own:
            return "no categories"
        listed = ", ".join(own)
        if not self.usual:
            return f"categories {listed}"
        if any(self.accepted_cats[self.space.category_names.index(k)] > 0 for k in own):
            return f"categories {listed}"
        return f"categories {listed} unlike accepted {', '.join(self.usual)}"

    def _usual_categories(self) -> list[str]:
        counts = self.accepted_cats
        order = sorted(np.flatnonzero(counts).tolist(), key=lambda j: (-counts[j], j))
        return [self.space.category_names[j] for j in order[:CATEGORIES_SHOWN]]

    def text(self, i: int) -> str:
        if not self.any_accepted:
            return ""
        return f"text similarity {self.ev.text[i]:.2f}"

    def year(self, i: int) -> str:
        if not self.any_accepted:
            return ""
        low, high = self.span
        span = str(low) if low == high else f"{low}-{high}"
        year = int(self.space.years[i])
        if low <= year <= high:
            return f"{year} within accepted {span}"
        return f"{year} outside accepted {span}"


def _candidates(count: int) -> str:
    return f"{count} candidate" if count == 1 else f"{count} candidates"


def _listed(shared: Sequence[tuple[str, int]]) -> str:
    shown = [f"{name} \N{MULTIPLICATION SIGN}{count}" for name, count in shared[:NAMES_SHOWN]]
    return ", ".join(shown) + (", …" if len(shared) > NAMES_SHOWN else "")
