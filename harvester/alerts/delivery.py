"""After a cycle's commits: gather each target's due items into a message, then deliver the
messages this process claims. ``harvest notify --test`` and ``--preview`` live here too.

The outbox (:mod:`harvester.store`) makes it exactly once: items were committed with their
events; :meth:`~harvester.store.Store.file_notice` lets one process only turn them into a
message; :meth:`~harvester.store.Store.claim_notices` lets one process only deliver it. A
target that is down leaves its message unsent (attempts and the last error recorded): the
next cycle tries again, and the harvest's exit code never hears of it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..config import NotifySettings, Settings
from ..errors import ConfigError, DeliveryError, HarvesterError
from ..store import Notice, Store, default_owner
from .compose import Message, compose, due_at, is_due, trial_message
from .service import Service

logger = logging.getLogger(__name__)

CLAIM_TTL = timedelta(minutes=2)
"""A message claimed by a process that died is free again after this long."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One message's fate: delivered (``error`` None) or why not."""

    target: str
    title: str
    error: str | None = None


def open_services(settings: Settings) -> dict[str, Service]:
    """Every target opened; :class:`ConfigError` names the first URL apprise does not know."""
    return {t.name: Service(t, settings.path) for t in settings.notify}


def after_cycle(settings: Settings, store: Store, clock: Callable[[], datetime]) -> None:
    """:func:`deliver`, its failures logged, never raised: notifications never change what
    a harvest reports or its exit code."""
    try:
        outcomes = deliver(settings, store, clock)
    except HarvesterError as exc:
        logger.error("notifications: %s", exc)
        return
    for outcome in outcomes:
        if outcome.error is None:
            logger.info("notified %s: %s", outcome.target, outcome.title)
        else:
            logger.warning("%s", outcome.error)


def deliver(
    settings: Settings, store: Store, clock: Callable[[], datetime], owner: str | None = None
) -> list[Outcome]:
    """Record failing authors, file every target's due digest, deliver what this process
    claims; returns what became of each message it claimed."""
    targets = settings.notify
    if not targets:
        return []
    services = open_services(settings)
    store.record_failing(targets, [a.key for a in settings.authors], clock())
    file_due(store, targets, clock())
    owner = owner or default_owner()
    names = [t.name for t in targets]
    claimed = store.claim_notices(names, owner, clock(), CLAIM_TTL)
    return [_deliver_one(store, services[n.target], n, owner, clock) for n in claimed]


def file_due(store: Store, targets: Sequence[NotifySettings], now: datetime) -> int:
    """One message per target whose items are due (its digest); how many were filed."""
    filed = 0
    for target in targets:
        items = store.pending_items(target.name)
        if is_due(items, target.digest, now):
            message = compose(items)
            ids = [i.item_id for i in items]
            filed += (
                store.file_notice(target.name, ids, message.title, message.body, now) is not None
            )
    return filed


def _deliver_one(
    store: Store, service: Service, notice: Notice, owner: str, clock: Callable[[], datetime]
) -> Outcome:
    try:
        tries = service.send(Message(notice.title, notice.body))
    except DeliveryError as exc:
        store.finish_notice(notice.notice_id, owner, clock(), exc.attempts, exc.reason)
        return Outcome(notice.target, notice.title, exc.message)
    store.finish_notice(notice.notice_id, owner, clock(), tries, None)
    return Outcome(notice.target, notice.title)


def send_test(settings: Settings) -> list[Outcome]:
    """``harvest notify --test``: a test message to each target; delivered or why not."""
    outcomes = []
    for target in settings.notify:
        message = trial_message(target.name)
        try:
            Service(target, settings.path).send(message)
        except (ConfigError, DeliveryError) as exc:
            outcomes.append(Outcome(target.name, message.title, _reason(exc)))
        else:
            outcomes.append(Outcome(target.name, message.title))
    return outcomes


def _reason(exc: ConfigError | DeliveryError) -> str:
    if isinstance(exc, ConfigError):
        return f"{exc.key}: {exc.problem}"
    return exc.message


def preview(settings: Settings, store: Store, now: datetime) -> str:
    """``harvest notify --preview``: the messages filed and not delivered yet, then what
    each target's pending items would make, and when that digest is due."""
    blocks = [_filed(n) for n in store.unsent_notices()]
    for target in settings.notify:
        items = store.pending_items(target.name)
        if items:
            due = due_at(items, target.digest)
            when = "now" if due <= now else f"at {due:%Y-%m-%d %H:%M} UTC"
            head = f"to {target.name} ({len(items)} item(s), a {target.digest} digest, due {when}):"
            message = compose(items)
            blocks.append(_block(head, message.title, message.body))
    return "\n\n".join(blocks) if blocks else "nothing to send"


def _filed(notice: Notice) -> str:
    tried = f", {notice.attempts} attempt(s)" if notice.attempts else ""
    error = f", last error: {notice.last_error}" if notice.last_error else ""
    head = f"to {notice.target} (filed {notice.created:%Y-%m-%d %H:%M} UTC{tried}{error}):"
    return _block(head, notice.title, notice.body)


def _block(head: str, title: str, body: str) -> str:
    lines = [head, f"  {title}", ""] + [f"  {line}" if line else "" for line in body.splitlines()]
    return "\n".join(lines)
