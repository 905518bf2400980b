"""The arXiv boundary: the only package that imports ``arxiv`` or ``requests``; the search
API (:class:`ArxivSource`) and OAI-PMH (:class:`OaiClient`) share its transport."""

from ..pacer import Pacer
from .api import ArxivSource, Page, SearchResult, Validator
from .authors import AuthorFeed
from .breaker import CircuitBreaker
from .oai import OaiClient, WindowReport
from .orcid import OrcidRecords
from .snapshot import snapshot_lines, snapshot_paper
from .transport import parse_retry_after

__all__ = [
    "ArxivSource",
    "AuthorFeed",
    "CircuitBreaker",
    "OaiClient",
    "OrcidRecords",
    "Pacer",
    "Page",
    "SearchResult",
    "Validator",
    "WindowReport",
    "parse_retry_after",
    "snapshot_lines",
    "snapshot_paper",
]
