"""Turn feed entries into canonical papers: pure functions, no I/O, no clock.

Identifiers follow https://info.arxiv.org/help/arxiv_identifier.html:

* new style ``YYMM.NNNN`` (0704 to 1412) and ``YYMM.NNNNN`` (from 1501);
* old style ``archive[.SC]/YYMMNNN`` (1991 to 0703), e.g. ``hep-th/9901001``.

The canonical form is versionless; the version travels separately as an ``int``.
For old-style ids the subject class is dropped (``math.GT/0309136`` is
``math/0309136``), as arXiv itself does: the feed's ``<id>`` never carries it, and
the store keys on the canonical id.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from harvester.records import Author, Paper, RawEntry

__all__ = [
    "DEFAULT_LIMITS",
    "FieldLimits",
    "InvalidEntryError",
    "InvalidIdentifierError",
    "claimed_ids",
    "clean_doi",
    "clean_paragraphs",
    "clean_text",
    "collapse_whitespace",
    "diff_metadata",
    "format_arxiv_id",
    "is_valid_arxiv_id",
    "is_withdrawal_comment",
    "normalise_entry",
    "paper_fingerprint_fields",
    "parse_arxiv_id",
    "to_utc",
]

FIRST_ARXIV_YEAR = 1991
"""arXiv opened in August 1991: an earlier ``published`` date is a broken entry."""

_S = TypeVar("_S", bound=str | None)

_SHOWN_CHARS = 80
"""How much of a hostile input an error message repeats."""


class InvalidIdentifierError(ValueError):
    """Text that is not an arXiv identifier; the message says what is wrong with it."""

    def __init__(self, text: str, problem: str) -> None:
        super().__init__(f"invalid arXiv identifier {_shown(text)}: {problem}")
        self.text = text
        self.problem = problem


class InvalidEntryError(ValueError):
    """A feed entry that cannot become a :class:`Paper`; names the entry and the problem."""

    def __init__(self, entry_id: str, problem: str) -> None:
        super().__init__(f"arXiv entry {_shown(entry_id)}: {problem}")
        self.entry_id = entry_id
        self.problem = problem


def _shown(text: str) -> str:
    """``repr`` of ``text``, cut short so a hostile value cannot flood a log line."""
    if len(text) > _SHOWN_CHARS:
        return repr(text[:_SHOWN_CHARS]) + "..."
    return repr(text)


# --- identifiers ------------------------------------------------------------------

_URL_PREFIX = re.compile(r"https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/", re.IGNORECASE)
_ARXIV_PREFIX = re.compile(r"arxiv:", re.IGNORECASE)
_PDF_SUFFIX = ".pdf"
_VERSION = r"(?:v(?P<version>[0-9]+))?"
_NEW_ID = re.compile(r"(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})\.(?P<num>[0-9]+)" + _VERSION)
_OLD_ID = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)*)(?:\.(?P<subject>[A-Za-z]{2,}(?:-[A-Za-z]+)*))?"
    r"/(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})(?P<num>[0-9]+)" + _VERSION
)
_EXPECTED = "expected YYMM.NNNNN, YYMM.NNNN or archive/YYMMNNN, optionally followed by vN"


def parse_arxiv_id(text: str) -> tuple[str, int | None]:
    """Split an id, ``arXiv:`` id or abs/pdf URL into (canonical versionless id, version).

    Raises :class:`InvalidIdentifierError` unless every part is valid for its era:
    month 01-12, 4 digits from 0704 to 1412, 5 digits from 1501, 3 digits for old
    style (9107 to 0703), a version ``v1`` or higher.
    """
    bare = _strip_prefixes(text.strip())
    if match := _NEW_ID.fullmatch(bare):
        _check_new_style(text, match["yy"] + match["mm"], match["num"])
        canonical = f"{match['yy']}{match['mm']}.{match['num']}"
    elif match := _OLD_ID.fullmatch(bare):
        _check_old_style(text, match["yy"] + match["mm"], match["num"])
        canonical = f"{match['archive']}/{match['yy']}{match['mm']}{match['num']}"
    else:
        raise InvalidIdentifierError(text, _EXPECTED)
    return canonical, _version(text, match["version"])


def _strip_prefixes(text: str) -> str:
    """Remove an abs/pdf URL prefix (and ``.pdf``) or an ``arXiv:`` prefix."""
    if url := _URL_PREFIX.match(text):
        bare = text[url.end() :]
        return bare.removesuffix(_PDF_SUFFIX)
    if prefix := _ARXIV_PREFIX.match(text):
        return text[prefix.end() :]
    return text


def _check_month(text: str, yymm: str) -> None:
    if not 1 <= int(yymm[2:]) <= 12:
        raise InvalidIdentifierError(text, f"month {yymm[2:]} is not 01-12")


def _check_new_style(text: str, yymm: str, number: str) -> None:
    """Enforce the month and the digit count of the new style's era."""
    _check_month(text, yymm)
    if yymm < "0704":
        raise InvalidIdentifierError(text, "new-style identifiers start at 0704")
    digits = 4 if yymm <= "1412" else 5
    if len(number) != digits:
        era = "0704 to 1412" if digits == 4 else "1501 on"
        raise InvalidIdentifierError(text, f"identifiers from {era} have a {digits}-digit number")
    if int(number) == 0:
        raise InvalidIdentifierError(text, "number 0 is never assigned")


def _check_old_style(text: str, yymm: str, number: str) -> None:
    """Enforce the month, the 1991-2007 window and the 3-digit number of the old style."""
    _check_month(text, yymm)
    if "0703" < yymm < "9107":
        raise InvalidIdentifierError(text, "old-style identifiers run from 9107 to 0703")
    if len(number) != 3:
        raise InvalidIdentifierError(text, "old-style identifiers have a 3-digit number")
    if int(number) == 0:
        raise InvalidIdentifierError(text, "number 0 is never assigned")


def _version(text: str, digits: str | None) -> int | None:
    if digits is None:
        return None
    if digits.startswith("0"):
        raise InvalidIdentifierError(text, "the version must be v1 or higher, no leading zeros")
    return int(digits)


def claimed_ids(entry_ids: Iterable[str]) -> tuple[frozenset[str], list[str]]:
    """The canonical ids of an author identifier feed's entries (abs URLs, versioned), and
    the entry ids that are not arXiv ids (left out: a claim must name a paper)."""
    canonical: set[str] = set()
    refused: list[str] = []
    for entry_id in entry_ids:
        try:
            canonical.add(parse_arxiv_id(entry_id)[0])
        except InvalidIdentifierError:
            refused.append(entry_id)
    return frozenset(canonical), refused


def format_arxiv_id(arxiv_id: str, version: int | None = None) -> str:
    """The canonical text of ``arxiv_id``, with ``vN`` appended when ``version`` is given.

    ``format_arxiv_id(*parse_arxiv_id(text))`` is the canonical form of ``text``.
    ``arxiv_id`` must not carry a version itself.
    """
    canonical, embedded = parse_arxiv_id(arxiv_id)
    if embedded is not None:
        raise InvalidIdentifierError(arxiv_id, "already carries a version; pass it separately")
    if version is None:
        return canonical
    if version < 1:
        raise InvalidIdentifierError(arxiv_id, f"version {version} is not 1 or higher")
    return f"{canonical}v{version}"


def is_valid_arxiv_id(text: str) -> bool:
    """Whether :func:`parse_arxiv_id` accepts ``text``."""
    try:
        parse_arxiv_id(text)
    except InvalidIdentifierError:
        return False
    return True


# --- text ---------------------------------------------------------------------------


def collapse_whitespace(text: str) -> str:
    """Every run of Unicode whitespace (newlines, tabs, NBSP...) becomes one space; stripped."""
    return " ".join(text.split())


def clean_text(text: str) -> str:
    """NFC-normalise and collapse whitespace: the form every stored string takes, except
    the abstract (:func:`clean_paragraphs`)."""
    return collapse_whitespace(unicodedata.normalize("NFC", text))


_LINE_END = re.compile(r"\r\n?")
_PARAGRAPH_BREAK = re.compile(r"\n(?=\s)")
"""A line break followed by whitespace (an indented line, or a blank line)."""


def clean_paragraphs(text: str) -> str:
    """An abstract as paragraphs: each NFC-normalised and collapsed, joined by one ``\\n``.

    arXiv's rule (https://info.arxiv.org/help/prep.html#abstracts): a line break is
    dropped unless the next line starts with white space, which marks a new paragraph.
    Both API formats follow it (``tests/data/real``): the legacy format hard-wraps
    abstracts at about 80 columns with bare ``\\n`` and starts each paragraph with
    ``\\n`` plus two spaces; the current format writes each paragraph on one line and
    separates them the same way, ``\\n`` plus two spaces. So a bare ``\\n`` is a hard
    wrap and becomes a space; ``\\n`` followed by white space ends a paragraph. Blank
    paragraphs are dropped.

    The result is a stored form, not an input form: its bare ``\\n`` would read as a
    hard wrap if cleaned again. ``clean_text`` of the result equals ``clean_text`` of
    ``text``: only line structure differs from the one-line form.
    """
    unix = _LINE_END.sub("\n", unicodedata.normalize("NFC", text))
    paragraphs = (collapse_whitespace(part) for part in _PARAGRAPH_BREAK.split(unix))
    return "\n".join(part for part in paragraphs if part)


def _clean_optional(text: str | None) -> str | None:
    """``clean_text``, with ``None`` for a missing or blank value."""
    if text is None:
        return None
    return clean_text(text) or None


_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)\s*", re.IGNORECASE)


def clean_doi(doi: str | None) -> str | None:
    """A bare DOI (``10.1103/...``): cleaned, without a ``https://doi.org/`` or ``doi:`` prefix."""
    text = _clean_optional(doi)
    if text is None:
        return None
    return _DOI_PREFIX.sub("", text, count=1) or None


def to_utc(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


_WITHDRAWN_NEAR_START = 6
"""``withdrawn`` among this many first words of a comment marks a withdrawal."""

_WORD = re.compile(r"\w+")
_HAS_BEEN_WITHDRAWN = re.compile(r"\bhas\s+been\s+withdrawn\b")


def is_withdrawal_comment(comment: str | None) -> bool:
    """Whether an arXiv comment announces a withdrawal (the API has no withdrawn flag).

    The rule, case-insensitive: the word ``withdrawn`` is among the first six words
    ("Paper withdrawn", "Withdrawn due to an error", "This paper has been withdrawn
    by arXiv administrators"), or the phrase "has been withdrawn" appears anywhere
    ("12 pages; this paper has been withdrawn"). Other forms of the verb do not count:
    "we withdraw our earlier claim", "withdrawal rates". A comment that reports some
    *other* work "has been withdrawn" is a known, rare false positive.
    See https://info.arxiv.org/help/withdraw.html.
    """
    if not comment:
        return False
    text = clean_text(comment).casefold()
    first_words = itertools.islice(_WORD.finditer(text), _WITHDRAWN_NEAR_START)
    if any(word[0] == "withdrawn" for word in first_words):
        return True
    return _HAS_BEEN_WITHDRAWN.search(text) is not None


# --- entries ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FieldLimits:
    """Bounds on every stored value (characters, or counts for ``authors`` and
    ``categories``, or the highest ``version``).

    An entry beyond any bound is refused with its reason, never truncated (a silently
    shortened title would be stored as if arXiv had written it), and refused *before* it
    reaches the database, so SQLite and PostgreSQL give the same result. Each bound is
    far above what arXiv's real data holds (the longest real identifiers have 16
    characters, categories 18, and papers a few dozen versions), and within what the
    schema stores (``String(64)`` ids and primary categories, 32-bit versions).
    """

    arxiv_id: int = 64
    version: int = 9999
    category: int = 64
    title: int = 1000
    summary: int = 10_000
    author_name: int = 300
    authors: int = 3000
    comment: int = 2000
    categories: int = 50
    journal_ref: int = 1000
    doi: int = 300


DEFAULT_LIMITS = FieldLimits()


def normalise_entry(entry: RawEntry, *, limits: FieldLimits = DEFAULT_LIMITS) -> Paper:
    """Make a canonical :class:`Paper` of a feed entry, or raise :class:`InvalidEntryError`.

    Refused: an id that does not parse or has no ``vN``, an empty title, no author
    with a name, a field over ``limits``, a ``published`` year before 1991. A
    ``published`` later than ``updated`` is accepted: arXiv produces that.
    """
    arxiv_id, version = _entry_id(entry.entry_id, limits)
    title = _bounded(entry, "title", clean_text(entry.title), limits.title)
    if not title:
        raise InvalidEntryError(entry.entry_id, "the title is empty")
    primary, categories = _categories(entry, limits)
    comment = _bounded(entry, "comment", _clean_optional(entry.comment), limits.comment)
    return Paper(
        arxiv_id=arxiv_id,
        version=version,
        title=title,
        summary=_bounded(entry, "summary", clean_paragraphs(entry.summary), limits.summary),
        published=_published(entry),
        updated=to_utc(entry.updated),
        authors=_authors(entry, limits),
        primary_category=primary,
        categories=categories,
        comment=comment,
        journal_ref=_bounded(
            entry, "journal_ref", _clean_optional(entry.journal_ref), limits.journal_ref
        ),
        doi=_bounded(entry, "doi", clean_doi(entry.doi), limits.doi),
        withdrawn=is_withdrawal_comment(comment),
    )


def _entry_id(entry_id: str, limits: FieldLimits) -> tuple[str, int]:
    """The canonical id and the version of an entry, which must carry ``vN``."""
    try:
        arxiv_id, version = parse_arxiv_id(entry_id)
    except InvalidIdentifierError as exc:
        raise InvalidEntryError(entry_id, f"bad id: {exc.problem}") from exc
    if version is None:
        raise InvalidEntryError(entry_id, "the id has no version (vN)")
    if len(arxiv_id) > limits.arxiv_id:
        problem = f"the id has {len(arxiv_id)} characters, more than the limit of {limits.arxiv_id}"
        raise InvalidEntryError(entry_id, problem)
    if version > limits.version:
        raise InvalidEntryError(
            entry_id, f"version {version} is over the limit of {limits.version}"
        )
    return arxiv_id, version


def _bounded(entry: RawEntry, field: str, value: _S, limit: int) -> _S:
    """``value`` unchanged, unless it is longer than ``limit`` characters."""
    if value is not None and len(value) > limit:
        problem = f"{field} has {len(value)} characters, more than the limit of {limit}"
        raise InvalidEntryError(entry.entry_id, problem)
    return value


def _published(entry: RawEntry) -> datetime:
    published = to_utc(entry.published)
    if published.year < FIRST_ARXIV_YEAR:
        problem = f"published {published.isoformat()} is before arXiv opened in 1991"
        raise InvalidEntryError(entry.entry_id, problem)
    return published


def _authors(entry: RawEntry, limits: FieldLimits) -> tuple[Author, ...]:
    """Cleaned authors in paper order; nameless ones dropped, at least one required."""
    if len(entry.authors) > limits.authors:
        problem = f"{len(entry.authors)} authors, more than the limit of {limits.authors}"
        raise InvalidEntryError(entry.entry_id, problem)
    authors = tuple(author for author in map(_author, entry.authors) if author.name)
    if not authors:
        raise InvalidEntryError(entry.entry_id, "no author with a non-empty name")
    for author in authors:
        _bounded(entry, "an author name", author.name, limits.author_name)
    return authors


def _author(raw: Author) -> Author:
    affiliations = tuple(a for a in map(clean_text, raw.affiliations) if a)
    return Author(name=clean_text(raw.name), affiliations=affiliations)


def _categories(entry: RawEntry, limits: FieldLimits) -> tuple[str, tuple[str, ...]]:
    """The primary category and the deduplicated categories, primary first.

    A missing primary falls back to the first listed category.
    """
    listed = [c for c in map(clean_text, entry.categories) if c]
    primary = clean_text(entry.primary_category) or (listed[0] if listed else "")
    if not primary:
        raise InvalidEntryError(entry.entry_id, "no primary category")
    categories = tuple(dict.fromkeys([primary, *listed]))
    for category in categories:
        _bounded(entry, "a category", category, limits.category)
    if len(categories) > limits.categories:
        problem = f"{len(categories)} categories, more than the limit of {limits.categories}"
        raise InvalidEntryError(entry.entry_id, problem)
    return primary, categories


# --- change detection ---------------------------------------------------------------


def paper_fingerprint_fields(p: Paper) -> dict[str, object]:
    """The metadata whose change is a ``metadata_changed`` event, in comparable form.

    Keys: title, summary, doi, journal_ref, categories (tuple), authors (tuple of
    names). Comments are left out: they change with every revision note.

    Every value goes through :func:`clean_text`, the summary included: the paper keeps
    its paragraphs (:func:`clean_paragraphs`), but its fingerprint compares the words
    only. Fingerprints stored before paragraphs were kept hold one-line summaries; a
    paragraph-aware comparison would report every abstract with paragraphs as
    changed on the first harvest after the upgrade, though arXiv changed nothing. The
    price: a change of paragraph breaks alone is no event (the stored row still
    follows it, see :mod:`harvester.store.papers`).
    """
    return {
        "title": clean_text(p.title),
        "summary": clean_text(p.summary),
        "doi": _clean_optional(p.doi),
        "journal_ref": _clean_optional(p.journal_ref),
        "categories": tuple(clean_text(c) for c in p.categories),
        "authors": tuple(clean_text(a.name) for a in p.authors),
    }


_ABSENT = object()


def diff_metadata(old: Mapping[str, object], new: Mapping[str, object]) -> list[str]:
    """Names of the fields that differ (a key missing on one side differs), sorted.

    Lists and tuples compare equal element-wise, so a fingerprint read back from
    JSON compares with a fresh one.
    """
    keys = old.keys() | new.keys()
    return sorted(
        k for k in keys if _comparable(old.get(k, _ABSENT)) != _comparable(new.get(k, _ABSENT))
    )


def _comparable(value: object) -> object:
    return tuple(value) if isinstance(value, list) else value
