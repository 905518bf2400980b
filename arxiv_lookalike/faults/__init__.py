"""Scriptable, deterministic faults: the arXiv API's misbehaviour, on demand.

Queue a fault on a running server; it applies to the next matching request(s)::

    srv.faults.add(Status(429), times=2)                      # next two requests: 429
    srv.faults.add(EmptyPage(), when=later_pages)              # next page after the first
    srv.faults.add(Status(503, retry_after=7), when={"start": "100"})

Scripted faults are consulted in the order they were added; the first whose ``when``
accepts the request is applied (one fault per request: combine with :class:`Chain`) and
used up after ``times`` requests (``times=None``: until :meth:`FaultScript.clear`).

Modules: :mod:`.base` (the interface and the queue), :mod:`.replies` (whole replies),
:mod:`.transport` (cuts, resets, stalls), :mod:`.pages` (entries and totals).

To add a fault, subclass :class:`Fault`, set ``kind`` and override :meth:`Fault.shape_page`
(change the page before rendering) and/or :meth:`Fault.shape_reply` (change or replace the
planned :class:`~arxiv_lookalike.exchange.Reply`, including transport directives).
Faults are pure: the server carries out stalls, cuts and resets.
"""

from arxiv_lookalike.faults.base import (
    Chain,
    Fault,
    FaultContext,
    FaultScript,
    Predicate,
    ScriptedFault,
    first_page,
    later_pages,
)
from arxiv_lookalike.faults.pages import (
    BadEntry,
    Duplicate,
    EmptyPage,
    Reorder,
    ShortPage,
    TotalDrift,
)
from arxiv_lookalike.faults.replies import (
    BillionLaughs,
    Html200,
    Huge,
    LegacyError200,
    LegacyFormat,
    Raw,
    Redirect,
    Status,
    Xxe,
)
from arxiv_lookalike.faults.transport import Drip, Reset, Stall, Trickle, Truncate

__all__ = [
    "BadEntry",
    "BillionLaughs",
    "Chain",
    "Drip",
    "Duplicate",
    "EmptyPage",
    "Fault",
    "FaultContext",
    "FaultScript",
    "Html200",
    "Huge",
    "LegacyError200",
    "LegacyFormat",
    "Predicate",
    "Raw",
    "Redirect",
    "Reorder",
    "Reset",
    "ScriptedFault",
    "ShortPage",
    "Stall",
    "Status",
    "TotalDrift",
    "Trickle",
    "Truncate",
    "Xxe",
    "first_page",
    "later_pages",
]
