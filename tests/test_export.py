"""``harvest export``: BibTeX, CSV and JSON of a profile's papers."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from harvester.profile import export_profile
from harvester.profile.export import CSV_COLUMNS, bibtex_text, to_bibtex
from harvester.records import PaperItem

from .support import Harvested, run_cli, seed_papers


def parse_bibtex(text: str) -> dict[str, dict[str, str]]:
    """A strict little reader: ``@type{key, name = {value}, ...}`` with balanced braces."""
    entries: dict[str, dict[str, str]] = {}
    for match in re.finditer(r"@misc\{([^,\s]+),\n", text):
        fields: dict[str, str] = {}
        i = match.end()
        while text[i] != "}":
            name = text[i:].partition(" = {")[0]
            start = i + len(name) + 4
            depth, j = 1, start
            while depth:
                if text[j] == "\\":
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
        ("open $x{$ math", r"open \$x\{\$ math"),
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
