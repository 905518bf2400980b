"""How the look-alike writes a corpus paper as an OAI-PMH record (``arXivRaw``, ``arXiv``).

The corpus holds the latest version of each paper; a record needs every version's date
and size and a datestamp. A paper's JSON may carry them (unknown keys are kept verbatim,
:mod:`arxiv_lookalike.corpus`)::

    "versions": [{"date": "2024-07-10T17:59:46Z", "size": "812kb"}, ...],
    "datestamp": "2024-08-03"

Without them, version 1 is dated ``published``, the latest ``updated``, and the ones in
between evenly in between; each version's size is derived from the abstract's length
(``1kb`` for a withdrawn paper, as arXiv's stub), and the datestamp is the latest
version's day. Names are written as arXiv's raw author strings are: TeX accents
(``Bal\\'azs``), affiliations in parentheses, ``A, B and C``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from pylatexenc.latexencode import unicode_to_latex

from arxiv_lookalike.corpus import CorpusAuthor, CorpusPaper, parse_stamp

__all__ = [
    "ARXIV_NS",
    "RAW_NS",
    "PaperRecord",
    "paper_record",
    "raw_authors",
    "set_specs",
]

RAW_NS = "http://arxiv.org/OAI/arXivRaw/"
ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
GROUPS = frozenset({"cs", "math", "stat", "q-bio", "q-fin", "eess", "econ"})
"""Archives that are their own group; every other archive is in ``physics``."""


@dataclass(frozen=True, slots=True)
class VersionInfo:
    number: int
    submitted: datetime
    size: str


@dataclass(frozen=True, slots=True)
class PaperRecord:
    """One paper as OAI-PMH lists it: datestamp, set specs, versions."""

    paper: CorpusPaper
    datestamp: date
    sets: tuple[str, ...]
    versions: tuple[VersionInfo, ...]

    @property
    def key(self) -> tuple[date, str]:
        """The order of ``ListRecords``: by datestamp, then id (what tokens count in)."""
        return self.datestamp, self.paper.arxiv_id


def paper_record(paper: CorpusPaper, *, new_shape: bool = True) -> PaperRecord:
    extras = paper.extras
    versions = _versions(paper, extras.get("versions"))
    stamp = extras.get("datestamp")
    datestamp = (
        date.fromisoformat(stamp) if isinstance(stamp, str) else versions[-1].submitted.date()
    )
    return PaperRecord(paper, datestamp, set_specs(paper.categories, new_shape=new_shape), versions)


def _versions(paper: CorpusPaper, listed: object) -> tuple[VersionInfo, ...]:
    if isinstance(listed, list) and listed:
        return tuple(
            VersionInfo(n, parse_stamp(item["date"]), str(item.get("size") or _size(paper)))
            for n, item in enumerate(listed, 1)
        )
    first, last, count = paper.published, paper.updated, paper.version
    step = (last - first) / max(count - 1, 1)
    dates = [first + step * i for i in range(count - 1)] + [last]
    return tuple(VersionInfo(n, d, _size(paper)) for n, d in enumerate(dates, 1))


def _size(paper: CorpusPaper) -> str:
    if paper.comment and "withdrawn" in paper.comment.lower():
        return "1kb"
    return f"{10 + len(paper.summary) // 8}kb"


def set_specs(categories: tuple[str, ...], *, new_shape: bool = True) -> tuple[str, ...]:
    """``cs.LG`` -> ``cs:cs:LG`` (2025) or ``cs`` (2015); ``hep-th`` -> ``physics:hep-th``."""
    specs: list[str] = []
    for category in categories:
        archive, _, sub = category.partition(".")
        group = archive if archive in GROUPS else "physics"
        if new_shape:
            spec = f"{group}:{archive}:{sub}" if sub else f"{group}:{archive}"
        else:
            spec = group if group == archive else f"{group}:{archive}"
        if spec not in specs:
            specs.append(spec)
    return tuple(specs)


def in_set(record: PaperRecord, wanted: str | None) -> bool:
    """A set and the sets below it (``cs`` holds ``cs:cs:LG``)."""
    if not wanted:
        return True
    return any(spec == wanted or spec.startswith(wanted + ":") for spec in record.sets)


def tex(text: str) -> str:
    """Unicode letters as TeX accents, as submitters write them (``á`` -> ``\\'a``)."""
    return str(unicode_to_latex(text, non_ascii_only=True, unknown_char_policy="keep"))


def raw_authors(authors: tuple[CorpusAuthor, ...]) -> str:
    """``A. B (Inst), C. D and E. F``: arXiv's raw author string."""
    names = [tex(a.name) + "".join(f" ({tex(one)})" for one in a.affiliations) for a in authors]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _element(tag: str, value: str | None) -> str:
    return f"<{tag}>{escape(value)}</{tag}>" if value else ""


def header_xml(record: PaperRecord) -> str:
    specs = "".join(f"<setSpec>{escape(s)}</setSpec>" for s in record.sets)
    return (
        f"<header><identifier>oai:arXiv.org:{record.paper.arxiv_id}</identifier>"
        f"<datestamp>{record.datestamp.isoformat()}</datestamp>{specs}</header>"
    )


def arxiv_raw_xml(record: PaperRecord) -> str:
    p = record.paper
    versions = "".join(
        f'<version version="v{v.number}"><date>{rfc2822(v.submitted)}</date>'
        f"<size>{v.size}</size><source_type>D</source_type></version>"
        for v in record.versions
    )
    submitter = tex(p.authors[0].name) if p.authors else "arXiv"
    return (
        f'<arXivRaw xmlns="{RAW_NS}"><id>{p.arxiv_id}</id>'
        f"<submitter>{escape(submitter)}</submitter>{versions}"
        f"{_element('title', p.title)}{_element('authors', raw_authors(p.authors))}"
        f"{_element('categories', ' '.join(p.categories))}{_element('comments', p.comment)}"
        f"{_element('journal-ref', p.journal_ref)}{_element('doi', p.doi)}"
        f"<license>http://arxiv.org/licenses/nonexclusive-distrib/1.0/</license>"
        f"{_element('abstract', p.summary)}</arXivRaw>"
    )


def arxiv_xml(record: PaperRecord, *, new_shape: bool = True) -> str:
    """The ``arXiv`` format: authors as keyname and forenames; ``created`` is version 1's
    date in the 2015 service and the current version's in the 2025 one."""
    p = record.paper
    created = record.versions[-1 if new_shape else 0].submitted.date().isoformat()
    updated = record.versions[-1].submitted.date().isoformat() if len(record.versions) > 1 else None
    authors = "".join(_author_xml(a) for a in p.authors)
    return (
        f'<arXiv xmlns="{ARXIV_NS}"><id>{p.arxiv_id}</id><created>{created}</created>'
        f"{_element('updated', updated)}<authors>{authors}</authors>"
        f"{_element('title', p.title)}{_element('categories', ' '.join(p.categories))}"
        f"{_element('comments', p.comment)}{_element('journal-ref', p.journal_ref)}"
        f"{_element('doi', p.doi)}{_element('abstract', p.summary)}</arXiv>"
    )


def rfc2822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def _author_xml(author: CorpusAuthor) -> str:
    *first, last = author.name.split() or [""]
    affiliations = "".join(_element("affiliation", one) for one in author.affiliations)
    forenames = _element("forenames", " ".join(first))
    return f"<author>{_element('keyname', last)}{forenames}{affiliations}</author>"


def attributes(params: dict[str, str]) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in params.items())
