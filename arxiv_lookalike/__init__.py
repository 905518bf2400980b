"""A local look-alike of the arXiv query API, for tests, benchmarks and ``harvest demo``.

It serves a JSON corpus at ``/api/query`` over real HTTP on 127.0.0.1, in the current
arXiv Atom format (or the legacy one), with arXiv's query language, paging, sorting and
limits, and with scriptable faults that reproduce the API's misbehaviour (see the
project's API reference and https://info.arxiv.org/help/api/user-manual.html)::

    from arxiv_lookalike import LookalikeServer, Status, later_pages, seed_corpus

    with LookalikeServer(seed_corpus()) as srv:
        srv.faults.add(Status(429), when=later_pages)
        ...  # point a client at srv.url

Modules: :mod:`.corpus` (the data), :mod:`.query` (the query language), :mod:`.search`
(parameters, selection, order), :mod:`.atom` (rendering), :mod:`.exchange` (request log
records, reply plans), :mod:`.faults` (a package), :mod:`.server`.
"""

from arxiv_lookalike.atom import EntryView, FeedPage, render_error, render_feed
from arxiv_lookalike.corpus import (
    Corpus,
    CorpusAuthor,
    CorpusError,
    CorpusPaper,
    seed_corpus,
)
from arxiv_lookalike.exchange import Headers, Reply, RequestRecord
from arxiv_lookalike.faults import (
    BadEntry,
    BillionLaughs,
    Chain,
    Drip,
    Duplicate,
    EmptyPage,
    Fault,
    FaultContext,
    FaultScript,
    Html200,
    Huge,
    LegacyError200,
    LegacyFormat,
    Raw,
    Redirect,
    Reorder,
    Reset,
    ScriptedFault,
    ShortPage,
    Stall,
    Status,
    TotalDrift,
    Trickle,
    Truncate,
    Xxe,
    first_page,
    later_pages,
)
from arxiv_lookalike.query import QueryError, parse_query
from arxiv_lookalike.search import ApiError, IndexedSearch, SearchRequest, run_search
from arxiv_lookalike.server import LookalikeServer

__all__ = [
    "ApiError",
    "BadEntry",
    "BillionLaughs",
    "Chain",
    "Corpus",
    "CorpusAuthor",
    "CorpusError",
    "CorpusPaper",
    "Drip",
    "Duplicate",
    "EmptyPage",
    "EntryView",
    "Fault",
    "FaultContext",
    "FaultScript",
    "FeedPage",
    "Headers",
    "Html200",
    "Huge",
    "IndexedSearch",
    "LegacyError200",
    "LegacyFormat",
    "LookalikeServer",
    "QueryError",
    "Raw",
    "Redirect",
    "Reorder",
    "Reply",
    "RequestRecord",
    "Reset",
    "ScriptedFault",
    "SearchRequest",
    "ShortPage",
    "Stall",
    "Status",
    "TotalDrift",
    "Trickle",
    "Truncate",
    "Xxe",
    "first_page",
    "later_pages",
    "parse_query",
    "render_error",
    "render_feed",
    "run_search",
    "seed_corpus",
]
