"""Tests of harvester.normalise: identifiers, text cleaning, entries, change detection."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.normalise import (
    DEFAULT_LIMITS,
    FieldLimits,
    InvalidEntryError,
    InvalidIdentifierError,
    clean_doi,
    clean_paragraphs,
    clean_text,
    collapse_whitespace,
    diff_metadata,
    format_arxiv_id,
    is_valid_arxiv_id,
    is_withdrawal_comment,
    normalise_entry,
    paper_fingerprint_fields,
    parse_arxiv_id,
    to_utc,
)
from harvester.records import Author, Paper, RawEntry

FEW = settings(max_examples=200, deadline=None, database=None)

# --- identifiers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2409.11321", ("2409.11321", None)),
        ("2409.11321v2", ("2409.11321", 2)),
        ("2409.11321v12", ("2409.11321", 12)),
        ("0704.0001", ("0704.0001", None)),
        ("1412.9999v3", ("1412.9999", 3)),
        ("1501.00001v1", ("1501.00001", 1)),
        ("http://arxiv.org/abs/2409.11321v2", ("2409.11321", 2)),
        ("https://arxiv.org/abs/2409.11321", ("2409.11321", None)),
        ("https://export.arxiv.org/abs/2409.11321v1", ("2409.11321", 1)),
        ("https://arxiv.org/pdf/2409.11321v2", ("2409.11321", 2)),
        ("https://arxiv.org/pdf/2409.11321v2.pdf", ("2409.11321", 2)),
        ("arXiv:2409.11321", ("2409.11321", None)),
        ("ARXIV:0901.0001v4", ("0901.0001", 4)),
        ("  2409.11321v2\n", ("2409.11321", 2)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        ("hep-th/9901001v1", ("hep-th/9901001", 1)),
        ("http://arxiv.org/abs/hep-th/9901001v1", ("hep-th/9901001", 1)),
        ("arXiv:hep-th/9108001", ("hep-th/9108001", None)),
        ("math.GT/0309136", ("math/0309136", None)),
        ("math.GT/0309136v2", ("math/0309136", 2)),
        ("cond-mat.mes-hall/0101001", ("cond-mat/0101001", None)),
        ("q-bio/0703001", ("q-bio/0703001", None)),
        ("physics/9107001", ("physics/9107001", None)),
    ],
)
def test_parse_accepts_every_style(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected
    assert is_valid_arxiv_id(text)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "expected YYMM"),
        ("abc", "expected YYMM"),
        ("2413.00001", "month 13"),
        ("2400.00001", "month 00"),
        ("1501.0001", "5-digit"),
        ("2409.1132", "5-digit"),
        ("1412.00001", "4-digit"),
        ("0704.00001", "4-digit"),
        ("0703.0001", "start at 0704"),
        ("2409.113210", "5-digit"),
        ("2409.00000", "number 0"),
        ("2409.11321v0", "v1 or higher"),
        ("2409.11321v01", "v1 or higher"),
        ("2409.11321v", "expected YYMM"),
        ("2409.11321 v2", "expected YYMM"),
        ("2409.11321v2extra", "expected YYMM"),
        ("2409.11321/", "expected YYMM"),
        ("hep-th/990100", "3-digit"),
        ("hep-th/99010011", "3-digit"),
        ("hep-th/9913001", "month 13"),
        ("hep-th/0801001", "9107 to 0703"),
        ("hep-th/9001001", "9107 to 0703"),
        ("hep-th/9901000", "number 0"),
        ("HEP-TH/9901001", "expected YYMM"),
        ("hep_th/9901001", "expected YYMM"),
        ("-hep/9901001", "expected YYMM"),
        ("hep-/9901001", "expected YYMM"),
        ("math.G/0309136", "expected YYMM"),
        ("ftp://arxiv.org/abs/2409.11321", "expected YYMM"),
        ("https://example.org/abs/2409.11321", "expected YYMM"),
        ("https://arxiv.org/list/2409.11321", "expected YYMM"),
        ("\u0662\u0664\u0660\u0669.\u0661\u0661\u0663\u0662\u0661", "expected YYMM"),
        ("2409.11321\x00", "expected YYMM"),
    ],
)
def test_parse_rejects_malformed_ids(text: str, problem: str) -> None:
    with pytest.raises(InvalidIdentifierError, match=problem) as caught:
        parse_arxiv_id(text)
    assert repr(text) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert not is_valid_arxiv_id(text)


def test_error_message_of_a_huge_id_is_short() -> None:
    with pytest.raises(InvalidIdentifierError) as caught:
        parse_arxiv_id("x" * 100_000)
    assert len(str(caught.value)) < 300


_PREFIXES = st.sampled_from(
    [
        "",
        "arXiv:",
        "arxiv:",
        "http://arxiv.org/abs/",
        "https://arxiv.org/abs/",
        "https://arxiv.org/pdf/",
    ]
)


@st.composite
def new_style_ids(draw: st.DrawFn) -> str:
    yymm = draw(st.integers(704, 9912).filter(lambda n: 1 <= n % 100 <= 12))
    digits = 4 if yymm <= 1412 else 5
    number = draw(st.integers(1, 10**digits - 1))
    return f"{yymm:04d}.{number:0{digits}d}"


_OLD_YYMM = [
    f"{year:02d}{month:02d}"
    for year in [*range(91, 100), *range(8)]
    for month in range(1, 13)
    if not (year == 91 and month < 7) and not (year == 7 and month > 3)
]


@st.composite
def old_style_ids(draw: st.DrawFn) -> tuple[str, str]:
    """(id as written, possibly with a subject class; canonical id)."""
    archive = draw(st.sampled_from(["hep-th", "math", "cond-mat", "astro-ph", "q-bio", "cs"]))
    subject = draw(st.sampled_from(["", ".GT", ".AI", ".mes-hall", ".str-el"]))
    stem = draw(st.sampled_from(_OLD_YYMM)) + f"{draw(st.integers(1, 999)):03d}"
    return f"{archive}{subject}/{stem}", f"{archive}/{stem}"


@st.composite
def written_ids(draw: st.DrawFn) -> tuple[str, str, int | None]:
    """(text as someone might write it, canonical id, version)."""
    if draw(st.booleans()):
        written = canonical = draw(new_style_ids())
    else:
        written, canonical = draw(old_style_ids())
    version = draw(st.none() | st.integers(1, 99))
    suffix = "" if version is None else f"v{version}"
    return draw(_PREFIXES) + written + suffix, canonical, version


@FEW
@given(written_ids())
def test_parse_and_format_round_trip(case: tuple[str, str, int | None]) -> None:
    text, canonical, version = case
    assert parse_arxiv_id(text) == (canonical, version)
    formatted = format_arxiv_id(canonical, version)
    assert formatted == canonical + ("" if version is None else f"v{version}")
    assert parse_arxiv_id(formatted) == (canonical, version)
    assert format_arxiv_id(*parse_arxiv_id(text)) == formatted


@FEW
@given(st.text(max_size=40))
def test_parse_only_ever_raises_invalid_identifier(text: str) -> None:
    try:
        arxiv_id, version = parse_arxiv_id(text)
    except InvalidIdentifierError:
        return
    assert format_arxiv_id(arxiv_id, version)


def test_format_appends_the_version_to_the_canonical_id() -> None:
    assert format_arxiv_id("2409.11321") == "2409.11321"
    assert format_arxiv_id("2409.11321", 3) == "2409.11321v3"
    assert format_arxiv_id("math.GT/0309136", 2) == "math/0309136v2"
    assert format_arxiv_id("https://arxiv.org/abs/hep-th/9901001") == "hep-th/9901001"


@pytest.mark.parametrize(("arxiv_id", "version"), [("2409.11321v2", None), ("2409.11321", 0)])
def test_format_rejects_embedded_or_nonpositive_versions(
    arxiv_id: str, version: int | None
) -> None:
    with pytest.raises(InvalidIdentifierError):
        format_arxiv_id(arxiv_id, version)


# --- text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a  b  ", "a b"),
        ("line one\n   line two\r\n\tthree", "line one line two three"),
        ("non\u00a0breaking\u2003em\u3000ideographic", "non breaking em ideographic"),
        ("\u2028\u2029", ""),
        ("", ""),
        ("zero\u200bwidth", "zero\u200bwidth"),
    ],
)
def test_collapse_whitespace(text: str, expected: str) -> None:
    assert collapse_whitespace(text) == expected


@FEW
@given(st.text())
def test_clean_text_is_idempotent_and_collapsed(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert unicodedata.is_normalized("NFC", cleaned)


def test_clean_text_composes_to_nfc() -> None:
    assert clean_text("Jo\u0308rg  Mu\u0308ller") == "J\u00f6rg M\u00fcller"


def test_to_utc() -> None:
    naive = datetime(2024, 9, 17, 16, 0)
    assert to_utc(naive) == datetime(2024, 9, 17, 16, 0, tzinfo=UTC)
    assert to_utc(naive).tzinfo is UTC
    eastern = datetime(2024, 9, 17, 0, 0, tzinfo=timezone(timedelta(hours=-4)))
    assert to_utc(eastern) == datetime(2024, 9, 17, 4, 0, tzinfo=UTC)
    assert to_utc(eastern).tzinfo is UTC


@pytest.mark.parametrize(
    "comment",
    [
        "This paper has been withdrawn by the author",
        "This paper has been withdrawn by the author due to a crucial error in equation 3",
        "This submission has been withdrawn by arXiv administrators as it is a duplicate",
        "This paper has been withdrawn by arXiv administrators",
        "withdrawn due to an error in the proof of Lemma 2",
        "Paper withdrawn",
        "Withdrawn.",
        "WITHDRAWN BY THE AUTHORS",
        "The author has withdrawn this paper",
        "12 pages, 3 figures; this paper has been withdrawn",
        "Due to an error in Theorem 1, this article has\nbeen   withdrawn",
    ],
)
def test_withdrawal_comments_are_recognised(comment: str) -> None:
    assert is_withdrawal_comment(comment)


@pytest.mark.parametrize(
    "comment",
    [
        None,
        "",
        "12 pages, 3 figures",
        "we withdraw our earlier claim that the bound is tight",
        "withdrawal rates in clinical trials, 20 pages",
        "Accepted at NeurIPS 2023; supersedes an earlier version of ours which was withdrawn",
        "v2: the erroneous section was withdrawing energy from the system",
    ],
)
def test_ordinary_comments_are_not_withdrawals(comment: str | None) -> None:
    assert not is_withdrawal_comment(comment)


# --- entries ------------------------------------------------------------------------

PUBLISHED = datetime(2024, 9, 17, 16, 2, 31, tzinfo=UTC)

BASE = RawEntry(
    entry_id="http://arxiv.org/abs/2409.11321v2",
    title="Sparse  Rewards in\n  Online Learning",
    summary="  We study online learning with sparse rewards. Our bound is $O(\\sqrt{T})$.",
    published=PUBLISHED,
    updated=PUBLISHED + timedelta(days=30),
    authors=(
        Author("Sham M. Kakade", ("Harvard University",)),
        Author("Jane  Doe"),
    ),
    primary_category="cs.LG",
    categories=("cs.LG", "stat.ML", "68T05"),
    comment="12 pages, 3 figures",
    journal_ref=None,
    doi=None,
)


def raw(**changes: object) -> RawEntry:
    return dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_normalise_a_realistic_entry() -> None:
    paper = normalise_entry(BASE)
    assert paper == Paper(
        arxiv_id="2409.11321",
        version=2,
        title="Sparse Rewards in Online Learning",
        summary="We study online learning with sparse rewards. Our bound is $O(\\sqrt{T})$.",
        published=PUBLISHED,
        updated=PUBLISHED + timedelta(days=30),
        authors=(Author("Sham M. Kakade", ("Harvard University",)), Author("Jane Doe")),
        primary_category="cs.LG",
        categories=("cs.LG", "stat.ML", "68T05"),
        comment="12 pages, 3 figures",
        journal_ref=None,
        doi=None,
        withdrawn=False,
    )


def test_hard_wrapped_legacy_text_is_collapsed() -> None:
    # Legacy abstracts wrap with a bare "\n"; "\n  " continues a wrapped title, but in
    # an abstract it starts a paragraph (test_abstract_paragraphs_are_kept).
    summary = (
        "  We study online learning with sparse rewards, where the learner\n"
        "observes feedback only\nrarely.  We prove a regret bound of\n"
        "$\\tilde O(\\sqrt{T})$ and show it is tight.\n"
    )
    title = "Sparse Rewards in Online\n  Learning:\tA Study"
    paper = normalise_entry(raw(summary=summary, title=title))
    assert paper.title == "Sparse Rewards in Online Learning: A Study"
    assert paper.summary == (
        "We study online learning with sparse rewards, where the learner observes feedback"
        " only rarely. We prove a regret bound of $\\tilde O(\\sqrt{T})$ and show it is tight."
    )


@pytest.mark.parametrize(
    ("summary", "expected"),
    [
        # current format: one line per paragraph, "\n  " between them
        ("First  one.\n  Second one.", "First one.\nSecond one."),
        # legacy format: hard-wrapped, each paragraph indented after the line break
        (
            "  First paragraph is\nwrapped here.\n  Second\nparagraph.\n",
            "First paragraph is wrapped here.\nSecond paragraph.",
        ),
        ("one\n\ttab-indented", "one\ntab-indented"),
        ("blank\n\nline\n \n\n  between", "blank\nline\nbetween"),
        ("windows\r\n  ends\r\nwrapped\rtoo", "windows\nends wrapped too"),
        ("\u00a0\n  \n", ""),
        ("trailing break\n  ", "trailing break"),
    ],
)
def test_abstract_paragraphs_are_kept(summary: str, expected: str) -> None:
    assert clean_paragraphs(summary) == expected
    if expected:
        assert normalise_entry(raw(summary=summary)).summary == expected


def test_paragraphs_are_nfc_and_only_the_summary_keeps_them() -> None:
    decomposed = unicodedata.normalize("NFD", "Caf\u00e9 first.\n  M\u00f8ller second.")
    paper = normalise_entry(
        raw(summary=decomposed, title="A\n  B", comment="c\n  d", journal_ref="j\n  k")
    )
    assert paper.summary == "Caf\u00e9 first.\nM\u00f8ller second."
    assert (paper.title, paper.comment, paper.journal_ref) == ("A B", "c d", "j k")


def test_summary_limit_counts_the_stored_paragraphs() -> None:
    exactly = "s" * 4999 + "\n  " + "t" * 5000  # 10,000 characters once stored
    assert len(normalise_entry(raw(summary=exactly)).summary) == 10_000
    with pytest.raises(InvalidEntryError, match="summary has 10001 characters"):
        normalise_entry(raw(summary=exactly + "t"))


@FEW
@given(st.text(st.sampled_from("ab \n\t\r\u00a0\u0301e")))
def test_clean_paragraphs_differs_from_clean_text_only_in_line_breaks(text: str) -> None:
    cleaned = clean_paragraphs(text)
    lines = cleaned.split("\n")
    assert clean_text(cleaned) == clean_text(text)
    assert cleaned == "" or all(line and line == clean_text(line) for line in lines)
    assert clean_paragraphs(cleaned.replace("\n", "\n  ")) == cleaned  # arXiv's way back


def test_old_style_entry_id() -> None:
    paper = normalise_entry(raw(entry_id="http://arxiv.org/abs/hep-th/9901001v1"))
    assert (paper.arxiv_id, paper.version) == ("hep-th/9901001", 1)


@pytest.mark.parametrize(
    ("primary", "categories", "expected_primary", "expected"),
    [
        ("cs.LG", ("cs.LG", "stat.ML"), "cs.LG", ("cs.LG", "stat.ML")),
        ("cs.LG", ("stat.ML", "cs.LG", "cs.AI"), "cs.LG", ("cs.LG", "stat.ML", "cs.AI")),
        ("cs.LG", ("stat.ML", "cs.AI"), "cs.LG", ("cs.LG", "stat.ML", "cs.AI")),
        ("cs.LG", ("cs.LG", "stat.ML", "cs.LG", "stat.ML"), "cs.LG", ("cs.LG", "stat.ML")),
        ("cs.LG", (), "cs.LG", ("cs.LG",)),
        (" cs.LG ", ("cs.LG ", "", "  "), "cs.LG", ("cs.LG",)),
        ("", ("math.GT", "math.AG"), "math.GT", ("math.GT", "math.AG")),
    ],
)
def test_categories_are_deduplicated_with_the_primary_first(
    primary: str, categories: tuple[str, ...], expected_primary: str, expected: tuple[str, ...]
) -> None:
    paper = normalise_entry(raw(primary_category=primary, categories=categories))
    assert paper.primary_category == expected_primary
    assert paper.categories == expected


@pytest.mark.parametrize(
    ("doi", "expected"),
    [
        ("10.1103/PhysRevD.76.044016", "10.1103/PhysRevD.76.044016"),
        ("https://doi.org/10.1103/PhysRevD.76.044016", "10.1103/PhysRevD.76.044016"),
        ("http://dx.doi.org/10.1103/PhysRevD.76.044016", "10.1103/PhysRevD.76.044016"),
        ("doi:10.1103/PhysRevD.76.044016", "10.1103/PhysRevD.76.044016"),
        ("DOI: 10.1103/PhysRevD.76.044016", "10.1103/PhysRevD.76.044016"),
        ("  10.1103/PhysRevD.76.044016\n", "10.1103/PhysRevD.76.044016"),
        ("10.1000/doi:inside", "10.1000/doi:inside"),
        ("https://doi.org/", None),
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_doi_is_cleaned(doi: str | None, expected: str | None) -> None:
    assert clean_doi(doi) == expected
    assert normalise_entry(raw(doi=doi)).doi == expected


def test_empty_optional_strings_become_none() -> None:
    paper = normalise_entry(raw(comment=" \n ", journal_ref="", doi="\t"))
    assert (paper.comment, paper.journal_ref, paper.doi) == (None, None, None)


def test_optional_strings_are_cleaned() -> None:
    paper = normalise_entry(raw(comment="12 pages,\n 3 figures", journal_ref="Phys. Rev.\n D 76"))
    assert (paper.comment, paper.journal_ref) == ("12 pages, 3 figures", "Phys. Rev. D 76")


@pytest.mark.parametrize(
    ("comment", "withdrawn"),
    [
        ("This paper has been withdrawn by the author", True),
        ("This paper has been withdrawn by arXiv administrators", True),
        ("12 pages, 3 figures", False),
        (None, False),
    ],
)
def test_withdrawn_follows_the_comment(comment: str | None, withdrawn: bool) -> None:
    assert normalise_entry(raw(comment=comment)).withdrawn is withdrawn


def test_datetimes_become_utc() -> None:
    eastern = timezone(timedelta(hours=-4))
    paper = normalise_entry(
        raw(published=datetime(2024, 9, 17, 20, 0, tzinfo=eastern), updated=datetime(2024, 9, 18))
    )
    assert paper.published == datetime(2024, 9, 18, 0, 0, tzinfo=UTC)
    assert paper.published.tzinfo is UTC
    assert paper.updated == datetime(2024, 9, 18, 0, 0, tzinfo=UTC)
    assert paper.updated.tzinfo is UTC


def test_published_after_updated_is_accepted() -> None:
    paper = normalise_entry(raw(updated=PUBLISHED - timedelta(days=3)))
    assert paper.updated < paper.published


def test_first_arxiv_year_is_accepted() -> None:
    paper = normalise_entry(raw(published=datetime(1991, 8, 14, tzinfo=UTC)))
    assert paper.published.year == 1991


def test_author_names_and_affiliations_are_cleaned() -> None:
    authors = (
        Author("  Jo\u0308rg\n  Mu\u0308ller ", ("  ETH\u00a0Zu\u0308rich ", "", " ")),
        Author("   "),
        Author("Ana\tLi"),
    )
    paper = normalise_entry(raw(authors=authors))
    assert paper.authors == (
        Author("J\u00f6rg M\u00fcller", ("ETH Z\u00fcrich",)),
        Author("Ana Li"),
    )


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"entry_id": "http://arxiv.org/abs/abc"}, "bad id"),
        ({"entry_id": "http://arxiv.org/abs/2413.00001v1"}, "month 13"),
        ({"entry_id": "https://arxiv.org/api/errors#incorrect_id_format_for_abc"}, "bad id"),
        ({"entry_id": "http://arxiv.org/abs/2409.11321"}, "no version"),
        ({"title": " \n\t "}, "title is empty"),
        ({"title": ""}, "title is empty"),
        ({"authors": ()}, "no author with a non-empty name"),
        ({"authors": (Author(" "), Author("\n"))}, "no author with a non-empty name"),
        ({"primary_category": "", "categories": ()}, "no primary category"),
        ({"published": datetime(1990, 12, 31, 23, 0, tzinfo=UTC)}, "before arXiv opened"),
        ({"published": datetime(1970, 1, 1)}, "before arXiv opened"),
    ],
)
def test_invalid_entries_are_refused(changes: dict[str, object], problem: str) -> None:
    entry = raw(**changes)
    with pytest.raises(InvalidEntryError, match=problem) as caught:
        normalise_entry(entry)
    assert repr(entry.entry_id) in str(caught.value)
    assert isinstance(caught.value, ValueError)


_OVER_LIMIT: dict[str, dict[str, object]] = {
    "arxiv_id": {"entry_id": "http://arxiv.org/abs/" + "a" * 60 + "-b/0101001v1"},
    "version": {"entry_id": "http://arxiv.org/abs/2409.11321v99999999999999999999"},
    "category": {"primary_category": "x" * 65},
    "title": {"title": "t" * 1001},
    "summary": {"summary": "s" * 10_001},
    "author_name": {"authors": (Author("n" * 301),)},
    "authors": {"authors": tuple(Author(f"Author {i}") for i in range(3001))},
    "comment": {"comment": "c" * 2001},
    "categories": {"categories": tuple(f"math.{i}" for i in range(50))},
    "journal_ref": {"journal_ref": "j" * 1001},
    "doi": {"doi": "10.1/" + "d" * 296},
}


@pytest.mark.parametrize("field", sorted(_OVER_LIMIT))
def test_every_default_limit_is_enforced(field: str) -> None:
    entry = raw(**_OVER_LIMIT[field])
    with pytest.raises(InvalidEntryError, match="limit of") as caught:
        normalise_entry(entry)
    assert repr(entry.entry_id[:40])[:-1] in str(caught.value)


def test_values_at_the_default_limits_are_accepted() -> None:
    entry = raw(
        title="t" * 1000,
        summary="s" * 10_000,
        authors=(Author("n" * 300), *(Author(f"A {i}") for i in range(2999))),
        comment="c" * 2000,
        categories=("cs.LG", *(f"math.{i}" for i in range(48)), "c" * 64),
        journal_ref="j" * 1000,
        doi="10.1/" + "d" * 295,
        entry_id="http://arxiv.org/abs/2409.11321v9999",
    )
    paper = normalise_entry(entry)
    assert len(paper.authors) == 3000
    assert len(paper.categories) == 50


def test_limits_apply_after_cleaning() -> None:
    assert normalise_entry(raw(title="  " + "t" * 1000 + "\n  ")).title == "t" * 1000


def test_custom_limits() -> None:
    assert FieldLimits() == DEFAULT_LIMITS
    with pytest.raises(InvalidEntryError, match="title has 33 characters"):
        normalise_entry(BASE, limits=FieldLimits(title=10))
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_LIMITS.title = 5  # type: ignore[misc]


@FEW
@given(
    title=st.text(max_size=60),
    name=st.text(max_size=30),
    comment=st.none() | st.text(max_size=60),
    doi=st.none() | st.text(max_size=30),
)
def test_hostile_text_is_normalised_or_refused_never_crashes(
    title: str, name: str, comment: str | None, doi: str | None
) -> None:
    entry = raw(title=title, authors=(Author(name, (name,)),), comment=comment, doi=doi)
    try:
        paper = normalise_entry(entry)
    except InvalidEntryError:
        assert not clean_text(title) or not clean_text(name)
        return
    assert paper.title == clean_text(title)
    assert paper.authors[0].name == clean_text(name)
    assert paper.comment == (clean_text(comment) or None if comment is not None else None)


# --- change detection ---------------------------------------------------------------


def test_fingerprint_fields() -> None:
    paper = normalise_entry(raw(doi="doi:10.1/x", journal_ref="JHEP 01 (2020) 1"))
    assert paper_fingerprint_fields(paper) == {
        "title": "Sparse Rewards in Online Learning",
        "summary": "We study online learning with sparse rewards. Our bound is $O(\\sqrt{T})$.",
        "doi": "10.1/x",
        "journal_ref": "JHEP 01 (2020) 1",
        "categories": ("cs.LG", "stat.ML", "68T05"),
        "authors": ("Sham M. Kakade", "Jane Doe"),
    }


def test_comments_and_versions_are_not_metadata_changes() -> None:
    old = normalise_entry(BASE)
    new = normalise_entry(
        raw(entry_id="http://arxiv.org/abs/2409.11321v3", comment="v3: typos fixed")
    )
    assert diff_metadata(paper_fingerprint_fields(old), paper_fingerprint_fields(new)) == []


def test_unnormalised_papers_fingerprint_like_normalised_ones() -> None:
    clean = normalise_entry(BASE)
    messy = dataclasses.replace(
        clean,
        title="Sparse  Rewards in\nOnline Learning ",
        authors=(Author("Sham M.\u00a0Kakade"), Author("Jane Doe")),
    )
    assert paper_fingerprint_fields(messy) == paper_fingerprint_fields(clean)


def test_paragraphs_are_no_metadata_change() -> None:
    """A summary stored on one line (before paragraphs were kept) against the same
    abstract with its paragraphs: no ``metadata_changed`` event."""
    legacy = "  First paragraph is\nwrapped.\n  Second paragraph.\n"
    new = normalise_entry(raw(summary=legacy))
    old = dataclasses.replace(new, summary=clean_text(legacy))
    assert new.summary != old.summary
    assert paper_fingerprint_fields(new) == paper_fingerprint_fields(old)
    assert diff_metadata(paper_fingerprint_fields(old), paper_fingerprint_fields(new)) == []
    reworded = normalise_entry(raw(summary=legacy.replace("Second", "Other")))
    assert diff_metadata(paper_fingerprint_fields(new), paper_fingerprint_fields(reworded)) == [
        "summary"
    ]


def test_diff_names_the_changed_fields_sorted() -> None:
    old = paper_fingerprint_fields(normalise_entry(BASE))
    new = paper_fingerprint_fields(
        normalise_entry(
            raw(
                title="A Better Title",
                authors=(Author("Jane Doe"),),
                doi="10.1/x",
                categories=("cs.LG", "stat.ML", "68T05"),
            )
        )
    )
    assert diff_metadata(old, new) == ["authors", "doi", "title"]
    assert diff_metadata(new, old) == ["authors", "doi", "title"]
    assert ", ".join(diff_metadata(old, new)) == "authors, doi, title"


def test_diff_treats_missing_keys_and_lists() -> None:
    assert diff_metadata({"a": 1}, {}) == ["a"]
    assert diff_metadata({}, {"b": None}) == ["b"]
    assert diff_metadata({"c": ["x", "y"]}, {"c": ("x", "y")}) == []
    assert diff_metadata({"c": ["x", "y"]}, {"c": ("y", "x")}) == ["c"]
