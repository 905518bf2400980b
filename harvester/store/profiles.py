"""The read side: profiles, histories, feeds and the site index, from the public views.

A :class:`ProfileReader` reads exactly what a person querying the database sees: it only
selects from the documented views (and ``paper``/``paper_author`` for titles and author
lists), each query filtered on the author's key so that the filter reaches the base
tables (see ``harvester/migrations/versions/0003_profile_views.py``). It returns the
plain records of :mod:`harvester.records`; nothing here renders. The exceptions:
:meth:`ProfileReader.page_stamps`, a few grouped reads of the base tables that tell the
site which pages changed, and what a profile's papers and their author lists give of
``profile_stats``, ``papers_by_year``, ``papers_by_category`` and ``coauthors``, counted
from them as the views count them (:func:`_stats`, :func:`papers_by_year`,
:func:`papers_by_category`, :func:`coauthors_of`): at a million papers on PostgreSQL those
views' subqueries, each over the profile's papers again, were most of a render. A profile
is three statements whatever its size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Connection, Engine, Executable, bindparam, case, func, select, text

from ..errors import ProfileNotFoundError
from ..records import (
    CategoryCount,
    Coauthor,
    FeedEntry,
    HistoryItem,
    IndexRow,
    PaperItem,
    Profile,
    SimilarAuthor,
    Stats,
    YearCount,
)
from ..vocabulary import EventKind, Membership
from . import schema as t
from .derived_rows import similar_author_of
from .engine import read_session
from .problems import derivable
from .schema import UTCDateTime

TOP_COAUTHORS = 10
FEED_ENTRIES = 50
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
COUNT_FIRST = 1 << 62
"""Sorts a run's count change above its events (event ids are smaller)."""

_STATS = text(
    "SELECT s.name, s.last_harvest_at, s.last_harvest_status, s.last_complete_at,"
    " (SELECT c.starts_at FROM calendar_month c WHERE c.starts_at <= CURRENT_TIMESTAMP"
    "   ORDER BY c.starts_at DESC LIMIT 1 OFFSET 11) AS recent_from,"
    " sa.position, sa.similar_name, sa.similar_key, sa.score, sa.shared_papers,"
    " sa.coauthor_score, sa.topic_score, sa.category_score, sa.shared_terms,"
    " sa.shared_categories, sa.reason"
    " FROM profile_stats s LEFT JOIN similar_authors sa ON sa.author_key = s.author_key"
    " WHERE s.author_key = :key ORDER BY sa.position"
).columns(last_harvest_at=UTCDateTime, last_complete_at=UTCDateTime, recent_from=UTCDateTime)
"""The columns of ``profile_stats`` that its papers do not give (see :func:`_stats`), and
where its "last 12 months" begin by the database's clock, as the view reckons them (the
view's other columns are a subquery each over the profile's papers, left out here); on
each row, one of its ``similar_authors`` in order (none: one row whose ``position``, a
key never NULL in a stored row, is NULL). One statement, not two: on PostgreSQL each is a
round trip."""
_COAUTHOR_ROWS = text(
    "SELECT pa.arxiv_id, pa.folded_name, pa.name FROM membership m"
    " JOIN paper_author pa ON pa.arxiv_id = m.arxiv_id"
    " WHERE m.author_key = :key AND m.status = :active"
).bindparams(active=Membership.ACTIVE.value)
"""The author lists of a profile's papers: its co-authors are counted from them as the
view ``coauthors`` counts them (:func:`coauthors_of`)."""
_KEYS = text("SELECT author_key FROM profile_stats ORDER BY author_key")
_PAPERS = text(
    "SELECT arxiv_id, version, title, summary, published, updated, primary_category,"
    " categories, doi, journal_ref, comment, withdrawn, matched_name"
    " FROM profile_papers WHERE author_key = :key ORDER BY published DESC, arxiv_id DESC"
).columns(published=UTCDateTime, updated=UTCDateTime, withdrawn=Boolean)
_PAPER_AUTHORS = text(
    "SELECT pa.arxiv_id, pa.name FROM membership m"
    " JOIN paper_author pa ON pa.arxiv_id = m.arxiv_id"
    " WHERE m.author_key = :key AND m.status = :active ORDER BY pa.arxiv_id, pa.position"
).bindparams(active=Membership.ACTIVE.value)
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
_NEW_PAPERS = (
    text(
        "SELECT e.arxiv_id, e.recorded_at, p.title, p.summary, p.published, p.categories"
        " FROM paper_events e JOIN paper p ON p.arxiv_id = e.arxiv_id"
        " WHERE e.author_key = :key AND e.kind = :kind"
        " ORDER BY e.event_id DESC"
    )
    .bindparams(kind=EventKind.NEW_PAPER.value)
    .columns(recorded_at=UTCDateTime, published=UTCDateTime)
)
_ALL_NEW_PAPERS = (
    text(
        "SELECT e.arxiv_id, e.author_key, e.recorded_at, p.title, p.summary, p.published,"
        " p.categories FROM paper_events e JOIN paper p ON p.arxiv_id = e.arxiv_id"
        " WHERE e.kind = :kind ORDER BY e.event_id DESC"
    )
    .bindparams(kind=EventKind.NEW_PAPER.value)
    .columns(recorded_at=UTCDateTime, published=UTCDateTime)
)
_PROFILES_OF = text(
    "SELECT DISTINCT author_key FROM paper_events WHERE arxiv_id = :id AND kind = :kind"
    " ORDER BY author_key"
).bindparams(kind=EventKind.NEW_PAPER.value)
_AUTHOR_NAMES = text("SELECT name FROM paper_author WHERE arxiv_id = :id ORDER BY position")
_INDEX = text(
    "SELECT author_key, name, paper_count, withdrawn_count, papers_last_12_months,"
    " latest_published, last_harvest_at, last_harvest_status"
    " FROM profile_stats ORDER BY name, author_key"
).columns(latest_published=UTCDateTime, last_harvest_at=UTCDateTime)


@contextmanager
def profile_reader(engine: Engine) -> Iterator[ProfileReader]:
    """A reader on one connection of ``engine``; a database failure becomes a
    :class:`~harvester.errors.DatabaseError` (one line, the driver's words)."""
    with read_session(engine, doing="cannot read the database", rows="row of a profile") as conn:
        yield ProfileReader(conn)


class ProfileReader:
    """Profiles, histories, exports, feeds and the site index, on one open connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def known_keys(self) -> list[str]:
        return list(self.conn.execute(_KEYS).scalars())

    def profile(self, key: str) -> Profile:
        """Everything a rendering shows; raises :class:`ProfileNotFoundError` for an unknown key."""
        found = self._rows(_STATS, key)
        if not found:
            raise ProfileNotFoundError(key, self.known_keys())
        row = found[0]
        papers = tuple(self.paper_items(key))
        coauthors = coauthors_of(papers, self._rows(_COAUTHOR_ROWS, key))
        return Profile(
            key=key,
            name=row.name,
            stats=_stats(row, papers, len(coauthors)),
            years=papers_by_year(papers),
            categories=papers_by_category(papers),
            coauthors=coauthors[:TOP_COAUTHORS],
            similar=_similar(key, [r for r in found if r.position is not None]),
            papers=papers,
        )

    def paper_items(self, key: str) -> list[PaperItem]:
        """The papers of profile ``key``, newest first (``authors`` left empty)."""
        return [_paper(r) for r in self._rows(_PAPERS, key)]

    def papers_with_authors(self, key: str) -> list[PaperItem]:
        """The profile's papers, newest first, each with its authors (for exports)."""
        self._require(key)
        authors: dict[str, list[str]] = {}
        for arxiv_id, name in self.conn.execute(_PAPER_AUTHORS, {"key": key}):
            authors.setdefault(arxiv_id, []).append(name)
        return [
            replace(p, authors=tuple(authors.get(p.arxiv_id, ()))) for p in self.paper_items(key)
        ]

    def history(self, key: str, since: datetime | date | None = None) -> list[HistoryItem]:
        """Count changes and events, newest first; a run's count change before its events."""
        self._require(key)
        if isinstance(since, date) and not isinstance(since, datetime):
            since = datetime(since.year, since.month, since.day, tzinfo=UTC)
        params = {"key": key, "since": since or BEGINNING}
        items = [_count_item(r) for r in self.conn.execute(_COUNTS, params)]
        items += [_event_item(r) for r in self.conn.execute(_EVENTS, params)]
        return sorted(items, key=lambda i: (i.recorded_at, i.run_id, i.order), reverse=True)

    def new_papers(self, key: str, limit: int = FEED_ENTRIES) -> list[FeedEntry]:
        """The newest ``new_paper`` events of a profile, one per paper, newest first."""
        return self._feed_entries(self.conn.execute(_NEW_PAPERS, {"key": key}), limit)

    def all_new_papers(self, limit: int = FEED_ENTRIES) -> list[FeedEntry]:
        """The newest ``new_paper`` events of every profile, one per paper, newest first,
        each with the keys of the profiles it joined."""
        return self._feed_entries(self.conn.execute(_ALL_NEW_PAPERS), limit, profiles=True)

    def _feed_entries(self, rows: Any, limit: int, *, profiles: bool = False) -> list[FeedEntry]:
        """The first ``limit`` papers of ``rows`` (newest first), with their authors (and
        the profiles each joined)."""
        entries: dict[str, FeedEntry] = {}
        for r in rows:
            if r.arxiv_id in entries:
                continue
            ids = {"id": r.arxiv_id}
            authors = tuple(self.conn.execute(_AUTHOR_NAMES, ids).scalars())
            keys = tuple(self.conn.execute(_PROFILES_OF, ids).scalars()) if profiles else ()
            shown = (r.arxiv_id, r.recorded_at, r.title, r.summary, r.published)
            entries[r.arxiv_id] = FeedEntry(*shown, tuple(r.categories.split()), authors, keys)
            if len(entries) == limit:
                break
        return list(entries.values())

    def index(self) -> list[IndexRow]:
        """Every profile, by name: the rows of the site's index page."""
        return [IndexRow(*r) for r in self.conn.execute(_INDEX)]

    def page_stamps(self) -> dict[str, tuple[str, datetime | None]]:
        """Per profile: a stamp of everything its page and feed show but the time of its
        last harvest (its papers, their rows, its similar authors, its events), and the
        last time any of it changed. Equal stamps, equal pages."""
        m, p, s, e = t.membership.c, t.paper.c, t.similar_author.c, t.event.c
        active = func.sum(case((m.status == Membership.ACTIVE, 1), else_=0))
        queries = (
            select(m.author_key, active, func.max(m.since), func.max(p.changed_at))
            .join_from(t.membership, t.paper, m.arxiv_id == p.arxiv_id)
            .group_by(m.author_key),
            select(s.author_key, func.max(s.computed_at)).group_by(s.author_key),
            select(e.author_key, func.max(e.recorded_at)).group_by(e.author_key),
        )
        parts: dict[str, list[Any]] = {}
        for position, query in enumerate(queries):
            for key, *values in self.conn.execute(query):
                parts.setdefault(key, [None] * len(queries))[position] = values
        stamps = {}
        for key, found in parts.items():
            moments = [v for values in found for v in values or () if isinstance(v, datetime)]
            stamps[key] = (repr(found), max(moments, default=None))
        return stamps

    def _require(self, key: str) -> None:
        keys = self.known_keys()
        if key not in keys:
            raise ProfileNotFoundError(key, keys)

    def _rows(self, query: Executable, key: str) -> list[Any]:
        return list(self.conn.execute(query, {"key": key}).all())


def _similar(key: str, found: Sequence[Any]) -> tuple[SimilarAuthor, ...]:
    """The stored list; a row that does not read as one (a score that is not a number from
    0 to 1, say) is derived data to recompute, not to show."""
    with derivable(f"similar author of {key}"):
        return tuple(similar_author_of(r) for r in found)


def _stats(row: Any, papers: Sequence[PaperItem], coauthor_count: int) -> Stats:
    """The row of ``profile_stats``: the harvests as the view reads them, the rest counted
    from the papers and their co-authors as the view counts them, the last 12 months by the
    database's clock (``tests/test_profile.py`` holds the two equal)."""
    published = [p.published for p in papers]
    recent = sum(1 for p in published if p >= row.recent_from) if row.recent_from else 0
    return Stats(
        paper_count=len(papers),
        withdrawn_count=sum(1 for p in papers if p.withdrawn),
        first_published=min(published, default=None),
        latest_published=max(published, default=None),
        last_harvest_at=row.last_harvest_at,
        last_harvest_status=row.last_harvest_status,
        last_complete_at=row.last_complete_at,
        papers_last_12_months=recent,
        coauthor_count=coauthor_count,
        version_count=sum(p.version for p in papers),
        journal_ref_or_doi_count=sum(1 for p in papers if p.journal_ref or p.doi),
    )


def papers_by_year(papers: Sequence[PaperItem]) -> tuple[YearCount, ...]:
    """What the view ``papers_by_year`` holds for these papers (a profile's active ones):
    every UTC year from the first paper's to the last one's, with its papers. Counted from
    the papers the profile reads anyway: on PostgreSQL the view counts each year with a
    subquery over the profile's papers, and at a million papers it was the dearest read of
    a render (``tests/test_profile.py`` holds the two equal)."""
    counts = Counter(p.published.astimezone(UTC).year for p in papers)
    if not counts:
        return ()
    return tuple(YearCount(y, counts[y]) for y in range(min(counts), max(counts) + 1))


def papers_by_category(papers: Sequence[PaperItem]) -> tuple[CategoryCount, ...]:
    """What the view ``papers_by_category`` holds for these papers: each category with its
    papers and how many have it first (as primary), most papers first, then most
    primaries, then by name. Counted from the papers: on PostgreSQL the view splits every
    paper's categories again (``tests/test_profile.py`` holds the two equal)."""
    papers_of: Counter[str] = Counter()
    primary: Counter[str] = Counter()
    for paper in papers:
        for position, category in enumerate(paper.categories):
            papers_of[category] += 1
            primary[category] += position == 0
    rows = (CategoryCount(c, n, primary[c]) for c, n in papers_of.items())
    return tuple(sorted(rows, key=lambda r: (-r.papers, -r.as_primary, r.category)))


def coauthors_of(papers: Sequence[PaperItem], authors: Iterable[Any]) -> tuple[Coauthor, ...]:
    """What the view ``coauthors`` holds for a profile, all of them, most shared papers
    first, then by name: ``authors`` are its papers' author rows (``arxiv_id``,
    ``folded_name``, ``name``); the profile's own author on a paper is the name it was
    matched by there. Names that fold alike are one co-author, shown in the spelling on
    most papers (then the first by name), with the papers and years of every spelling."""
    paper_of = {p.arxiv_id: p for p in papers}
    spellings: dict[str, Counter[str]] = {}
    years: dict[str, list[int]] = {}
    for arxiv_id, folded, name in authors:
        paper = paper_of.get(arxiv_id)
        if paper is None or name == (paper.matched_name or ""):
            continue
        spellings.setdefault(folded, Counter())[name] += 1
        years.setdefault(folded, []).append(paper.published.astimezone(UTC).year)
    rows = []
    for folded, names in spellings.items():
        shown = min(names, key=lambda n: (-names[n], n))
        seen = years[folded]
        rows.append(Coauthor(shown, sum(names.values()), min(seen), max(seen)))
    return tuple(sorted(rows, key=lambda r: (-r.shared_papers, r.name)))


def _paper(r: Any) -> PaperItem:
    return PaperItem(
        arxiv_id=r.arxiv_id,
        version=r.version,
        title=r.title,
        summary=r.summary,
        published=r.published,
        updated=r.updated,
        primary_category=r.primary_category,
        categories=tuple(r.categories.split()),
        doi=r.doi,
        journal_ref=r.journal_ref,
        comment=r.comment,
        withdrawn=bool(r.withdrawn),
        matched_name=r.matched_name,
    )


def _count_item(r: Any) -> HistoryItem:
    if r.previous_count is None:
        detail = f"{r.paper_count} papers (baseline)"
    else:
        detail = f"{r.previous_count} -> {r.paper_count} papers"
    if r.withdrawn_count:
        detail += f", {r.withdrawn_count} withdrawn"
    return HistoryItem(r.recorded_at, r.run_id, COUNT_FIRST, "count", None, detail, None)


def _event_item(r: Any) -> HistoryItem:
    return HistoryItem(
        r.recorded_at, r.run_id, r.event_id, r.kind, r.arxiv_id, r.detail or "", r.title
    )
