"""What a person reads: one message of a target's pending items, and when it is due.

Pure functions (no I/O, no clock). The body is Markdown: apprise sends it as is where a
service renders Markdown (Slack, Discord, Matrix, Telegram ...), as HTML beside the text in
an e-mail, and as written in a JSON webhook, where it reads as plain text too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..store import PendingItem
from ..vocabulary import AlertKind, Digest

ABS_URL = "https://arxiv.org/abs/{}"
PERIODS = {
    Digest.CYCLE: timedelta(0),
    Digest.DAILY: timedelta(days=1),
    Digest.WEEKLY: timedelta(days=7),
}
"""How long a target's news gathers, counted from its oldest pending item ..."""
SLACK = 12
"""... less a twelfth (2 hours of a day): a daily cycle whose jitter starts it a little
earlier than yesterday's still sends yesterday's digest, not the day after."""
NAMES_IN_TITLE = 3

NOUNS = {
    AlertKind.NEW_PAPER: ("new paper", "new papers"),
    AlertKind.NEW_VERSION: ("new version", "new versions"),
    AlertKind.WITHDRAWN: ("withdrawal", "withdrawals"),
    AlertKind.HELD_FOR_REVIEW: ("paper held for review", "papers held for review"),
    AlertKind.FAILING: ("author failing", "authors failing"),
}
LABELS = {
    AlertKind.NEW_PAPER: "New paper",
    AlertKind.NEW_VERSION: "New version",
    AlertKind.WITHDRAWN: "Withdrawn",
    AlertKind.HELD_FOR_REVIEW: "Held for review",
    AlertKind.FAILING: "Failing",
}
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def is_due(items: Sequence[PendingItem], digest: Digest, now: datetime) -> bool:
    """A target's items make a message now: any for ``cycle``; for a daily or weekly digest,
    once the oldest has waited about a day or a week (:data:`SLACK`)."""
    return bool(items) and now >= due_at(items, digest)


def due_at(items: Sequence[PendingItem], digest: Digest) -> datetime:
    """When ``items`` (not empty) make a message: the oldest's time plus the wait."""
    period = PERIODS[digest]
    return min(i.created for i in items) + period - period / SLACK


def compose(items: Sequence[PendingItem]) -> Message:
    """One message of ``items``: a title that counts them and names the authors, then per
    author what happened, each paper with its title, link, version and date."""
    return Message(_title(items), "\n\n".join(_section(group) for group in _by_author(items)))


def trial_message(target: str) -> Message:
    """What ``harvest notify --test`` sends."""
    return Message(
        "arxiv-harvester: test message",
        f"This is a test of the notification target **{target}**: it works.",
    )


def _title(items: Sequence[PendingItem]) -> str:
    counts = {kind: sum(1 for i in items if i.kind == kind) for kind in AlertKind}
    parts = [f"{n} {NOUNS[kind][n != 1]}" for kind, n in counts.items() if n]
    names = list(dict.fromkeys(i.author_name for i in items))
    shown = ", ".join(names[:NAMES_IN_TITLE]) + (", …" if len(names) > NAMES_IN_TITLE else "")
    return f"{', '.join(parts)}: {shown}"


def _by_author(items: Sequence[PendingItem]) -> list[list[PendingItem]]:
    groups: dict[str, list[PendingItem]] = {}
    for item in items:
        groups.setdefault(item.author_key, []).append(item)
    return list(groups.values())


def _section(items: Sequence[PendingItem]) -> str:
    first = items[0]
    heading = f"## {_escape(first.author_name)}"
    return "\n".join([heading, "", *(f"- {_line(i)}" for i in items)])


def _line(item: PendingItem) -> str:
    label = LABELS[item.kind]
    if item.kind == AlertKind.FAILING:
        return f"{label}: {_escape(item.detail or '')}"
    paper = _paper(item)
    if item.kind == AlertKind.HELD_FOR_REVIEW:
        why = _escape(item.detail or "the evidence does not settle it")
        return f"{label}: {paper}; {why}. Decide with `harvest review {item.author_key}`"
    return f"{label}: {paper}"


def _paper(item: PendingItem) -> str:
    title = _escape(item.title or item.arxiv_id or "?")
    link = ABS_URL.format(item.arxiv_id)
    version = f"v{item.version}" if item.version is not None else ""
    if item.kind == AlertKind.NEW_VERSION and item.detail:
        version = item.detail
    date = f"{item.updated:%Y-%m-%d}" if item.updated is not None else ""
    facts = ", ".join(x for x in (item.arxiv_id, version, date) if x)
    return f"[{title}]({link}) ({facts})"


def _escape(text: str) -> str:
    """Text as Markdown shows it literally (a title's ``*`` or ``[`` is not markup)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(text.split()))
