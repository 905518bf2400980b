"""A profile's history: count changes and events, newest first (``harvest history KEY``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, text

from ..errors import ProfileNotFoundError
from ..store import Store
from ..store.schema import UTCDateTime
from .stats import known_keys

_SINCE = bindparam("since", type_=UTCDateTime)
_COUNTS = (
    text(
        "SELECT recorded_at, run_id, paper_count, previous_count, withdrawn_count"
        " FROM count_history WHERE author_key = :key AND recorded_at >= :since"
    )
    .bindparams(_SINCE)
    .columns(recorded_at=UTCDateTime)
)
_EVENTS = (
    text(
        "SELECT e.recorded_at, e.run_id, e.event_id, e.kind, e.arxiv_id, e.detail, p.title"
        " FROM paper_events e LEFT JOIN paper p ON p.arxiv_id = e.arxiv_id"
        " WHERE e.author_key = :key AND e.recorded_at >= :since"
    )
    .bindparams(_SINCE)
    .columns(recorded_at=UTCDateTime)
)
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
TITLE_CHARS = 70
COUNT_FIRST = 1 << 62
"""Sorts a run's count change above its events (event ids are smaller)."""


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """A count change (``kind == "count"``, no ``arxiv_id``) or a paper event."""

    recorded_at: datetime
    run_id: int
    order: int
    """Within a run: the count change first, then events newest first."""
    kind: str
    arxiv_id: str | None
    detail: str
    title: str | None


def parse_since(value: str) -> datetime:
    """``2026-11-01`` (midnight UTC) or an ISO datetime (UTC unless it says otherwise)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not a date (YYYY-MM-DD) or ISO datetime: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def load_history(store: Store, key: str, since: datetime | date | None = None) -> list[HistoryItem]:
    with store.engine.connect() as conn:
        return read_history(conn, key, since)


def read_history(
    conn: Connection, key: str, since: datetime | date | None = None
) -> list[HistoryItem]:
    """Newest first; raises :class:`ProfileNotFoundError` for an unknown key."""
    keys = known_keys(conn)
    if key not in keys:
        raise ProfileNotFoundError(key, keys)
    if isinstance(since, date) and not isinstance(since, datetime):
        since = datetime(since.year, since.month, since.day, tzinfo=UTC)
    params = {"key": key, "since": since or BEGINNING}
    items = [_count(r) for r in _rows(conn, _COUNTS, params)]
    items += [_event(r) for r in _rows(conn, _EVENTS, params)]
    return sorted(items, key=lambda i: (i.recorded_at, i.run_id, i.order), reverse=True)


def _rows(conn: Connection, query: Executable, params: dict[str, object]) -> list[Any]:
    return list(conn.execute(query, params))


def _count(r: Any) -> HistoryItem:
    if r.previous_count is None:
        detail = f"{r.paper_count} papers (baseline)"
    else:
        detail = f"{r.previous_count} -> {r.paper_count} papers"
    if r.withdrawn_count:
        detail += f", {r.withdrawn_count} withdrawn"
    return HistoryItem(r.recorded_at, r.run_id, COUNT_FIRST, "count", None, detail, None)


def _event(r: Any) -> HistoryItem:
    return HistoryItem(
        r.recorded_at, r.run_id, r.event_id, r.kind, r.arxiv_id, r.detail or "", r.title
    )


def render_history(items: Sequence[HistoryItem]) -> str:
    """One line each: ``2026-11-28 06:20 UTC  new_version  2409.11321  v1 -> v2  Title``."""
    if not items:
        return "no changes recorded\n"
    lines = []
    for item in items:
        when = item.recorded_at.strftime("%Y-%m-%d %H:%M UTC")
        title = item.title or ""
        if len(title) > TITLE_CHARS:
            title = title[: TITLE_CHARS - 3].rstrip() + "..."
        fields = [when, f"{item.kind:<16}", f"{item.arxiv_id or '':<16}", item.detail, title]
        lines.append("  ".join(fields).rstrip())
    return "\n".join(lines) + "\n"
