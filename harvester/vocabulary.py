"""The words the harvester stores and compares: run statuses, memberships, events, modes,
decisions.

Each is a :class:`~enum.StrEnum`, so a member *is* its string: it goes into SQL parameters
and comparisons as is, reads back from the database as a plain ``str`` that compares equal,
and a typo in code is an ``AttributeError`` (and a mypy error), not a silent mismatch.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AlertKind",
    "Decision",
    "Digest",
    "EventKind",
    "HarvestMode",
    "HealthState",
    "Membership",
    "ReviewDecision",
    "RunStatus",
]


class RunStatus(StrEnum):
    """``run.status``: how one author's harvest ended (``running`` while it runs)."""

    RUNNING = "running"
    OK = "ok"
    INCOMPLETE = "incomplete"
    SUSPECT = "suspect"
    FAILED = "failed"
    SKIPPED = "skipped"
    #: a shutdown ended the harvest before it was complete (a routine stop, not a failure)
    STOPPED = "stopped"


class HealthState(StrEnum):
    """An author's state in ``harvest status`` (``state`` in its JSON)."""

    OK = "ok"
    FAILING = "failing"
    STALE = "stale"
    NEVER_HARVESTED = "never harvested"


class Membership(StrEnum):
    """``membership.status``: what a paper is to a profile."""

    ACTIVE = "active"
    MISSING = "missing"
    EXCLUDED = "excluded"
    REJECTED = "rejected"
    #: the name matches but the evidence does not settle whose paper it is: not a member
    #: until a person accepts it (``harvest review``) or later evidence does
    HELD = "held"


class EventKind(StrEnum):
    """``event.kind``: what a harvest recorded about a paper of a profile."""

    NEW_PAPER = "new_paper"
    NEW_VERSION = "new_version"
    METADATA_CHANGED = "metadata_changed"
    WITHDRAWN = "withdrawn"
    MISSING = "missing"
    REAPPEARED = "reappeared"
    EXCLUDED = "excluded"
    INCLUDED = "included"


class HarvestMode(StrEnum):
    """``run.mode``: a full reconciliation, or an incremental harvest of recent changes."""

    FULL = "full"
    INCREMENTAL = "incremental"


class HarvestSource(StrEnum):
    """``[harvest] source``: where a cycle asks arXiv."""

    #: one search query per author (or group of authors), as arXiv's API answers it
    API = "api"
    #: arXiv's OAI-PMH service: every record of the sets since the last harvest, matched
    #: locally against every tracked author
    OAI = "oai"


class ReviewDecision(StrEnum):
    """``review_decision.decision``: what a person decided about a paper of a profile."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Decision(StrEnum):
    """What the identity evidence makes of a candidate paper (:func:`harvester.identity.judge`)."""

    ACCEPTED = "accepted"
    HELD = "held"
    REJECTED = "rejected"


class AlertKind(StrEnum):
    """What a notification tells (``[[notify]] events``, ``outbox_item.kind``)."""

    NEW_PAPER = "new_paper"
    NEW_VERSION = "new_version"
    WITHDRAWN = "withdrawn"
    #: a paper the evidence could not settle waits for ``harvest review KEY``
    HELD_FOR_REVIEW = "held_for_review"
    #: an author's harvests began to fail (said once per run of failures)
    FAILING = "failing"


class Digest(StrEnum):
    """``[[notify]] digest``: how long a target's news gathers before one message goes."""

    CYCLE = "cycle"
    DAILY = "daily"
    WEEKLY = "weekly"
