"""``harvest export``: BibTeX, CSV and JSON of a profile's papers.

Hostile text (braces that would end a field early, ``@`` entries, formulas) is read back
by a real BibTeX parser (``bibtexparser``), by a reader that counts braces as BibTeX
itself does, and checked against a spreadsheet's rule for formulas.
"""

from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bibtexparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.profile import export_profile
from harvester.profile.export import CSV_COLUMNS, bibtex_text, csv_cell, to_bibtex, to_csv
from harvester.records import PaperItem

from .support import Harvested, run_cli, seed_papers


def parse_bibtex(text: str, *, escapes: bool = True) -> dict[str, dict[str, str]]:
    """A strict little reader: ``@type{key, name = {value}, ...}`` with balanced braces;
    with ``escapes=False`` a backslash escapes nothing, as in BibTeX itself, which counts
    ``\\{`` as a brace."""
    entries: dict[str, dict[str, str]] = {}
    for match in re.finditer(r"@misc\{([^,\s]+),\n", text):
        fields: dict[str, str] = {}
        i = match.end()
        while text[i] != "}":
            name = text[i:].partition(" = {")[0]
            start = i + len(name) + 4
            depth, j = 1, start
            while depth:
                if escapes and text[j] == "\\":
                    j += 2
                    continue
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            fields[name.strip()] = text[start : j - 1]
            i = j + (2 if text[j] == "," else 1)
        entries[match.group(1)] = fields
    return entries


def test_bibtex_has_the_arxiv_fields_for_every_paper(harvested: Harvested) -> None:
    text = export_profile(harvested.store, "kakade", "bibtex")
    entries = parse_bibtex(text)
    seed = {p.arxiv_id: p for p in seed_papers(harvested.corpus)}
    assert len(entries) == text.count("@misc{") == 76
    assert {e["eprint"] for e in entries.values()} == set(seed)
    for entry in entries.values():
        paper = seed[entry["eprint"]]
        assert entry["archivePrefix"] == "arXiv"
        assert entry["primaryClass"] == paper.primary_category
        assert entry.get("doi") == paper.doi
        assert entry["year"] == str(paper.published.year)
        assert "Sham Kakade" in entry["author"].split(" and ")
    withdrawn = [e for e in entries.values() if "Withdrawn" in e.get("note", "")]
    assert len(withdrawn) == 1


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("50% of A & B_1 #1", r"50\% of A \& B\_1 \#1"),
        ("{braces} ~ ^ \\", r"\{braces\} \textasciitilde{} \textasciicircum{} \textbackslash{}"),
        (r"When $\|w\|_2 < 1$ Suffices", r"When $\|w\|_2 < 1$ Suffices"),
        ("open $x{$ math", r"open \$x\textbraceleft{}\$ math"),
        ("$a%b$", r"\$a\%b\$"),
    ],
)
def test_bibtex_text_escapes_all_but_well_formed_math(raw: str, escaped: str) -> None:
    assert bibtex_text(raw) == escaped


def test_bibtex_keys_are_unique_and_names_with_commas_are_braced() -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    paper = PaperItem(
        "2405.00001", 1, "The Théorie of {Things}", "", when, when, "cs.LG", ("cs.LG",),
        "10.1/a_b{c}", None, None, False, None, authors=("Élise Müller", "Smith, Jr., John"),
    )  # fmt: skip
    text = to_bibtex([paper, paper])
    entries = parse_bibtex(text)
    assert list(entries) == ["muller2024theorie", "muller2024theoriea"]
    entry = entries["muller2024theorie"]
    assert entry["title"] == r"{The Théorie of \{Things\}}"
    assert entry["author"] == "Élise Müller and {Smith, Jr., John}"
    assert entry["doi"] == "10.1/a_b%7Bc%7D"


def test_csv_has_a_header_and_one_row_per_paper(harvested: Harvested) -> None:
    rows = list(csv.DictReader(io.StringIO(export_profile(harvested.store, "kakade", "csv"))))
    seed = {p.arxiv_id: p for p in seed_papers(harvested.corpus)}
    assert len(rows) == 76 and list(rows[0]) == list(CSV_COLUMNS)
    for row in rows:
        paper = seed[row["arxiv_id"]]
        assert row["title"] == paper.title
        assert row["authors"] == "; ".join(a.name for a in paper.authors)
        assert row["withdrawn"] in ("true", "false")
    assert sum(row["withdrawn"] == "true" for row in rows) == 1


def test_json_lists_every_paper_with_its_authors(harvested: Harvested) -> None:
    papers = json.loads(export_profile(harvested.store, "kakade", "json"))
    assert len(papers) == 76
    assert papers[0]["url"] == f"https://arxiv.org/abs/{papers[0]['arxiv_id']}"
    assert all("Sham Kakade" in p["authors"] for p in papers)


def test_cli_exports(harvested: Harvested, tmp_path: Path) -> None:
    config = tmp_path / "harvester.toml"
    config.write_text(
        f'[database]\nurl = "{harvested.url}"\n[[authors]]\nkey = "kakade"\nname = "Sham Kakade"\n',
        encoding="utf-8",
    )
    command = ["export", "kakade", "--format", "csv", "--config", str(config)]
    result = run_cli(*command, timeout=60)
    assert result.returncode == 0, result.stderr
    expected = export_profile(harvested.store, "kakade", "csv")  # RFC 4180: CRLF line ends
    assert result.stdout == expected.replace("\r\n", "\n")  # text mode reads them as \n


# -- hostile text --------------------------------------------------------------------------

WHEN = datetime(2024, 5, 1, tzinfo=UTC)
FIELDS = ["title", "author", "year", "eprint", "archivePrefix", "primaryClass", "doi", "url"]
HOSTILE = [
    "}, author = {Evil}, year = {1999",
    "}}}\n@misc{injected, title = {Evil}}",
    "Unbalanced { brace and a stray } and }{ backwards",
    "Back\\slash before a brace \\} and at the end \\",
    '50% of #1 & A_b ~ ^ "quoted" @home',
    r"Math $\{0,1\}^n$, broken math $x}$ and $\\{$ and $a\$ end",
    "Control\x1b[31m characters\x00 and\u2028 separators\r\n",
    '=HYPERLINK("https://evil.example")',
    "",
]


def hostile(number: int, title: str, **changes: Any) -> PaperItem:
    """A withdrawn paper with a hostile ``title``, DOI, journal ref and author names."""
    paper = PaperItem(
        f"2405.{number:05d}", 1, title, "", WHEN, WHEN, "cs.LG", ("cs.LG",), "10.1/x{y}\\",
        "J. Evil} 1, {2 (2024)", None, True, None, authors=("Ada Lovelace", "Bob, Jr.", "}{"),
    )  # fmt: skip
    return replace(paper, **changes)


_TOKEN = re.compile(
    r"\$[^$]*\$|\\text(?:backslash|braceleft|braceright|asciitilde|asciicircum)\{\}"
    r"|\\[{}$&%#_]|.",
    re.DOTALL,
)
_UNESCAPE = {
    r"\textbackslash{}": "\\", r"\textbraceleft{}": "{", r"\textbraceright{}": "}",
    r"\textasciitilde{}": "~", r"\textasciicircum{}": "^",
}  # fmt: skip


def decode(value: str) -> str:
    """The text an escaped field value stands for: escapes undone, kept ``$...$`` as is."""
    tokens = (m.group() for m in _TOKEN.finditer(value))
    return "".join(
        t if t.startswith("$") else _UNESCAPE.get(t, t[1:] if t.startswith("\\") else t)
        for t in tokens
    )


def one_line(value: str) -> str:
    """What a BibTeX value keeps of ``value``: controls and line separators are spaces."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in value)


def real_entries(text: str) -> list[dict[str, str]]:
    """The entries ``bibtexparser`` reads, as field dicts (and ``ID``, the key); fails on
    any block it rejects and on any text between entries."""
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == [], [b.error for b in library.failed_blocks]
    assert len(library.blocks) == len(library.entries)
    return [{f.key: f.value for f in e.fields} | {"ID": e.key} for e in library.entries]


def check_bibtex(papers: list[PaperItem]) -> None:
    """Every reader sees one entry per paper with all its fields, and the text comes back."""
    text = to_bibtex(papers)
    entries = real_entries(text)
    assert len(entries) == len(papers)
    assert len(parse_bibtex(text)) == len(papers)
    assert parse_bibtex(text) == parse_bibtex(text, escapes=False)  # BibTeX's brace count
    for paper, entry in zip(papers, entries, strict=True):
        assert list(entry) == [*FIELDS, "note", "ID"]
        assert entry["year"] == "2024" and entry["archivePrefix"] == "arXiv"
        assert entry["eprint"] == paper.arxiv_id
        assert entry["doi"] == "10.1/x%7By%7D%5C"
        assert decode(entry["title"]) == "{" + one_line(paper.title) + "}"
        assert decode(entry["primaryClass"]) == one_line(paper.primary_category)
        assert decode(entry["note"]) == one_line(paper.journal_ref or "") + "; Withdrawn"
        assert decode(entry["author"]) == " and ".join(
            "{" + one_line(n) + "}" if re.search(r",|\band\b", n, re.I) else one_line(n)
            for n in paper.authors
        )


def test_hostile_titles_and_categories_keep_every_entry_whole() -> None:
    papers = [hostile(i, title) for i, title in enumerate(HOSTILE, 1)]
    papers += [hostile(90 + i, "Fine", primary_category=t) for i, t in enumerate(HOSTILE, 1)]
    check_bibtex(papers)


def test_an_injected_field_stays_inside_the_title() -> None:
    text = to_bibtex([hostile(1, HOSTILE[0])])
    (entry,) = real_entries(text)
    assert entry["year"] == "2024" and entry["author"].startswith("Ada Lovelace and")
    assert "Evil" in entry["title"] and entry["ID"] == "lovelace2024author"
    as_bibtex_counts = parse_bibtex(text, escapes=False)["lovelace2024author"]
    assert as_bibtex_counts["year"] == "2024" and "Evil" in as_bibtex_counts["title"]


def test_many_papers_with_one_key_get_distinct_keys() -> None:
    keys = [e["ID"] for e in real_entries(to_bibtex([hostile(1, "Same")] * 30))]
    assert len(set(keys)) == 30 and all(re.fullmatch(r"[a-z0-9]+", key) for key in keys)
    assert keys[-3:] == ["lovelace2024sameaa", "lovelace2024sameab", "lovelace2024sameac"]


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.text(max_size=60),
    st.text(max_size=12),
    st.lists(st.text(max_size=12), min_size=1, max_size=3),
    st.text(min_size=1, max_size=20),
)
def test_any_text_makes_whole_entries(
    title: str, category: str, authors: list[str], journal: str
) -> None:
    paper = hostile(1, title, primary_category=category, authors=tuple(authors))
    check_bibtex([replace(paper, journal_ref=journal), hostile(2, "After it")])


# -- CSV: no formulas ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("https://evil.example","x")', "@SUM(A1:A9)", "+1-1", "-2+3", "\t=1", "\r=1",
     "-", "+", "=", "@", "-1,5", "--2", "+-2", "-2e", "-inf", "-nan"],
)  # fmt: skip
def test_a_formula_like_cell_gets_a_quote(cell: str) -> None:
    assert csv_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["2", "-2", "+1", "-2.5", "1e-3", "-.5", "3.", "abc", "", "a=b"])
def test_plain_numbers_and_text_stay_as_they_are(cell: str) -> None:
    assert csv_cell(cell) == cell


def test_csv_quotes_formulas_in_every_column() -> None:
    paper = hostile(
        1, '=HYPERLINK("https://evil.example","click")', version=2, doi="-2+3",
        journal_ref="+1-1", comment="@SUM(1)", authors=("=cmd|' /C calc'!A0", "Bob"),
        primary_category="-2.5", categories=("-2.5", "cs.LG"), withdrawn=False,
    )  # fmt: skip
    (row,) = csv.DictReader(io.StringIO(to_csv([paper])))
    assert row["title"] == "'" + paper.title
    assert (row["doi"], row["journal_ref"], row["comment"]) == ("'-2+3", "'+1-1", "'@SUM(1)")
    assert row["authors"] == "'=cmd|' /C calc'!A0; Bob"
    assert (row["version"], row["primary_category"]) == ("2", "-2.5")  # plain numbers
    assert row["categories"] == "'-2.5 cs.LG"


@given(st.text())
def test_no_csv_cell_starts_a_formula(text: str) -> None:
    cell = csv_cell(text)
    if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        float(cell)  # only a plain number may
    assert cell in (text, "'" + text)
