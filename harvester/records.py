"""Plain records that cross module boundaries.

Harvesting: ``RawEntry`` is what :mod:`harvester.source` hands out: one feed entry,
faithful to the wire (no vendor types). ``Paper`` is what :mod:`harvester.normalise`
makes of it: canonical id and version, collapsed whitespace, UTC datetimes, primary
category first.

Reading: :class:`Profile` and its parts, :class:`HistoryItem`, :class:`FeedEntry` and
:class:`IndexRow` are what the store's readers (:mod:`harvester.store.profiles`) return
from the public views, and what every rendering (:mod:`harvester.profile`) takes: plain,
frozen records, so the renderers are pure functions and all show the same content.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True)
class Author:
    """A paper's author as the feed names them (raw in a ``RawEntry``, cleaned in a
    ``Paper``)."""

    name: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One ``<entry>`` of an API page, as the feed wrote it."""

    entry_id: str
    title: str
    summary: str
    published: datetime
    updated: datetime
    authors: tuple[Author, ...]
    primary_category: str
    categories: tuple[str, ...]
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None


@dataclass(frozen=True, slots=True)
class PaperVersion:
    """One version of a paper as arXivRaw lists it: its number, submission date and size
    (kilobytes, as arXiv writes ``NNNkb``; None when not given)."""

    version: int
    submitted: datetime
    size_kb: int | None = None


@dataclass(frozen=True, slots=True)
class Paper:
    """A normalised paper: what the store keeps, keyed on ``arxiv_id``."""

    arxiv_id: str
    version: int
    title: str
    summary: str
    published: datetime
    updated: datetime
    authors: tuple[Author, ...]
    primary_category: str
    categories: tuple[str, ...]
    comment: str | None
    journal_ref: str | None
    doi: str | None
    withdrawn: bool
    #: every version with its date and size, when the source says (OAI-PMH's arXivRaw);
    #: the API gives only the first and the latest dates (``published``, ``updated``)
    history: tuple[PaperVersion, ...] = ()


ABS_URL = "https://arxiv.org/abs/{}"
"""A paper's arXiv page; the versionless id always shows the latest version."""
SNIPPET_CHARS = 200
"""Abstracts are cut here, as the seed profile does (``...`` marks the cut)."""


@dataclass(frozen=True, slots=True)
class Stats:
    """One row of ``profile_stats``."""

    paper_count: int
    withdrawn_count: int
    first_published: datetime | None
    latest_published: datetime | None
    last_harvest_at: datetime | None
    last_harvest_status: str | None
    last_complete_at: datetime | None
    papers_last_12_months: int
    coauthor_count: int
    version_count: int
    journal_ref_or_doi_count: int


@dataclass(frozen=True, slots=True)
class YearCount:
    year: int
    papers: int


@dataclass(frozen=True, slots=True)
class CategoryCount:
    category: str
    papers: int
    as_primary: int


@dataclass(frozen=True, slots=True)
class Coauthor:
    name: str
    shared_papers: int
    first_year: int
    last_year: int


@dataclass(frozen=True, slots=True)
class SimilarAuthor:
    """One similar author of a profile (a row of ``similar_authors``), with the parts of
    its score; ``key`` is set when that author is tracked too."""

    name: str
    key: str | None
    score: float
    shared_papers: int
    coauthor_score: float
    topic_score: float
    category_score: float
    shared_terms: tuple[str, ...]
    shared_categories: tuple[str, ...]
    reason: str


@dataclass(frozen=True, slots=True)
class PaperItem:
    """One row of ``profile_papers`` (with the paper's authors when an export reads them)."""

    arxiv_id: str
    version: int
    title: str
    summary: str
    published: datetime
    updated: datetime
    primary_category: str
    categories: tuple[str, ...]
    doi: str | None
    journal_ref: str | None
    comment: str | None
    withdrawn: bool
    matched_name: str | None
    #: every author's name in order; read only where needed (exports)
    authors: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return ABS_URL.format(self.arxiv_id)

    @property
    def snippet(self) -> str:
        """The first :data:`SNIPPET_CHARS` characters of the abstract, ``...`` if cut."""
        if len(self.summary) <= SNIPPET_CHARS:
            return self.summary
        return self.summary[:SNIPPET_CHARS].rstrip() + "..."


@dataclass(frozen=True, slots=True)
class Profile:
    key: str
    name: str
    stats: Stats
    years: tuple[YearCount, ...]
    categories: tuple[CategoryCount, ...]
    coauthors: tuple[Coauthor, ...]
    similar: tuple[SimilarAuthor, ...]
    papers: tuple[PaperItem, ...]

    @property
    def headline(self) -> str:
        """``76 papers on arXiv``."""
        count = self.stats.paper_count
        return f"{count} paper{'' if count == 1 else 's'} on arXiv"

    @property
    def spellings(self) -> tuple[str, ...]:
        """The author's name as written on their papers, most frequent first."""
        counts: dict[str, int] = {}
        for paper in self.papers:
            if paper.matched_name:
                counts[paper.matched_name] = counts.get(paper.matched_name, 0) + 1
        return tuple(sorted(counts, key=lambda name: (-counts[name], name)))


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


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """A paper that joined a profile (a ``new_paper`` event), for the profile's Atom feed."""

    arxiv_id: str
    recorded_at: datetime
    title: str
    summary: str
    published: datetime
    categories: tuple[str, ...]
    authors: tuple[str, ...]
    #: the keys of the profiles it joined (the site's feed of every profile)
    profiles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class IndexRow:
    """One profile on the index page (a row of ``profile_stats``)."""

    key: str
    name: str
    paper_count: int
    withdrawn_count: int
    papers_last_12_months: int
    latest_published: datetime | None
    last_harvest_at: datetime | None
    last_harvest_status: str | None


@dataclass(frozen=True, slots=True)
class OaiRecord:
    """One OAI-PMH record of arXiv: the header (id, datestamp, set specs) and, unless the
    record is deleted, its metadata as a :class:`RawEntry` (``published``: version 1's date;
    ``updated``: the latest version's) plus what only OAI-PMH carries."""

    arxiv_id: str
    datestamp: date
    sets: tuple[str, ...] = ()
    entry: RawEntry | None = None
    versions: tuple[PaperVersion, ...] = ()
    submitter: str | None = None
    license: str | None = None
    dois: tuple[str, ...] = ()
    deleted: bool = False
