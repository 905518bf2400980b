"""The arXiv boundary: the only package that imports ``arxiv`` or ``requests``."""

from ..pacer import Pacer
from .api import ArxivSource, Page, SearchResult, Validator
from .authors import AuthorFeed
from .breaker import CircuitBreaker
from .orcid import OrcidRecords
from .transport import parse_retry_after

__all__ = [
    "ArxivSource",
    "AuthorFeed",
    "CircuitBreaker",
    "OrcidRecords",
    "Pacer",
    "Page",
    "SearchResult",
    "Validator",
    "parse_retry_after",
]
