"""The API's semantics, HTTP aside: validate parameters, select, sort and page (pure).

Limits follow the project's API reference: at most 2000 entries per request and 30000 per
query (HTTP 400 beyond), HTTP 500 from the current backend when ``start + max_results``
exceeds 10000 or when ``max_results`` is 0. See also the manual's paging section,
https://info.arxiv.org/help/api/user-manual.html#_start_and_max_results_paging.

Relevance is simulated: papers matching more leaves of the query come first, ties are
broken by a hash of (query, id), so the order is deterministic but *not* the date order,
just as paging by relevance on the real API should not be trusted to follow dates.

:func:`run_search` matches every paper; :class:`IndexedSearch`, which the server uses,
gives the same answers faster on big corpora (an index narrows the candidates, and the
pages of one query are searched once).
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from arxiv_lookalike.atom import FeedPage, entry_view
from arxiv_lookalike.corpus import Corpus, CorpusPaper, split_version
from arxiv_lookalike.query import (
    DateRange,
    Document,
    Group,
    Node,
    QueryError,
    Term,
    canonical,
    matches,
    parse_query,
    term_fields,
    wanted_id,
)
from arxiv_lookalike.query import score as query_score

__all__ = [
    "DEFAULT_MAX_RESULTS",
    "MAX_PAGE_SIZE",
    "MAX_QUERY_RESULTS",
    "SERVER_ERROR_OFFSET",
    "ApiError",
    "IndexedSearch",
    "SearchRequest",
    "SearchResult",
    "document",
    "run_search",
]

DEFAULT_MAX_RESULTS = 10
MAX_PAGE_SIZE = 2000
MAX_QUERY_RESULTS = 30000
SERVER_ERROR_OFFSET = 10000
SORT_BY = ("relevance", "lastUpdatedDate", "submittedDate")
SORT_ORDER = ("ascending", "descending")
_INTEGER = re.compile(r"-?\d+")


class ApiError(Exception):
    """A request the API refuses: ``status`` 400 gets an error feed, 500 a bare server error."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True, slots=True)
class SearchRequest:
    """Validated query parameters."""

    query: Node | None
    search_query: str
    id_list: tuple[tuple[str, int | None], ...]
    id_list_text: str
    start: int
    max_results: int
    sort_by: str = "relevance"
    sort_order: str = "descending"

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> SearchRequest:
        """Validate ``params`` in the order the API does; raises :class:`ApiError`."""
        start = _integer(params, "start", 0)
        max_results = _integer(params, "max_results", DEFAULT_MAX_RESULTS)
        _check_limits(start, max_results)
        sort_by = _choice(params, "sortBy", SORT_BY, "relevance")
        sort_order = _choice(params, "sortOrder", SORT_ORDER, "descending")
        id_list_text = params.get("id_list", "")
        ids = _parse_id_list(id_list_text)
        try:
            query = parse_query(params.get("search_query", ""))
        except QueryError as exc:
            raise ApiError(exc.message) from exc
        return cls(
            query, canonical(query), ids, id_list_text, start, max_results, sort_by, sort_order
        )

    def echo(self, total_results: int = 0) -> FeedPage:
        """A page without entries echoing this request (for error feeds and headers)."""
        return FeedPage(
            self.search_query, self.id_list_text, self.start, self.max_results, total_results
        )


def _integer(params: Mapping[str, str], name: str, default: int) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    if not _INTEGER.fullmatch(text):
        raise ApiError(f"{name} must be an integer")
    return int(text)


def _check_limits(start: int, max_results: int) -> None:
    if start < 0:
        raise ApiError("start must be non-negative")
    if max_results < 0:
        raise ApiError("max_results must be non-negative")
    if max_results > MAX_PAGE_SIZE:
        raise ApiError(f"max_results must be less than or equal to {MAX_PAGE_SIZE}")
    if start + max_results > MAX_QUERY_RESULTS:
        raise ApiError(f"start + max_results must be less than or equal to {MAX_QUERY_RESULTS}")
    if start + max_results > SERVER_ERROR_OFFSET or max_results == 0:
        raise ApiError("Internal Server Error", status=500)


def _choice(params: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = params.get(name) or default
    if value not in allowed:
        raise ApiError(f"{name} must be in: {', '.join(allowed)}")
    return value


def _parse_id_list(text: str) -> tuple[tuple[str, int | None], ...]:
    ids: dict[str, tuple[str, int | None]] = {}
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        try:
            parsed = split_version(raw)
        except ValueError as exc:
            raise ApiError(str(exc)) from None
        ids.setdefault(raw, parsed)
    return tuple(ids.values())


@functools.lru_cache(maxsize=65536)
def document(paper: CorpusPaper) -> Document:
    """The folded view of ``paper`` the query matcher needs (cached per paper value)."""
    return Document.build(
        arxiv_id=paper.arxiv_id,
        texts={
            "ti": paper.title,
            "au": ", ".join(author.name for author in paper.authors),
            "abs": paper.summary,
            "co": paper.comment or "",
            "jr": paper.journal_ref or "",
            "rn": "",
        },
        categories=paper.categories,
        published=paper.published,
        updated=paper.updated,
    )


@dataclass(frozen=True, slots=True)
class SearchResult:
    """Every match in result order; ``versions`` holds the version asked for in id_list."""

    request: SearchRequest
    papers: tuple[CorpusPaper, ...]
    versions: tuple[int | None, ...]

    @property
    def total_results(self) -> int:
        return len(self.papers)

    def page(self) -> FeedPage:
        """The requested page (``start`` .. ``start + max_results``) as a feed page."""
        request = self.request
        window = slice(request.start, request.start + request.max_results)
        entries = tuple(
            entry_view(paper, version)
            for paper, version in zip(self.papers[window], self.versions[window], strict=True)
        )
        return FeedPage(
            request.search_query,
            request.id_list_text,
            request.start,
            request.max_results,
            self.total_results,
            entries,
        )


def run_search(papers: Sequence[CorpusPaper], request: SearchRequest) -> SearchResult:
    """Select and order ``papers`` for ``request``.

    With an id_list, results keep the id_list order (unless sorted by a date), unknown ids
    and versions beyond the latest are dropped silently, and a search_query intersects.
    With neither, nothing matches.
    """
    if request.id_list:
        chosen = _by_id_list(papers, request)
        if request.sort_by == "relevance":
            return SearchResult(request, tuple(p for p, _ in chosen), tuple(v for _, v in chosen))
    elif request.query is None:
        chosen = []
    else:
        chosen = [(paper, None) for paper in papers if matches(request.query, document(paper))]
    return _ordered(request, chosen)


def _ordered(request: SearchRequest, chosen: list[tuple[CorpusPaper, int | None]]) -> SearchResult:
    chosen.sort(key=_sort_key(request), reverse=request.sort_order == "descending")
    return SearchResult(request, tuple(p for p, _ in chosen), tuple(v for _, v in chosen))


def _by_id_list(
    papers: Sequence[CorpusPaper], request: SearchRequest
) -> list[tuple[CorpusPaper, int | None]]:
    by_id = {paper.arxiv_id: paper for paper in papers}
    chosen = []
    for arxiv_id, version in request.id_list:
        paper = by_id.get(arxiv_id)
        if paper is None or (version is not None and version > paper.version):
            continue
        if matches(request.query, document(paper)):
            chosen.append((paper, version))
    return chosen


def _sort_key(request: SearchRequest) -> functools.partial[tuple[object, ...]]:
    return functools.partial(_key, request.sort_by, request.query, request.search_query)


def _key(
    sort_by: str, query: Node | None, text: str, item: tuple[CorpusPaper, int | None]
) -> tuple[object, ...]:
    paper = item[0]
    if sort_by == "submittedDate":
        return (paper.published, paper.arxiv_id)
    if sort_by == "lastUpdatedDate":
        return (paper.updated, paper.arxiv_id)
    shuffle = hashlib.sha1(f"{text}|{paper.arxiv_id}".encode(), usedforsecurity=False).digest()
    return (query_score(query, document(paper)), shuffle, paper.arxiv_id)


# --- the same search, indexed ---------------------------------------------------------


class IndexedSearch:
    """:func:`run_search` over a live :class:`Corpus`: the same answers, far less work.

    The plain search matches every paper against the query on every request: a harvester's
    grouped query (a hundred ORed ``au:`` phrases) over 20,000 papers took 7 s a page. So,
    for each version of the corpus (:attr:`Corpus.version`; any change starts afresh):

    * an inverted index, built lazily field by field, from folded tokens, categories and
      ids to papers narrows the candidates (:class:`_Index`), and the exact matcher then
      runs on those alone;
    * the last ``cache_size`` full results are kept, keyed on the canonical query and the
      sort, so the pages of one query are searched once.

    Thread-safe: one search at a time.
    """

    def __init__(self, cache_size: int = 8) -> None:
        self.cache_size = cache_size
        self._lock = threading.Lock()
        self._corpus: Corpus | None = None
        self._index = _Index(-1, ())
        self._results: OrderedDict[tuple[str, str, str], SearchResult] = OrderedDict()

    def __call__(self, corpus: Corpus, request: SearchRequest) -> SearchResult:
        if request.id_list or request.query is None:
            return run_search(corpus.papers(), request)
        key = (request.search_query, request.sort_by, request.sort_order)
        with self._lock:
            self._refresh(corpus)
            found = self._results.get(key)
            if found is None:
                found = self._index.search(request)
            self._results[key] = found
            self._results.move_to_end(key)
            while len(self._results) > self.cache_size:
                self._results.popitem(last=False)
        return SearchResult(request, found.papers, found.versions)

    def _refresh(self, corpus: Corpus) -> None:
        """Drop the index and the results when ``corpus`` is another one or has changed."""
        if corpus is self._corpus and corpus.version == self._index.version:
            return
        version, papers = corpus.snapshot()
        self._corpus, self._index = corpus, _Index(version, papers)
        self._results.clear()


class _Index:
    """Lookups into one snapshot of the corpus, and the query evaluated as sets of papers.

    A term can only match a paper whose field holds every token of the term, so only the
    papers holding its rarest token are matched against it; ``cat:`` and ``id:`` terms
    look their values up. :meth:`select` combines the terms' matches the way
    :func:`~arxiv_lookalike.query.matches` combines truth values, so each leaf runs on
    its own few candidates instead of the whole query on every paper.
    """

    def __init__(self, version: int, papers: tuple[CorpusPaper, ...]) -> None:
        self.version = version
        self.papers = papers
        self._tokens: dict[str, dict[str, list[int]]] = {}
        self._values: dict[str, dict[str, list[int]]] = {}

    def search(self, request: SearchRequest) -> SearchResult:
        found = sorted(self.select(request.query, None))
        return _ordered(request, [(self.papers[i], None) for i in found])

    def select(self, node: Node | None, within: set[int] | None) -> set[int]:
        """Positions of the papers matching ``node``, among ``within`` (``None``: all)."""
        if node is None:
            return set(range(len(self.papers))) if within is None else within
        if isinstance(node, Group):
            return self.select(node.inner, within)
        if isinstance(node, Term | DateRange):
            candidates = self._candidates(node)
            if within is not None:
                candidates = within if candidates is None else candidates & within
            return self._matching(node, candidates)
        left = self.select(node.left, within)
        if node.op == "OR":
            return left | self.select(node.right, within)
        if node.op == "AND":
            return self.select(node.right, left)
        return left - self.select(node.right, left)

    def _matching(self, leaf: Term | DateRange, candidates: set[int] | None) -> set[int]:
        """The exact matcher on ``candidates`` (``None``: every paper)."""
        positions = range(len(self.papers)) if candidates is None else candidates
        return {i for i in positions if matches(leaf, document(self.papers[i]))}

    def _candidates(self, leaf: Term | DateRange) -> set[int] | None:
        """A superset of the papers matching ``leaf`` (``None``: not narrowed, date ranges)."""
        return self._term(leaf) if isinstance(leaf, Term) else None

    def _term(self, term: Term) -> set[int]:
        if term.field == "id":
            return set(self._lookup("id").get(wanted_id(term), ()))
        if term.field == "cat":
            return self._categories(term.text.casefold())
        found: set[int] = set()
        for field in term_fields(term):
            found.update(self._rarest(field, term.tokens))
        return found

    def _rarest(self, field: str, tokens: tuple[str, ...]) -> list[int]:
        """The papers holding the rarest of ``tokens`` in ``field`` (none for no tokens)."""
        postings = self._postings(field)
        return min((postings.get(token, []) for token in tokens), key=len, default=[])

    def _categories(self, wanted: str) -> set[int]:
        by_category = self._lookup("cat")
        if not wanted.endswith("*"):
            return set(by_category.get(wanted, ()))
        prefix = wanted[:-1]
        found: set[int] = set()
        for category, positions in by_category.items():
            if category.startswith(prefix):
                found.update(positions)
        return found

    def _postings(self, field: str) -> dict[str, list[int]]:
        """Folded token → papers holding it in ``field`` (built on first use)."""
        if field not in self._tokens:
            postings: defaultdict[str, list[int]] = defaultdict(list)
            for position, paper in enumerate(self.papers):
                for token in dict.fromkeys(document(paper).tokens.get(field, ())):
                    postings[token].append(position)
            self._tokens[field] = dict(postings)
        return self._tokens[field]

    def _lookup(self, kind: str) -> dict[str, list[int]]:
        """Folded id (``kind="id"``) or category (``"cat"``) → papers (built on first use)."""
        if kind not in self._values:
            values: defaultdict[str, list[int]] = defaultdict(list)
            for position, paper in enumerate(self.papers):
                doc = document(paper)
                for value in (doc.arxiv_id,) if kind == "id" else doc.categories:
                    values[value].append(position)
            self._values[kind] = dict(values)
        return self._values[kind]
