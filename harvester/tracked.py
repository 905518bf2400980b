"""``harvest authors``: who is tracked, and what the database still holds of who is not.

:func:`tracked_authors` joins the configured authors with the profiles the database holds
(:meth:`~harvester.store.Store.stored_authors`): every configured author, then every
profile no longer in the config, marked so. :func:`plan_purge` decides whether profiles
may be purged (only those the config no longer names) before the store removes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from .config import AuthorSettings
from .errors import ProfileNotFoundError, RequestRefusedError
from .store import Purged, StoredAuthor

NOT_IN_CONFIG = "not in config"
NEVER = "-"


@dataclass(frozen=True, slots=True)
class TrackedAuthor:
    """One line of ``harvest authors``."""

    key: str
    name: str
    configured: bool
    arxiv_author_id: str | None = None
    orcid: str | None = None
    paper_count: int | None = None
    last_harvest_at: datetime | None = None

    @property
    def anchors(self) -> str:
        found = [f"arxiv:{self.arxiv_author_id}"] if self.arxiv_author_id else []
        found += [f"orcid:{self.orcid}"] if self.orcid else []
        return " ".join(found) or NEVER

    def cells(self) -> list[str]:
        when = (
            self.last_harvest_at.strftime("%Y-%m-%d %H:%M UTC") if self.last_harvest_at else NEVER
        )
        papers = NEVER if self.paper_count is None else str(self.paper_count)
        note = "" if self.configured else NOT_IN_CONFIG
        return [self.key, self.name, self.anchors, papers, when, note]

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "name": self.name,
            "in_config": self.configured,
            "arxiv_author_id": self.arxiv_author_id,
            "orcid": self.orcid,
            "papers": self.paper_count,
            "last_harvest_at": self.last_harvest_at.isoformat() if self.last_harvest_at else None,
        }


HEADER = ["KEY", "NAME", "ANCHORS", "PAPERS", "LAST HARVEST", ""]
RIGHT = {3}
"""Columns aligned right (numbers)."""


def tracked_authors(
    configured: Sequence[AuthorSettings], stored: Sequence[StoredAuthor]
) -> list[TrackedAuthor]:
    """The configured authors in config order, then the stored profiles the config lost."""
    found = {s.key: s for s in stored}
    rows = []
    for a in configured:
        s = found.get(a.key)
        count, last = (s.paper_count, s.last_harvest_at) if s else (None, None)
        rows.append(TrackedAuthor(a.key, a.name, True, a.arxiv_author_id, a.orcid, count, last))
    keys = {a.key for a in configured}
    rows += [
        TrackedAuthor(
            s.key, s.name, False, paper_count=s.paper_count, last_harvest_at=s.last_harvest_at
        )
        for s in stored
        if s.key not in keys
    ]
    return rows


def render_authors(rows: Sequence[TrackedAuthor]) -> str:
    """An aligned table, a header line first."""
    table = [HEADER, *(r.cells() for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADER))]
    lines = []
    for line in table:
        cells = [
            c.rjust(w) if i in RIGHT else c.ljust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def authors_json(rows: Sequence[TrackedAuthor]) -> str:
    return json.dumps([r.to_dict() for r in rows], indent=2) + "\n"


def check_purge(
    keys: Sequence[str], configured: Sequence[AuthorSettings], stored: Sequence[StoredAuthor]
) -> None:
    """Refuse a purge of a configured key or of one the database does not hold."""
    in_config = sorted({a.key for a in configured} & set(keys))
    if in_config:
        raise RequestRefusedError(
            f"{', '.join(in_config)}: still in the config; a configured author is not purged",
            hint="remove it from the config first, then purge it",
        )
    known = [s.key for s in stored]
    for key in keys:
        if key not in known:
            raise ProfileNotFoundError(key, known)


def render_purge(purged: Purged, *, dry_run: bool) -> str:
    """What was (``dry_run``: would be) removed, one table a line."""
    verb = "would remove" if dry_run else "removed"
    lines = [f"{verb} {', '.join(purged.keys)}:"]
    width = max((len(name) for name in purged.rows), default=0)
    for name, count in sorted(purged.rows.items()):
        lines.append(f"  {name.ljust(width)}  {count}")
    if dry_run:
        lines.append("nothing was changed (--dry-run)")
    return "\n".join(lines) + "\n"
