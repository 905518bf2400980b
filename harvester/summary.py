"""A profile's headline read back from the public views: name, count, papers per year."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import text

from .store import Store


@dataclass(frozen=True, slots=True)
class ProfileSummary:
    key: str
    name: str
    paper_count: int
    withdrawn_count: int
    per_year: dict[int, int]

    def render(self) -> str:
        """``Sham Kakade · 76 papers on arXiv`` followed by a line per year."""
        lines = [f"{self.name} · {self.paper_count} papers on arXiv"]
        if self.withdrawn_count:
            lines[0] += f" ({self.withdrawn_count} withdrawn)"
        if self.per_year:
            first, last = min(self.per_year), max(self.per_year)
            widest = max(self.per_year.values())
            for year in range(first, last + 1):
                n = self.per_year.get(year, 0)
                bar = "#" * round(30 * n / widest) if widest else ""
                lines.append(f"  {year}  {n:3d}  {bar}")
        return "\n".join(lines)


def profile_summary(store: Store, author_key: str) -> ProfileSummary | None:
    """Read ``profile_stats`` and ``profile_papers`` for one author (None if unknown)."""
    with store.engine.connect() as conn:
        stats = conn.execute(
            text(
                "SELECT name, paper_count, withdrawn_count FROM profile_stats"
                " WHERE author_key = :key"
            ),
            {"key": author_key},
        ).one_or_none()
        if stats is None:
            return None
        published = conn.execute(
            text("SELECT published FROM profile_papers WHERE author_key = :key"),
            {"key": author_key},
        ).scalars()
        per_year = Counter(_year(value) for value in published)
    return ProfileSummary(
        author_key, stats.name, stats.paper_count, stats.withdrawn_count, dict(per_year)
    )


def _year(value: object) -> int:
    """Views return datetimes on PostgreSQL and ISO strings on SQLite."""
    return int(str(value)[:4])
