"""Notifications: tell people what changed, exactly once, wherever they read.

What a harvest finds (a new paper, a new version, a withdrawal, a paper held for review, an
author whose harvests fail) goes into an outbox in the same transaction as its events
(:mod:`harvester.store`); after the cycle's commits, :func:`after_cycle` gathers each
``[[notify]]`` target's due items into one message (:mod:`.compose`) and delivers it through
apprise (:mod:`.service`, the only module that imports it), with retries, under a claim, so
two processes never deliver one message twice (:mod:`.delivery`).

Not :mod:`harvester.notify`, which is systemd's ``sd_notify``.
"""

from .compose import Message, compose, is_due
from .delivery import Outcome, after_cycle, deliver, file_due, open_services, preview, send_test
from .service import Redactor, Service

__all__ = [
    "Message",
    "Outcome",
    "Redactor",
    "Service",
    "after_cycle",
    "compose",
    "deliver",
    "file_due",
    "is_due",
    "open_services",
    "preview",
    "send_test",
]
