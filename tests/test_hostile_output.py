"""Hostile paper text end to end: harvested from the look-alike, then printed and exported
by the command line on both databases.

A title, category, journal ref and DOI carry terminal controls (CSI U+009B, right-to-left
override), HTML, Markdown table pipes, spreadsheet formulas and BibTeX braces that would
end a field. ``harvest profile`` and ``harvest history`` print no control or bidi
character, Markdown keeps the text as text, CSV has no formula cell and BibTeX keeps every
entry whole (read back by ``bibtexparser``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import bibtexparser

from arxiv_lookalike import Corpus, LookalikeServer
from harvester.store import Store

from .support import harvest, make_settings, run_cli, seed_papers, write_config

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
T1 = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
TITLE = (
    '=HYPERLINK("https://evil.example") \u009b2J\u202eevil\u202c'
    " <script>x</script> | }, year = {1999"
)
CATEGORY = "cs.LG}<script>|\u202e"
CONTROLS = set("\u009b\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def printable(output: str) -> bool:
    """No control character but ``\\n``, no bidi control."""
    controls = {c for c in output if unicodedata.category(c) == "Cc"} - {"\n"}
    return not controls and CONTROLS.isdisjoint(output)


def test_hostile_text_is_printed_and_exported_safely(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, tmp_path: Path
) -> None:
    template = corpus.get(seed_papers(corpus)[0].arxiv_id)
    assert template is not None
    hostile = replace(
        template, arxiv_id="2611.04321", title=TITLE, primary_category=CATEGORY,
        categories=(CATEGORY, "cs.AI"), journal_ref="@SUM(1) }{", doi="10.1/x}y", published=T1,
    )  # fmt: skip
    settings = make_settings(db_url, server.url)
    assert harvest(store, settings, when=T0).exit_code == 0
    corpus.upsert(hostile)
    assert harvest(store, settings, when=T1, derive=True).exit_code == 0
    config = write_config(tmp_path, db_url, server.url)

    def cli(*args: str) -> str:
        result = run_cli(*args, "--config", str(config), timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout

    text = cli("profile", "kakade")
    history = cli("history", "kakade")
    assert printable(text) and printable(history)
    assert "2J" + "evil" + " <script>x</script> | }, year = {1999" in text
    assert "2611.04321" in history and '=HYPERLINK("https://evil.example") 2Jevil' in history

    markdown = cli("profile", "kakade", "--format", "markdown")
    assert printable(markdown) and "<script>" not in markdown
    assert r"| cs.LG\}\<script\>\| | 1 | 1 |" in markdown

    rows = list(csv.DictReader(io.StringIO(cli("export", "kakade", "--format", "csv"))))
    (row,) = [r for r in rows if r["arxiv_id"] == "2611.04321"]
    assert row["title"] == "'" + TITLE and row["journal_ref"] == "'@SUM(1) }{"
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values())

    library = bibtexparser.parse_string(cli("export", "kakade", "--format", "bibtex"))
    assert library.failed_blocks == [] and len(library.entries) == len(rows) == 77
    (entry,) = [e for e in library.entries if e.fields_dict["eprint"].value == "2611.04321"]
    fields = {f.key: f.value for f in entry.fields}
    assert set(fields) >= {"title", "author", "year", "eprint", "primaryClass", "doi", "url"}
    assert fields["year"] == "2026" and "Sham Kakade" in fields["author"]
    assert re.fullmatch(r"cs\.LG\\textbraceright\{\}<script>\|\S*", fields["primaryClass"])
