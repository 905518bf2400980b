"""A profile's papers as BibTeX, CSV or JSON (``harvest export KEY --format ...``).

BibTeX entries are ``@misc`` with the arXiv e-print fields biblatex and most styles read
(``eprint``, ``archivePrefix = {arXiv}``, ``primaryClass``), plus ``doi`` when known; see
https://info.arxiv.org/help/faq/references.html. Text is escaped for LaTeX except for
well-formed ``$...$`` math, which arXiv titles use on purpose. CSV has a header row and
one row per paper (RFC 4180 quoting, by the :mod:`csv` module).
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

from ..records import PaperItem
from ..store import Store
from ..store.profiles import profile_reader


def export_profile(store: Store, key: str, fmt: str) -> str:
    """The papers of profile ``key`` in ``fmt`` (one of :data:`EXPORT_FORMATS`)."""
    with profile_reader(store.engine) as reader:
        papers = reader.papers_with_authors(key)
    return EXPORTERS[fmt](papers)


# -- BibTeX ------------------------------------------------------------------------------

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_MATH = re.compile(r"(\$[^$]+\$)")
_TITLE_SKIP = frozenset(
    ("a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "from", "via", "is", "are")
)


def bibtex_text(value: str) -> str:
    """``value`` safe inside a BibTeX field: special characters escaped, math kept."""
    parts = _MATH.split(value)
    return "".join(part if _keep_math(part) else _escape(part) for part in parts)


def _keep_math(part: str) -> bool:
    """A ``$...$`` span is kept when its braces balance and it has no ``%``, ``#`` or ``&``."""
    if not (len(part) > 2 and part[0] == part[-1] == "$"):
        return False
    depth = 0
    for char in part.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and not set(part) & set("%#&")


def _verbatim(value: str) -> str:
    """For ``doi`` and ``url``, which styles print verbatim: only braces and backslashes
    (which would end or break the field) are percent-encoded, as in a URL."""
    return value.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def _escape(text_: str) -> str:
    return "".join(_LATEX_SPECIAL.get(char, char) for char in text_)


def to_bibtex(papers: Sequence[PaperItem]) -> str:
    keys: set[str] = set()
    return "\n".join(_bibtex_entry(paper, _unique(bibtex_key(paper), keys)) for paper in papers)


def bibtex_key(paper: PaperItem) -> str:
    """``kakade2024deconstructing``: first author's last name, year, first title word."""
    last = paper.authors[0].split()[-1] if paper.authors else "arxiv"
    words = [w for w in _ascii(paper.title).split() if w not in _TITLE_SKIP]
    return f"{_ascii(last).replace(' ', '')}{paper.published.year}{words[0] if words else ''}"


def _ascii(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", decomposed.lower()).strip()


def _unique(key: str, taken: set[str]) -> str:
    candidate, suffix = key, ord("a")
    while candidate in taken:
        candidate, suffix = f"{key}{chr(suffix)}", suffix + 1
    taken.add(candidate)
    return candidate


def _bibtex_entry(p: PaperItem, key: str) -> str:
    fields = [
        ("title", "{" + bibtex_text(p.title) + "}"),
        ("author", " and ".join(_bibtex_name(name) for name in p.authors)),
        ("year", str(p.published.year)),
        ("eprint", p.arxiv_id),
        ("archivePrefix", "arXiv"),
        ("primaryClass", p.primary_category),
    ]
    if p.doi:
        fields.append(("doi", _verbatim(p.doi)))
    fields.append(("url", _verbatim(p.url)))
    notes = [bibtex_text(p.journal_ref)] if p.journal_ref else []
    if p.withdrawn:
        notes.append("Withdrawn")
    if notes:
        fields.append(("note", "; ".join(notes)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}\n"


def _bibtex_name(name: str) -> str:
    """A name as BibTeX reads it; a comma or a lone "and" would split it, so it is braced."""
    escaped = bibtex_text(name)
    if "," in name or re.search(r"\band\b", name, re.IGNORECASE):
        return "{" + escaped + "}"
    return escaped


# -- CSV and JSON --------------------------------------------------------------------------

CSV_COLUMNS = (
    "arxiv_id",
    "version",
    "title",
    "authors",
    "published",
    "updated",
    "primary_category",
    "categories",
    "doi",
    "journal_ref",
    "comment",
    "withdrawn",
    "url",
)


def _record(p: PaperItem) -> dict[str, Any]:
    return {
        "arxiv_id": p.arxiv_id,
        "version": p.version,
        "title": p.title,
        "authors": list(p.authors),
        "summary": p.summary,
        "published": p.published.isoformat(),
        "updated": p.updated.isoformat(),
        "primary_category": p.primary_category,
        "categories": list(p.categories),
        "doi": p.doi,
        "journal_ref": p.journal_ref,
        "comment": p.comment,
        "withdrawn": p.withdrawn,
        "url": p.url,
    }


def to_csv(papers: Sequence[PaperItem]) -> str:
    """Authors ``; `` separated, categories space separated, ``withdrawn`` true/false."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for paper in papers:
        row = _record(paper)
        row["authors"] = "; ".join(paper.authors)
        row["categories"] = " ".join(paper.categories)
        row["withdrawn"] = "true" if paper.withdrawn else "false"
        writer.writerow(row)
    return out.getvalue()


def to_json(papers: Sequence[PaperItem]) -> str:
    return json.dumps([_record(p) for p in papers], indent=2, ensure_ascii=False) + "\n"


EXPORTERS: dict[str, Callable[[Sequence[PaperItem]], str]] = {
    "bibtex": to_bibtex,
    "csv": to_csv,
    "json": to_json,
}
EXPORT_FORMATS = tuple(EXPORTERS)
