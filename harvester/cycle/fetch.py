"""What one query asks arXiv: the group's search, then, on a full harvest, each author's
papers listed by id (``include_ids``, an identifier feed) that the search did not return,
in bounded chunks. The answer says which authors it is not complete for, and why (an
entry refused that may be theirs, a later page that failed for good, their listed papers
not fetched): :class:`Answer`. Nothing here writes; :mod:`.query` decides and records.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..batching import MAX_GROUP_RESULTS, Group, id_chunks, may_concern
from ..config import AuthorSettings
from ..errors import EntriesRefusedError, FetchError, QueryRejectedError
from ..logformat import SHOWN_ITEMS, cut
from ..normalise import normalise_entry
from ..plans import Shortfall
from ..records import Paper
from ..source import ArxivSource
from ..vocabulary import RunStatus

logger = logging.getLogger(__name__)

LISTED_HINT = (
    "arXiv refused a request for the papers listed by id: check the author's include_ids"
    " and its identifier feed"
)
"""What to check when a request by id is refused (not the names, as for a query)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What a query brought back: every valid paper, and the authors it is not complete
    for, with why (an entry refused that may be theirs; their feed's papers not fetched)."""

    papers: list[Paper]
    shortfalls: dict[str, FetchError] = field(default_factory=dict)

    def shortfall(self, key: str) -> Shortfall | None:
        exc = self.shortfalls.get(key)
        if exc is None:
            return None
        status = RunStatus.INCOMPLETE if exc.temporary else RunStatus.FAILED
        refused = len(exc.refused) if isinstance(exc, EntriesRefusedError) else 0
        return Shortfall(status, str(exc)[:2000], refused)


def fetch(
    source: ArxivSource, group: Group, claimed: dict[str, frozenset[str]] | None = None
) -> Answer:
    """The group's query; a full harvest adds the ``include_ids`` and the papers of the
    authors' identifier feeds that the query did not return (:func:`_fetch_listed`).
    Entries refused make the answer incomplete for the authors they may belong to; the
    valid papers are kept.

    An incremental harvest leaves those to the full ones: they were fetched by the last
    one, and an incremental harvest never takes a paper away.
    """
    max_total = MAX_GROUP_RESULTS if len(group.authors) > 1 else None
    since = None if group.full else group.since
    shortfalls: dict[str, FetchError] = {}
    try:
        papers = source.search(
            group.query, normalise_entry, since=since, max_total=max_total
        ).papers
    except EntriesRefusedError as exc:
        _log_refused(group, exc)
        papers = list(exc.papers)
        shortfalls = {a.key: exc for a in group.authors if _touched(a, exc)}
    if group.full:
        papers += _fetch_listed(
            source, group, claimed or {}, {p.arxiv_id for p in papers}, shortfalls
        )
    return Answer(papers, shortfalls)


def _fetch_listed(
    source: ArxivSource,
    group: Group,
    claimed: Mapping[str, frozenset[str]],
    have: set[str],
    shortfalls: dict[str, FetchError],
) -> list[Paper]:
    """Each author's ``include_ids`` and feed papers not in ``have``, asked by id in
    bounded chunks (:func:`harvester.batching.id_chunks`: a feed of 10,000 papers is not
    one 10,000-id request). A failure concerns that author alone: it goes to
    ``shortfalls``, and the next author is asked for its own ids."""
    found: list[Paper] = []
    lost: dict[str, FetchError] = {}  # ids asked for and not received, and why
    for author in group.authors:
        listed = list(dict.fromkeys((*author.include_ids, *sorted(claimed.get(author.key, ())))))
        wanted = [i for i in listed if i not in have and i not in lost]
        for chunk in id_chunks(wanted, source.settings.page_size):
            try:
                fetched = _fetch_ids(source, chunk, author.key)
            except FetchError as exc:
                lost.update((i, exc) for i in wanted[wanted.index(chunk[0]) :])
                break
            found += fetched.papers
            have.update(p.arxiv_id for p in fetched.papers)
            if fetched.problem is not None:
                lost.update((i, fetched.problem) for i in chunk if i not in have)
        problem = next((lost[i] for i in listed if i in lost), None)
        if problem is not None:
            shortfalls.setdefault(author.key, problem)
    return found


@dataclass(frozen=True, slots=True)
class _Fetched:
    papers: Sequence[Paper]
    problem: EntriesRefusedError | None = None


def _fetch_ids(source: ArxivSource, ids: list[str], key: str) -> _Fetched:
    """One chunk of ids; refused entries keep the valid papers (and say so)."""
    try:
        return _Fetched(source.search_ids(ids, normalise_entry).papers)
    except EntriesRefusedError as exc:
        for entry_id, reason in exc.refused[:SHOWN_ITEMS]:
            logger.warning("%s: refused entry %s: %s", key, cut(entry_id), reason)
        return _Fetched(exc.papers, exc)
    except QueryRejectedError as exc:  # not the author's names: the ids it lists
        logger.warning("%s: papers listed by id not fetched: %s", key, exc.message)
        raise QueryRejectedError(exc.message, url=exc.url, hint=LISTED_HINT) from exc
    except FetchError as exc:
        logger.warning("%s: papers listed by id not fetched: %s", key, exc.message)
        raise


def _log_refused(group: Group, exc: EntriesRefusedError) -> None:
    """One line per refused entry, the first few only; then how many more."""
    keys = ", ".join(group.keys)
    for entry_id, reason in exc.refused[:SHOWN_ITEMS]:
        logger.warning("%s: refused entry %s: %s", keys, cut(entry_id), reason)
    if len(exc.refused) > SHOWN_ITEMS:
        logger.warning("%s: %d more entries refused", keys, len(exc.refused) - SHOWN_ITEMS)


def _touched(author: AuthorSettings, exc: EntriesRefusedError) -> bool:
    """May a refused entry be this author's? Then the harvest is not complete for them."""
    return any(may_concern(author, exc.authors.get(entry_id)) for entry_id, _ in exc.refused)
