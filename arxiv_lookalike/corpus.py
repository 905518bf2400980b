"""The look-alike's corpus: the latest version of each paper, as the arXiv API would show it.

The JSON file is ``{"papers": [paper, ...]}``; a paper is::

    {"id": "2407.07972", "version": 2, "title": "...", "summary": "...",
     "authors": [{"name": "Sham Kakade", "affiliations": ["Harvard University"]}],
     "published": "2024-07-10T17:59:46Z", "updated": "2024-08-02T09:12:00Z",
     "primary_category": "cs.LG", "categories": ["cs.LG", "stat.ML"],
     "comment": null, "journal_ref": null, "doi": null}

``id`` is versionless (new style ``YYMM.NNNN[N]`` or old style ``archive[.XX]/YYMMNNN``),
``published`` is the v1 date and ``updated`` the date of the latest version. An optional
``claimants`` lists the arXiv author identifiers and ORCID iDs that claimed the paper: the
author identifier feed ``/a/{id}.atom2`` lists the papers claimed by ``id``. Keys the
server does not know (``filled``, ``role``, ``confidence`` in the seed corpus) are kept
verbatim so that :meth:`Corpus.to_dicts` round-trips a file.

:class:`Corpus` is safe to share between the server's handler threads and a test that
mutates it while the server runs: every read takes a snapshot under a lock. Its
``version`` counts the changes, so a search index built on one snapshot knows when it is
stale (:class:`arxiv_lookalike.search.IndexedSearch`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = [
    "ARXIV_ID",
    "Corpus",
    "CorpusAuthor",
    "CorpusError",
    "CorpusPaper",
    "LookalikeError",
    "format_stamp",
    "parse_stamp",
    "seed_corpus",
    "split_version",
]

ARXIV_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?/\d{7})")
"""A versionless arXiv identifier, new style or old style."""

_VERSIONED = re.compile(rf"({ARXIV_ID.pattern})(?:v(\d+))?")
_STAMP = "%Y-%m-%dT%H:%M:%SZ"
_KNOWN_KEYS = frozenset(
    {
        "id",
        "version",
        "title",
        "summary",
        "authors",
        "published",
        "updated",
        "primary_category",
        "categories",
        "comment",
        "journal_ref",
        "doi",
        "claimants",
    }
)


class LookalikeError(Exception):
    """Base of the look-alike's own errors (the product's error tree is not its concern)."""


class CorpusError(LookalikeError, ValueError):
    """A corpus file or paper record is malformed; the message names the paper and field.

    The fix: correct the corpus JSON (its format is this module's)."""

    exit_code = 65


def split_version(text: str) -> tuple[str, int | None]:
    """``"2407.07972v2"`` → ``("2407.07972", 2)``; raises :class:`ValueError` if malformed."""
    found = _VERSIONED.fullmatch(text)
    if found is None:
        raise ValueError(f"incorrect id format for {text}")
    version = found.group(2)
    return found.group(1), int(version) if version else None


def parse_stamp(text: str) -> datetime:
    """Parse ``YYYY-MM-DDTHH:MM:SSZ`` (the feed's timestamp form) into an aware UTC datetime."""
    return datetime.strptime(text, _STAMP).replace(tzinfo=UTC)


def format_stamp(moment: datetime) -> str:
    """Write an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    return moment.astimezone(UTC).strftime(_STAMP)


@dataclass(frozen=True, slots=True)
class CorpusAuthor:
    name: str
    affiliations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class CorpusPaper:
    """The latest version of one paper. ``extra`` keeps unknown JSON keys (JSON-encoded)."""

    arxiv_id: str
    version: int
    title: str
    summary: str
    authors: tuple[CorpusAuthor, ...]
    published: datetime
    updated: datetime
    primary_category: str
    categories: tuple[str, ...]
    comment: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    extra: tuple[tuple[str, str], ...] = ()
    #: arXiv author identifiers and ORCID iDs that claimed the paper (its author feeds)
    claimants: tuple[str, ...] = ()

    @property
    def versioned_id(self) -> str:
        return f"{self.arxiv_id}v{self.version}"

    @property
    def extras(self) -> dict[str, Any]:
        """The unknown keys of the JSON record, decoded (e.g. ``role``, ``filled``)."""
        return {key: json.loads(value) for key, value in self.extra}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CorpusPaper:
        """Validate one JSON paper record; raises :class:`CorpusError` naming the bad field."""
        return _PaperReader(data).read()

    def to_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "id": self.arxiv_id,
            "version": self.version,
            "title": self.title,
            "summary": self.summary,
            "authors": [
                {"name": author.name, "affiliations": list(author.affiliations)}
                for author in self.authors
            ],
            "published": format_stamp(self.published),
            "updated": format_stamp(self.updated),
            "primary_category": self.primary_category,
            "categories": list(self.categories),
            "comment": self.comment,
            "journal_ref": self.journal_ref,
            "doi": self.doi,
        }
        if self.claimants:
            record["claimants"] = list(self.claimants)
        record.update(self.extras)
        return record


class _PaperReader:
    """Checks one record field by field, so each error names the paper and the field."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.data = data
        self.label = str(data.get("id") or data.get("title") or "<paper>")

    def fail(self, field: str, problem: str) -> CorpusError:
        return CorpusError(f"corpus paper {self.label}: {field}: {problem}")

    def get(self, field: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
        value = self.data.get(field)
        if value is None and optional:
            return None
        if not isinstance(value, kind) or isinstance(value, bool):
            raise self.fail(field, f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
        return value

    def stamp(self, field: str) -> datetime:
        try:
            return parse_stamp(self.get(field, str))
        except ValueError:
            raise self.fail(field, "expected YYYY-MM-DDTHH:MM:SSZ") from None

    def author(self, item: Any) -> CorpusAuthor:
        if isinstance(item, str):
            return CorpusAuthor(item)
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise self.fail("authors", f"expected a name or {{'name': ...}}, got {item!r}")
        affiliations = item.get("affiliations") or []
        if not all(isinstance(one, str) for one in affiliations):
            raise self.fail("authors", f"affiliations of {item['name']} must be strings")
        return CorpusAuthor(item["name"], tuple(affiliations))

    def categories(self) -> tuple[str, tuple[str, ...]]:
        primary = self.get("primary_category", str)
        listed = self.get("categories", list, optional=True) or []
        if not primary or not all(isinstance(one, str) and one for one in listed):
            raise self.fail("categories", "categories must be non-empty strings")
        return primary, (primary, *(one for one in listed if one != primary))

    def read(self) -> CorpusPaper:
        arxiv_id = self.get("id", str)
        if not ARXIV_ID.fullmatch(arxiv_id):
            raise self.fail("id", "expected a versionless arXiv id")
        version = self.get("version", int)
        if version < 1:
            raise self.fail("version", "must be at least 1")
        primary, categories = self.categories()
        extra = tuple(
            (key, json.dumps(value, ensure_ascii=False))
            for key, value in self.data.items()
            if key not in _KNOWN_KEYS
        )
        return CorpusPaper(
            arxiv_id=arxiv_id,
            version=version,
            title=self.get("title", str),
            summary=self.get("summary", str),
            authors=tuple(self.author(item) for item in self.get("authors", list)),
            published=self.stamp("published"),
            updated=self.stamp("updated"),
            primary_category=primary,
            categories=categories,
            comment=self.get("comment", str, optional=True),
            journal_ref=self.get("journal_ref", str, optional=True),
            doi=self.get("doi", str, optional=True),
            extra=extra,
            claimants=self.claimants(),
        )

    def claimants(self) -> tuple[str, ...]:
        listed = self.get("claimants", list, optional=True) or []
        if not all(isinstance(one, str) and one for one in listed):
            raise self.fail("claimants", "claimants must be non-empty strings")
        return tuple(listed)


class Corpus:
    """A thread-safe, ordered collection of :class:`CorpusPaper`, keyed on the versionless id."""

    def __init__(self, papers: Iterable[CorpusPaper] = ()) -> None:
        self._lock = threading.Lock()
        self._papers: dict[str, CorpusPaper] = {}
        self._version = 0
        for paper in papers:
            self._papers[paper.arxiv_id] = paper

    @classmethod
    def from_dicts(cls, records: Iterable[Mapping[str, Any]]) -> Corpus:
        return cls(CorpusPaper.from_dict(record) for record in records)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Corpus:
        """Read a corpus JSON file (``{"papers": [...]}`` or a bare list of papers)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CorpusError(f"cannot read corpus {path}: {exc}") from exc
        return cls.from_dicts(_records_of(data, path))

    def to_dicts(self) -> list[dict[str, Any]]:
        return [paper.to_dict() for paper in self.papers()]

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the corpus as JSON (UTF-8, atomically: a temp file renamed over ``path``)."""
        target = Path(path)
        text = json.dumps({"papers": self.to_dicts()}, ensure_ascii=False, indent=1) + "\n"
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=target.parent, delete=False, suffix=".tmp"
        ) as handle:
            handle.write(text)
        os.replace(handle.name, target)

    def papers(self) -> tuple[CorpusPaper, ...]:
        """A snapshot of every paper, in insertion order."""
        with self._lock:
            return tuple(self._papers.values())

    def snapshot(self) -> tuple[int, tuple[CorpusPaper, ...]]:
        """``(version, papers)`` read together: the same version means the same papers."""
        with self._lock:
            return self._version, tuple(self._papers.values())

    @property
    def version(self) -> int:
        """How many changes (upserts, revisions, removals) the corpus has had."""
        with self._lock:
            return self._version

    def claimed_by(self, claimant: str) -> tuple[CorpusPaper, ...] | None:
        """The papers ``claimant`` (an author identifier or ORCID iD) claimed, newest first;
        None when nobody of that identifier claimed anything (arXiv: no such author)."""
        claimed = [p for p in self.papers() if claimant in p.claimants]
        if not claimed:
            return None
        return tuple(sorted(claimed, key=lambda p: (p.published, p.arxiv_id), reverse=True))

    def get(self, arxiv_id: str) -> CorpusPaper | None:
        """The paper with this id (a ``vN`` suffix is ignored), or ``None``."""
        with self._lock:
            return self._papers.get(_versionless(arxiv_id))

    def upsert(self, paper: CorpusPaper | Mapping[str, Any]) -> CorpusPaper:
        """Add or replace a paper (a replaced paper keeps its position)."""
        if not isinstance(paper, CorpusPaper):
            paper = CorpusPaper.from_dict(paper)
        with self._lock:
            self._papers[paper.arxiv_id] = paper
            self._version += 1
        return paper

    def revise(self, arxiv_id: str, *, updated: datetime, **changes: Any) -> CorpusPaper:
        """Publish a new version: version + 1, ``updated`` set, other fields from ``changes``."""
        with self._lock:
            current = self._papers[_versionless(arxiv_id)]
            revised = replace(current, version=current.version + 1, updated=updated, **changes)
            self._papers[current.arxiv_id] = revised
            self._version += 1
        return revised

    def remove(self, arxiv_id: str) -> CorpusPaper:
        """Remove and return a paper; raises :class:`KeyError` if it is not there."""
        with self._lock:
            removed = self._papers.pop(_versionless(arxiv_id))
            self._version += 1
            return removed

    def __len__(self) -> int:
        with self._lock:
            return len(self._papers)

    def __iter__(self) -> Iterator[CorpusPaper]:
        return iter(self.papers())

    def __contains__(self, arxiv_id: object) -> bool:
        return isinstance(arxiv_id, str) and self.get(arxiv_id) is not None


def _versionless(arxiv_id: str) -> str:
    try:
        return split_version(arxiv_id)[0]
    except ValueError:
        return arxiv_id


def _records_of(data: Any, path: object) -> list[Any]:
    records = data.get("papers") if isinstance(data, dict) else data
    if not isinstance(records, list) or not all(isinstance(one, dict) for one in records):
        raise CorpusError(f"corpus {path}: expected {{'papers': [ {{...}}, ... ]}}")
    return records


def seed_corpus() -> Corpus:
    """The shipped seed corpus, ``data/seed_corpus.json`` (see scripts/build_seed_corpus.py)."""
    data_file = resources.files("arxiv_lookalike").joinpath("data", "seed_corpus.json")
    data = json.loads(data_file.read_text(encoding="utf-8"))
    return Corpus.from_dicts(_records_of(data, "seed_corpus.json"))
