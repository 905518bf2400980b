"""A profile's history: count changes and events, newest first (``harvest history KEY``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from ..records import HistoryItem
from ..store import Store
from .safe_text import terminal_line

TITLE_CHARS = 70


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
    """Newest first; raises :class:`ProfileNotFoundError` for an unknown key."""
    with store.profiles() as reader:
        return reader.history(key, since)


def render_history(items: Sequence[HistoryItem]) -> str:
    """One line each: ``2026-11-28 06:20 UTC  new_version  2409.11321  v1 -> v2  Title``.

    Every line is safe to print (:func:`terminal_line`: no control or bidi characters from
    the stored titles or details), and the title is cut after the cleaning, so the cut
    counts characters that show."""
    if not items:
        return "no changes recorded\n"
    lines = []
    for item in items:
        when = item.recorded_at.strftime("%Y-%m-%d %H:%M UTC")
        title = terminal_line(item.title or "")
        if len(title) > TITLE_CHARS:
            title = title[: TITLE_CHARS - 3].rstrip() + "..."
        fields = [when, f"{item.kind:<16}", f"{item.arxiv_id or '':<16}", _detail(item), title]
        lines.append(terminal_line("  ".join(fields)).rstrip())
    return "\n".join(lines) + "\n"


def _detail(item: HistoryItem) -> str:
    """The event's detail without the paper's title where it already ends with it (a new
    paper's detail is ``v1: Title``): the line shows the title once, at its end."""
    if item.title and item.detail.endswith(": " + item.title):
        return item.detail[: -len(item.title) - 2]
    return item.detail
