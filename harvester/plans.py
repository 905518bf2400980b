"""The records that pass between the decisions and the store: what the store read, what
to write. Plain frozen dataclasses, no behaviour beyond arithmetic on their own fields.

One query's harvest goes through them in this order (:mod:`harvester.cycle.query`):

1. the store reads a :class:`Snapshot` of the query's authors (:class:`Wanted` says what
   to read: :meth:`Store.load_snapshot <harvester.store.Store.load_snapshot>`);
2. the decisions (:mod:`harvester.cycle.planning`, pure) say which :class:`Extras` they need
   beyond it, rarely any: the member papers the identity evidence weighs new candidates
   against, and the stored papers a person's decision, a claim or a changed identity
   re-checks (:class:`Needs`; :meth:`Store.load_extras
   <harvester.store.Store.load_extras>`);
3. they decide each author's :class:`AuthorPlan`;
4. the store writes the plans in one short transaction
   (:meth:`Store.write_plans <harvester.store.Store.write_plans>`).

Both sides import this module and neither imports the other, so the dependencies point
one way: ``store`` -> ``plans`` <- ``planning``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .records import Paper
from .vocabulary import EventKind, ReviewDecision, RunStatus

__all__ = [
    "AuthorPlan",
    "AuthorSnapshot",
    "Event",
    "Extras",
    "Needs",
    "Plan",
    "Ruling",
    "Seen",
    "Shortfall",
    "Snapshot",
    "Standing",
    "Wanted",
]


@dataclass(frozen=True, slots=True)
class Seen:
    """A membership as stored: what the profile last saw of a paper."""

    arxiv_id: str
    status: str
    matched_name: str | None
    reason: str | None
    version: int
    withdrawn: bool
    meta: Mapping[str, object]
    #: the identity evidence's score (None: not judged)
    score: float | None = None
    #: the seeds (claimed or included ids) the evidence accepted it only through, or its
    #: own id for a paper in the profile by a claim alone: when one goes, it is judged again
    drawn_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Standing:
    """A profile's active papers before a harvest, and how many of them are withdrawn."""

    active: int
    withdrawn: int


@dataclass(frozen=True, slots=True)
class Event:
    arxiv_id: str
    kind: EventKind
    detail: str | None = None


@dataclass(slots=True)
class Plan:
    """Memberships to write, events to record and the resulting counts."""

    writes: list[Seen] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    paper_count: int = 0
    withdrawn_count: int = 0
    previous_count: int = 0
    baseline: bool = False
    suspect_reason: str | None = None
    #: papers returned with a lower version than the profile saw: kept as they were
    stale: list[str] = field(default_factory=list)
    #: the identity evidence split into separate bodies (None: not judged this time)
    ambiguous: bool | None = None
    #: papers newly held for review, each with why (what a notification tells a person)
    held: list[Event] = field(default_factory=list)

    @property
    def count_changed(self) -> bool:
        return self.baseline or self.paper_count != self.previous_count

    def count(self, kind: EventKind) -> int:
        return sum(1 for e in self.events if e.kind == kind)


@dataclass(frozen=True, slots=True)
class Ruling:
    """A person's decision on one paper (``harvest review``) and when it was taken."""

    decision: ReviewDecision
    decided_at: datetime


@dataclass(frozen=True, slots=True)
class Wanted:
    """What the store reads for one author of a query (:class:`Snapshot`).

    ``papers``: the author's share of the answer; ``full``: the answer covered every
    paper; ``claimed``: the ids of the author identifier feed, None when identity is
    decided on names alone (then neither decisions nor claims are read).
    """

    key: str
    full: bool
    papers: Sequence[Paper]
    claimed: frozenset[str] | None = None


@dataclass(frozen=True, slots=True)
class AuthorSnapshot:
    """What the store held of one author when the query's snapshot was read.

    ``seen``: the memberships, all of them for a full harvest, those of the returned
    papers for an incremental one; ``standing``: the active papers before the harvest
    (incremental harvests only); ``rulings``: people's decisions, by id; ``pending``: the
    memberships of the papers a decision or the feed names that the answer did not return
    (incremental harvests only: a full one returns them all).
    """

    baseline: str | None = None
    seen: Mapping[str, Seen] = field(default_factory=dict)
    standing: Standing | None = None
    rulings: Mapping[str, Ruling] = field(default_factory=dict)
    pending: Mapping[str, Seen] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the store held for one query's authors, read before anything is decided.

    ``unchanged``: the returned papers stored exactly as returned.
    """

    authors: Mapping[str, AuthorSnapshot]
    unchanged: frozenset[str] = frozenset()

    def of(self, author_key: str) -> AuthorSnapshot:
        return self.authors.get(author_key, AuthorSnapshot())


@dataclass(frozen=True, slots=True)
class Needs:
    """What the decisions need beyond the snapshot: the member papers of these authors,
    and these stored papers (empty in a steady cycle: then nothing more is read)."""

    members_of: frozenset[str] = frozenset()
    papers: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.members_of or self.papers)


@dataclass(frozen=True, slots=True)
class Extras:
    """What :class:`Needs` asked for: member papers by author, stored papers by id."""

    members: Mapping[str, Sequence[Paper]] = field(default_factory=dict)
    papers: Mapping[str, Paper] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Shortfall:
    """Why an author's harvest is not complete (an entry refused, the papers of its feed
    not fetched): what it read is recorded, new papers and new versions, but nothing is
    taken away, the watermark does not move, and the run ends with ``status`` (``incomplete``,
    or ``failed`` when asking again will not help) and ``error``."""

    status: RunStatus
    error: str
    #: entries the answer held that were refused (they count as seen)
    refused: int = 0


@dataclass(frozen=True, slots=True)
class AuthorPlan:
    """One author's decided harvest, for the store to write as it is.

    ``quiet``: nothing to write but the run (no savepoint is taken); ``identity``: the
    baseline identity to remember, None to leave it as it is; ``plan.ambiguous``: the flag
    to set, None to leave it; ``shortfall``: the harvest is not complete (its plan only
    adds), the coverage stays where it was.
    """

    key: str
    run_id: int
    papers: Sequence[Paper]
    plan: Plan
    full: bool
    watermark: datetime
    requests: int
    identity: str | None = None
    quiet: bool = False
    #: why the harvest is not complete (None: it is)
    shortfall: Shortfall | None = None
