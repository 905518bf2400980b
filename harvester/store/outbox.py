"""The notifications' outbox: what each ``[[notify]]`` target is to hear, and the messages.

Exactly once, whatever fails:

- an author's items (``outbox_item``) are written by :func:`write_items` inside the
  savepoint that writes its events (:mod:`.harvests`): both are committed, or neither;
- after the cycle, a target's due items are gathered into one message (``notice``) by
  :func:`file_notice`, in one transaction that takes only items no message has yet (two
  processes gathering at once: one wins, the other files nothing);
- a process delivers a message only under a claim (:func:`claim_notices`, like the author
  leases of :mod:`.leases`): one row update that succeeds for one process only, and expires
  on its own when its owner is killed; :func:`finish_notice` records the outcome.

A failing author is an item too (:func:`record_failing`), keyed on the first failed run of
the streak (``ref``, unique per target), so it is said once however many runs look.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..config import NotifySettings
from ..plans import AuthorPlan
from ..vocabulary import AlertKind, EventKind, RunStatus
from . import schema as t
from .engine import among, insert_for
from .problems import database_error
from .runlog import NOT_HARVESTS

ALERT_OF_EVENT = {
    EventKind.NEW_PAPER: AlertKind.NEW_PAPER,
    EventKind.NEW_VERSION: AlertKind.NEW_VERSION,
    EventKind.WITHDRAWN: AlertKind.WITHDRAWN,
}
"""The events a notification can tell of (the others are bookkeeping)."""


@dataclass(frozen=True, slots=True)
class PendingItem:
    """One thing a target is to hear, with what a message says of it."""

    item_id: int
    author_key: str
    author_name: str
    kind: AlertKind
    arxiv_id: str | None
    title: str | None
    version: int | None
    updated: datetime | None
    detail: str | None
    created: datetime


@dataclass(frozen=True, slots=True)
class Notice:
    """A message filed for a target: to deliver, or delivered."""

    notice_id: int
    target: str
    created: datetime
    title: str
    body: str
    sent: datetime | None = None
    attempts: int = 0
    last_error: str | None = None


def write_items(
    conn: Connection, plan: AuthorPlan, targets: Sequence[NotifySettings], now: datetime
) -> None:
    """Inside the savepoint that writes the author's events: an item per target for each
    event it hears of."""
    write_items_many(conn, [plan], targets, now)


def write_items_many(
    conn: Connection, plans: Sequence[AuthorPlan], targets: Sequence[NotifySettings], now: datetime
) -> None:
    """:func:`write_items` for several authors' plans, in one statement."""
    rows = [row for plan in plans for row in _items_of(plan, targets, now)]
    if rows:
        conn.execute(insert(t.outbox_item), rows)


def _items_of(
    plan: AuthorPlan, targets: Sequence[NotifySettings], now: datetime
) -> list[dict[str, Any]]:
    said = [(ALERT_OF_EVENT[e.kind], e.arxiv_id, e.detail) for e in plan.plan.events
            if e.kind in ALERT_OF_EVENT]  # fmt: skip
    said += [(AlertKind.HELD_FOR_REVIEW, e.arxiv_id, e.detail) for e in plan.plan.held]
    return [
        _item(target.name, plan.key, kind, arxiv_id, detail, now)
        for kind, arxiv_id, detail in said
        for target in targets
        if target.concerns(plan.key, kind)
    ]


def _item(
    target: str,
    author_key: str,
    kind: AlertKind,
    arxiv_id: str | None,
    detail: str | None,
    now: datetime,
    ref: str | None = None,
) -> dict[str, Any]:
    return {
        "target": target,
        "author_key": author_key,
        "kind": kind,
        "arxiv_id": arxiv_id,
        "detail": detail,
        "ref": ref,
        "created": now,
    }


def record_failing(
    engine: Engine, targets: Sequence[NotifySettings], authors: Sequence[str], now: datetime
) -> int:
    """An item for each of ``authors`` whose harvests fail since its last complete one, once
    per streak and target (``ref``: the streak's first run); returns how many were new."""
    wanted = [target for target in targets if AlertKind.FAILING in target.events]
    if not wanted:
        return 0
    try:
        with engine.begin() as conn:
            rows = [
                _item(target.name, key, AlertKind.FAILING, None, detail, now, ref)
                for key, ref, detail in _failing(conn, authors)
                for target in wanted
                if target.concerns(key, AlertKind.FAILING)
            ]
            if not rows:
                return 0
            stmt = insert_for(conn)(t.outbox_item).on_conflict_do_nothing(
                index_elements=["target", "ref"]
            )
            return int(conn.execute(stmt, rows).rowcount)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot record failing authors") from exc


def _failing(conn: Connection, authors: Sequence[str]) -> list[tuple[str, str, str]]:
    """``(author key, ref, detail)`` of each author whose runs since its last ``ok`` one
    failed: since when, and the last error."""
    r = t.run.c
    other = t.run.alias("ok_run")
    last_ok = (
        select(func.coalesce(func.max(other.c.run_id), 0))
        .where(other.c.author_key == r.author_key, other.c.status == RunStatus.OK)
        .scalar_subquery()
    )
    stmt = (
        select(r.author_key, r.run_id, r.started_at, r.error)
        .where(
            among(conn, r.author_key, list(authors)),
            r.status.not_in((*NOT_HARVESTS, RunStatus.OK)),
            r.run_id > last_ok,
        )
        .order_by(r.author_key, r.run_id)
    )
    streaks: dict[str, list[Any]] = {}
    for row in conn.execute(stmt):
        streaks.setdefault(row.author_key, []).append(row)
    return [
        (key, f"failing since run {runs[0].run_id}", _since(runs[0].started_at, runs[-1].error))
        for key, runs in streaks.items()
    ]


def _since(started: datetime, error: str | None) -> str:
    return f"failing since {started:%Y-%m-%d %H:%M} UTC; last error: {error or 'none given'}"


def pending_items(engine: Engine, target: str) -> list[PendingItem]:
    """The target's items no message has taken yet, oldest first."""
    i, p, a = t.outbox_item.c, t.paper.c, t.author.c
    stmt = (
        select(
            i.item_id,
            i.author_key,
            func.coalesce(a.name, i.author_key).label("author_name"),
            i.kind,
            i.arxiv_id,
            p.title,
            p.version,
            p.updated,
            i.detail,
            i.created,
        )
        .select_from(
            t.outbox_item.outerjoin(t.paper, p.arxiv_id == i.arxiv_id).outerjoin(
                t.author, a.key == i.author_key
            )
        )
        .where(i.target == target, i.notice_id.is_(None))
        .order_by(i.item_id)
    )
    try:
        with engine.connect() as conn:
            return [_pending(row) for row in conn.execute(stmt)]
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot read the notification outbox") from exc


def _pending(row: Any) -> PendingItem:
    item_id, author_key, name, kind, arxiv_id, title, version, updated, detail, created = row
    return PendingItem(
        item_id, author_key, name, AlertKind(kind), arxiv_id, title, version, updated, detail,
        created,
    )  # fmt: skip


def file_notice(
    engine: Engine, target: str, item_ids: Sequence[int], title: str, body: str, now: datetime
) -> int | None:
    """File one message made of ``item_ids``, in one transaction, if none of them went into
    another message meanwhile (another process filed them first: None, nothing written)."""
    i = t.outbox_item.c
    try:
        with engine.begin() as conn:
            values = {"target": target, "created": now, "title": title, "body": body}
            inserted = conn.execute(insert(t.notice).values(**values, attempts=0))
            assert inserted.inserted_primary_key is not None
            notice_id = int(inserted.inserted_primary_key[0])
            taken = conn.execute(
                update(t.outbox_item)
                .where(among(conn, i.item_id, list(item_ids)), i.notice_id.is_(None))
                .values(notice_id=notice_id)
            ).rowcount
            if taken != len(item_ids):
                raise _TakenMeanwhile
            return notice_id
    except _TakenMeanwhile:
        return None
    except SQLAlchemyError as exc:
        raise database_error(exc, f"cannot file a notification for {target}") from exc


class _TakenMeanwhile(Exception):
    """Another process filed some of the items first: roll this message back."""


def claim_notices(
    engine: Engine, targets: Sequence[str], owner: str, now: datetime, ttl: timedelta
) -> list[Notice]:
    """The unsent messages of ``targets`` this process now holds, oldest first: each
    claimed by one update that only one process can win."""
    n = t.notice.c
    free = or_(n.claimed_until.is_(None), n.claimed_until < now)
    unsent = and_(n.sent.is_(None), n.target.in_(list(targets)), free)
    claimed = []
    try:
        with engine.connect() as conn:
            candidates = list(conn.execute(select(n.notice_id).where(unsent)).scalars())
        for notice_id in candidates:
            with engine.begin() as conn:
                won = conn.execute(
                    update(t.notice)
                    .where(n.notice_id == notice_id, unsent)
                    .values(claimed_by=owner, claimed_until=now + ttl)
                ).rowcount
            if won == 1:
                claimed.append(notice_id)
        with engine.connect() as conn:
            rows = conn.execute(select(*_NOTICE).where(among(conn, n.notice_id, claimed)))
            return sorted((Notice(*row) for row in rows), key=lambda x: x.notice_id)
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot claim notifications") from exc


_NOTICE = (
    t.notice.c.notice_id,
    t.notice.c.target,
    t.notice.c.created,
    t.notice.c.title,
    t.notice.c.body,
    t.notice.c.sent,
    t.notice.c.attempts,
    t.notice.c.last_error,
)


def finish_notice(
    engine: Engine, notice_id: int, owner: str, now: datetime, attempts: int, error: str | None
) -> None:
    """Record a delivery (``error`` None: sent) and give the claim up."""
    n = t.notice.c
    values: dict[str, Any] = {"claimed_by": None, "claimed_until": None}
    values |= {"attempts": n.attempts + attempts, "last_error": error}
    if error is None:
        values["sent"] = now
    try:
        with engine.begin() as conn:
            conn.execute(
                update(t.notice)
                .where(n.notice_id == notice_id, n.claimed_by == owner)
                .values(**values)
            )
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot record a notification's delivery") from exc


def unsent_notices(engine: Engine) -> list[Notice]:
    """Every message not delivered yet, oldest first (``harvest notify --preview``)."""
    n = t.notice.c
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(*_NOTICE).where(n.sent.is_(None)).order_by(n.notice_id))
            return [Notice(*row) for row in rows]
    except SQLAlchemyError as exc:
        raise database_error(exc, "cannot read the notifications") from exc
