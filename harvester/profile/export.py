"""A profile's papers as BibTeX, CSV or JSON (``harvest export KEY --format ...``).

BibTeX entries are ``@misc`` with the arXiv e-print fields biblatex and most styles read
(``eprint``, ``archivePrefix = {arXiv}``, ``primaryClass``), plus ``doi`` when known; see
https://info.arxiv.org/help/faq/references.html. Text is escaped for LaTeX except for
well-formed ``$...$`` math, which arXiv titles use on purpose, and every field value is on
one line with braces that balance however a reader counts them, so no value can end its
field or entry early (see :func:`bibtex_text`). CSV has a header row and one row per paper
(RFC 4180 quoting, by the :mod:`csv` module), with formula-like cells defused
(:func:`csv_cell`).
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


def export_profile(store: Store, key: str, fmt: str) -> str:
    """The papers of profile ``key`` in ``fmt`` (one of :data:`EXPORT_FORMATS`)."""
    with store.profiles() as reader:
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


_BREAKS = frozenset(("Cc", "Zl", "Zp"))
"""Unicode categories of control characters and line and paragraph separators."""
_STRAY_BRACE = {"{": r"\textbraceleft{}", "}": r"\textbraceright{}"}


def bibtex_text(value: str) -> str:
    """``value`` safe inside a braced BibTeX field: special characters escaped, math kept.

    Readers disagree on ``\\{``: BibTeX itself counts every brace, backslash or not, while
    some parsers (``bibtexparser``) skip escaped ones. So a brace is written ``\\{``/``\\}``
    only when it pairs up with another in the same stretch of text, stray ones as
    ``\\textbraceleft{}``/``\\textbraceright{}``, and ``$...$`` math is kept only when its
    braces balance under both counts: then the value balances for every reader. Control
    characters and line breaks become spaces (a line starting with ``@`` opens an entry
    for some parsers)."""
    parts = _MATH.split(_one_line(value))
    return "".join(part if _keep_math(part) else _escape(part) for part in parts)


def _one_line(value: str) -> str:
    """``value`` with every control character and line or paragraph separator a space."""
    return "".join(" " if unicodedata.category(c) in _BREAKS else c for c in value)


def _keep_math(part: str) -> bool:
    """A ``$...$`` span is kept when its braces balance whether or not ``\\{`` counts, no
    ``\\\\`` stands before a brace (readers split that differently), it does not end in a
    backslash, and it has no ``%``, ``#`` or ``&``."""
    if not (len(part) > 2 and part[0] == part[-1] == "$") or part[-2] == "\\":
        return False
    if set(part) & set("%#&") or re.search(r"\\\\[{}]", part):
        return False
    unescaped = part.replace(r"\{", "").replace(r"\}", "")
    return _balanced(part) and _balanced(unescaped)


def _balanced(text_: str) -> bool:
    """Every ``}`` closes an earlier ``{`` and every ``{`` is closed (backslashes ignored)."""
    depth = 0
    for char in text_:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _verbatim(value: str) -> str:
    """For ``doi``, ``url`` and ``eprint``, which styles print verbatim: only braces and
    backslashes (which would end or break the field) and control characters and line
    separators are percent-encoded, as in a URL."""
    encoded = value.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")
    return "".join(_percent(c) if unicodedata.category(c) in _BREAKS else c for c in encoded)


def _percent(char: str) -> str:
    return "".join(f"%{byte:02X}" for byte in char.encode())


def _escape(text_: str) -> str:
    """Escape each special character; a brace becomes ``\\{``/``\\}`` only when it pairs up."""
    paired = _paired_braces(text_)
    return "".join(_escape_char(char, i in paired) for i, char in enumerate(text_))


def _escape_char(char: str, paired: bool) -> str:
    if char in _STRAY_BRACE and not paired:
        return _STRAY_BRACE[char]
    return _LATEX_SPECIAL.get(char, char)


def _paired_braces(text_: str) -> set[int]:
    """The positions of the braces in ``text_`` that open or close a matched pair."""
    opened: list[int] = []
    paired: set[int] = set()
    for i, char in enumerate(text_):
        if char == "{":
            opened.append(i)
        elif char == "}" and opened:
            paired.update((opened.pop(), i))
    return paired


def to_bibtex(papers: Sequence[PaperItem]) -> str:
    """One ``@misc`` entry per paper, every field escaped (:func:`bibtex_text`,
    :func:`_verbatim`), so each entry keeps all its fields whatever the text holds."""
    keys: set[str] = set()
    return "\n".join(_bibtex_entry(paper, _unique(bibtex_key(paper), keys)) for paper in papers)


def bibtex_key(paper: PaperItem) -> str:
    """``kakade2024deconstructing``: first author's last name, year, first title word;
    only ASCII letters and digits, so a key needs no escaping."""
    last = (paper.authors[0].split() or ["arxiv"])[-1] if paper.authors else "arxiv"
    words = [w for w in _ascii(paper.title).split() if w not in _TITLE_SKIP]
    return f"{_ascii(last).replace(' ', '')}{paper.published.year}{words[0] if words else ''}"


def _ascii(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", decomposed.lower()).strip()


def _unique(key: str, taken: set[str]) -> str:
    """``key``, or ``key`` with the first free suffix of ``a`` ... ``z``, ``aa``, ``ab`` ..."""
    candidate, count = key, 0
    while candidate in taken:
        candidate, count = key + _letters(count), count + 1
    taken.add(candidate)
    return candidate


def _letters(n: int) -> str:
    """0 -> ``a``, 25 -> ``z``, 26 -> ``aa``: bijective base 26."""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def _bibtex_entry(p: PaperItem, key: str) -> str:
    fields = [
        ("title", "{" + bibtex_text(p.title) + "}"),
        ("author", " and ".join(_bibtex_name(name) for name in p.authors)),
        ("year", str(p.published.year)),
        ("eprint", _verbatim(p.arxiv_id)),
        ("archivePrefix", "arXiv"),
        ("primaryClass", bibtex_text(p.primary_category)),
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


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection")."""
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula.

    The rule (OWASP's): a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return gets a leading ``'``, unless the whole cell is a plain number
    (``-2``, ``+1``, ``-2.5``, ``1e-3``), which a spreadsheet can only read as that number.
    So ``=HYPERLINK(...)`` becomes ``'=HYPERLINK(...)`` and ``-2+3`` becomes ``'-2+3``; a
    reader who wants the stored text back drops a leading ``'`` from such cells."""
    text_ = "" if value is None else str(value)
    if text_.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text_):
        return "'" + text_
    return text_


def to_csv(papers: Sequence[PaperItem]) -> str:
    """Authors ``; `` separated, categories space separated, ``withdrawn`` true/false; every
    cell passes through :func:`csv_cell`, so no cell is a formula."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for paper in papers:
        row = _record(paper)
        row["authors"] = "; ".join(paper.authors)
        row["categories"] = " ".join(paper.categories)
        row["withdrawn"] = "true" if paper.withdrawn else "false"
        writer.writerow({column: csv_cell(row[column]) for column in CSV_COLUMNS})
    return out.getvalue()


def to_json(papers: Sequence[PaperItem]) -> str:
    return json.dumps([_record(p) for p in papers], indent=2, ensure_ascii=False) + "\n"


EXPORTERS: dict[str, Callable[[Sequence[PaperItem]], str]] = {
    "bibtex": to_bibtex,
    "csv": to_csv,
    "json": to_json,
}
EXPORT_FORMATS = tuple(EXPORTERS)
