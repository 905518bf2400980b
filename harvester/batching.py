"""Which authors share a query, how far back it pages, and whose turn it is for a full one.

A cycle asks arXiv as little as it can while keeping every profile exactly as true:

- **Groups.** Authors identified by names (no explicit ``query``) share one query: every
  name of every author in the group as a quoted ``au:`` phrase, ORed, for as long as the
  URL-encoded ``search_query`` stays within ``[harvest] group_query_chars`` (default 4000,
  which keeps the whole request URL well under the 8 KB many HTTP servers accept). An
  author with an explicit ``query`` is asked alone. ``group_query_chars = 0`` asks every
  author alone.
- **Attribution.** A group's answer is split locally: a returned paper is *in scope* for an
  author when it is what that author's own query would have returned (:func:`in_scope`: one
  of the author's names as a contiguous run of words in the paper's author list, the way
  ``au:"..."`` matches), and the matcher then accepts or rejects it as before. So the
  papers, the rejections and their reasons are the ones a query per author would give.
- **Incremental or full.** A *full* harvest pages through everything and is the only kind
  that may record a paper as ``missing``. An *incremental* one, sorted by last update,
  newest first, stops once a page reaches the group's oldest ``watermark - overlap_days``:
  it sees every new paper, new version and withdrawal since (each moves ``updated``), but
  not a DOI or journal reference added without a new version. So every author also gets a
  full harvest when it has none yet (or its identity changed), when ``harvest --once
  --full`` asks, and on a schedule (:func:`full_due`): once every ``full_every_days``, on
  a day picked from a hash of the key so that each day reconciles a fraction of the
  authors.

Everything here is pure: no I/O, no clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode

from .config import AuthorSettings, HarvestSettings
from .names import fold_name
from .records import Paper
from .vocabulary import HarvestMode

FULL, INCREMENTAL = HarvestMode.FULL, HarvestMode.INCREMENTAL

MAX_GROUP_RESULTS = 9000
"""A full group answer larger than this is split: the API fails past 10,000 results."""
ID_LIST_CHARS = 4000
"""A request by id names at most this many characters of ids (URL-encoded, commas
included): like a shared query, the request URL stays well under the 8 KB many HTTP servers
accept (one GET with 10,000 ids is a 414)."""


@dataclass(frozen=True, slots=True)
class AuthorState:
    """What the store knows of an author's harvests (see :class:`harvester.store.Store`)."""

    key: str
    watermark: datetime | None = None
    last_full_at: datetime | None = None
    identity: str | None = None


@dataclass(frozen=True, slots=True)
class Group:
    """Authors asked in one query, and how far back it pages (``since``; None: all)."""

    authors: tuple[AuthorSettings, ...]
    mode: HarvestMode
    since: datetime | None = None

    @property
    def full(self) -> bool:
        return self.mode == FULL

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(a.key for a in self.authors)

    @property
    def query(self) -> str:
        return group_query(self.authors)

    def only(self, keys: Sequence[str]) -> Group:
        """The same group narrowed to ``keys`` (the authors whose leases were won)."""
        return Group(tuple(a for a in self.authors if a.key in keys), self.mode, self.since)

    def as_full(self) -> Group:
        """The same authors, harvested in full."""
        return Group(self.authors, FULL)

    def halves(self) -> tuple[Group, Group]:
        middle = len(self.authors) // 2
        return (
            Group(self.authors[:middle], self.mode, self.since),
            Group(self.authors[middle:], self.mode, self.since),
        )


def build_query(author: AuthorSettings) -> str:
    """The author's own query: the explicit one, else every name as an ``au:`` phrase
    (:func:`names_query`)."""
    if author.query is not None:
        return author.query
    return names_query(author.names)


def names_query(names: Iterable[str]) -> str:
    """The one place an author query is written: each name as a quoted ``au:`` phrase,
    ORed and parenthesised (shared queries join several authors' names the same way)."""
    return "(" + " OR ".join(f'au:"{name}"' for name in names) + ")"


def group_query(authors: Sequence[AuthorSettings]) -> str:
    """One author's own query; for several, every name as an ``au:`` phrase, ORed."""
    if len(authors) == 1:
        return build_query(authors[0])
    return names_query(dict.fromkeys(name for a in authors for name in a.names))


def encoded_length(query: str) -> int:
    """Characters ``query`` takes in the request URL, as the ``arxiv`` package encodes it."""
    return len(urlencode({"search_query": query})) - len("search_query=")


def mode_of(
    author: AuthorSettings, state: AuthorState, settings: HarvestSettings, now: datetime, full: bool
) -> HarvestMode:
    """Whether this cycle harvests ``author`` fully or incrementally."""
    if full or state.watermark is None or state.identity != author.identity_fingerprint:
        return FULL
    due = full_due(author.key, now, state.last_full_at, settings.full_every_days)
    return FULL if due else INCREMENTAL


def full_due(key: str, now: datetime, last_full_at: datetime | None, every_days: int) -> bool:
    """Is a scheduled full reconciliation due?

    Counted in UTC calendar days, so the time of day a cycle happens to run does not
    matter: on the author's own day of the ``every_days`` cycle (:func:`full_day`) if the
    last full harvest was on an earlier day; on any day once ``every_days + 1`` days have
    passed (the author's day was missed: the harvester was not running).
    """
    if last_full_at is None:
        return True
    days = (now.date() - last_full_at.astimezone(now.tzinfo).date()).days
    if days >= every_days + 1:
        return True
    return days >= 1 and now.date().toordinal() % every_days == full_day(key, every_days)


def full_day(key: str, every_days: int) -> int:
    """The author's day (0 .. every_days-1) for scheduled full harvests: a stable hash."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") % every_days


def plan_groups(
    authors: Sequence[AuthorSettings],
    states: dict[str, AuthorState],
    settings: HarvestSettings,
    now: datetime,
    *,
    full: bool = False,
) -> list[Group]:
    """The cycle's queries: full groups first, then incremental ones, authors in order."""
    by_mode: dict[HarvestMode, list[AuthorSettings]] = {FULL: [], INCREMENTAL: []}
    for author in authors:
        state = states.get(author.key, AuthorState(author.key))
        by_mode[mode_of(author, state, settings, now, full)].append(author)
    groups: list[Group] = []
    for mode, members in by_mode.items():
        for packed in pack(members, settings.group_query_chars):
            since = None
            if mode == INCREMENTAL:
                since = min(_since(states[a.key], settings) for a in packed)
            groups.append(Group(tuple(packed), mode, since))
    return groups


def _since(state: AuthorState, settings: HarvestSettings) -> datetime:
    """How far back an incremental harvest of this author pages."""
    assert state.watermark is not None, "an incremental author always has a watermark"
    return state.watermark - timedelta(days=settings.overlap_days)


def pack(authors: Sequence[AuthorSettings], budget: int) -> list[list[AuthorSettings]]:
    """Authors in order, packed into groups whose query stays within ``budget`` characters.

    An author with an explicit query, or whose own names exceed the budget, goes alone.
    """
    groups: list[list[AuthorSettings]] = []
    current: list[AuthorSettings] = []
    names: set[str] = set()
    length = _EMPTY_GROUP
    for author in authors:
        if author.query is not None or budget <= 0:
            groups.append([author])
            continue
        added = _added_length(author, names)
        if current and length + added > budget:
            groups.append(current)
            current, names, length = [], set(), _EMPTY_GROUP
            added = _added_length(author, names)
        current.append(author)
        names.update(author.names)
        length += added
    if current:
        groups.append(current)
    return groups


_OR_LENGTH = encoded_length(" OR ")
_EMPTY_GROUP = encoded_length("()") - _OR_LENGTH
"""A group's query is ``(`` + its distinct names' phrases joined by `` OR `` + ``)``, and
URL encoding maps each character on its own: its encoded length is :data:`_EMPTY_GROUP`
plus, for each distinct name, its phrase's and one separator's. So a group grows by
addition, not by encoding its whole query again for every author packed (:func:`pack`
at 2,000 authors: 2,000 short encodings instead of 150,000 names encoded)."""


def _added_length(author: AuthorSettings, names: set[str]) -> int:
    """What ``author``'s names not yet in ``names`` add to a group query's encoded length."""
    new = [name for name in dict.fromkeys(author.names) if name not in names]
    return sum(encoded_length(f'au:"{name}"') + _OR_LENGTH for name in new)


def attribute(
    authors: Sequence[AuthorSettings],
    papers: Sequence[Paper],
    claimed: Mapping[str, frozenset[str]] | None = None,
) -> dict[str, list[Paper]]:
    """Each author's share of a group's answer: what the author's own query would return.

    An explicit query is asked alone, so all it returns is in scope. Otherwise a paper is
    in scope when it is one of the ``include_ids``, in the author's identifier feed
    (``claimed``, by key), or one of the author's names, folded
    (:func:`~harvester.names.fold_name`), is a contiguous run of words in the paper's
    author list joined with ", ": how ``au:"..."`` matches, namesakes and all. Every
    paper the matcher can accept by name is in scope, since a whole author name is such
    a run.
    """
    shares: dict[str, list[Paper]] = {a.key: [] for a in authors}
    by_word: dict[str, list[tuple[str, str]]] = {}
    by_id: dict[str, set[str]] = {}
    for author in authors:
        if author.query is not None:
            shares[author.key] = list(papers)
            continue
        for phrase in _phrases(author):
            by_word.setdefault(_lead(phrase.split()), []).append((author.key, phrase))
        for arxiv_id in {*author.include_ids, *(claimed or {}).get(author.key, frozenset())}:
            by_id.setdefault(arxiv_id, set()).add(author.key)
    for paper in papers:
        for key in _in_scope(paper, by_word, by_id):
            shares[key].append(paper)
    return shares


def _in_scope(
    paper: Paper, by_word: Mapping[str, list[tuple[str, str]]], by_id: Mapping[str, set[str]]
) -> set[str]:
    """The keys of the authors in whose scope ``paper`` is: a phrase of theirs is in its
    author text (looked up by the phrase's first two words, :func:`_lead`, so the cost
    follows the paper's words, not the number of authors sharing a first name), or its id
    is listed for them."""
    text = _scope_text(a.name for a in paper.authors)
    keys = set(by_id.get(paper.arxiv_id, ()))
    words = text.split()
    leads = {*words, *(_lead(words[i : i + 2]) for i in range(len(words) - 1))}
    for lead in leads:
        keys.update(key for key, phrase in by_word.get(lead, ()) if phrase in text)
    return keys


def _lead(words: Sequence[str]) -> str:
    """A phrase's index key: its first two words (its one word, if one). A phrase is a
    contiguous run of the text's words, so its first two are adjacent words there."""
    return " ".join(words[:2])


def may_concern(author: AuthorSettings, names: Sequence[str] | None) -> bool:
    """Could a paper with these author ``names`` (None: unknown) be in ``author``'s share?
    The same rule as :func:`attribute`; an unknown list, or an explicit query, may."""
    if names is None or author.query is not None:
        return True
    text = _scope_text(names)
    return any(phrase in text for phrase in _phrases(author))


def _scope_text(names: Iterable[str]) -> str:
    return f" {fold_name(', '.join(names))} "


def _phrases(author: AuthorSettings) -> list[str]:
    return [f" {folded} " for folded in map(fold_name, author.names) if folded]


def id_chunks(ids: Sequence[str], most: int, chars: int = ID_LIST_CHARS) -> list[list[str]]:
    """``ids`` in order, in chunks of at most ``most`` ids (a page's worth: one request
    each) whose ``id_list`` takes at most ``chars`` characters in the URL. An id longer than
    that alone goes alone (ids are at most 64 characters: none is)."""
    chunks: list[list[str]] = []
    current: list[str] = []
    used = 0
    for arxiv_id in ids:
        size = encoded_length(arxiv_id) + (len("%2C") if current else 0)
        if current and (len(current) >= most or used + size > chars):
            chunks.append(current)
            current, used, size = [], 0, encoded_length(arxiv_id)
        current.append(arxiv_id)
        used += size
    if current:
        chunks.append(current)
    return chunks


def newest_update(papers: Sequence[Paper]) -> datetime | None:
    """The newest ``updated`` of ``papers``: what a complete harvest saw up to (a new
    paper's ``updated`` is its v1 date, so new papers and new versions both move it)."""
    return max((p.updated for p in papers), default=None)
