"""The arXiv ``search_query`` language: parse a query once, then match documents (pure).

Follows the arXiv API User's Manual, "Details of Query Construction"
(https://info.arxiv.org/help/api/user-manual.html#query_details), as the current backend
(arXiv's search service, since late 2025) behaves:

* Field prefixes ``ti au abs co jr cat rn id all`` followed by ``:`` and a word or a
  double-quoted phrase; a word without a prefix searches ``all``.
* ``submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]`` (GMT, both ends inclusive to the minute)
  matches the v1 date; ``lastUpdatedDate:[...]`` matches the last-updated date. The loose
  legacy forms (``submittedDate:2007*``) are rejected.
* Operators ``AND``, ``OR``, ``ANDNOT`` (upper case only; ``and`` is an ordinary word).
  They all bind equally and associate to the left, so ``a OR b AND c`` means
  ``(a OR b) AND c``: the manual recommends parentheses, and so do we. Words with no
  operator between them are ORed.
* Matching is token based, never identity based: text is folded (NFKD, combining marks
  dropped, casefolded, every non-alphanumeric character a separator) and a word or phrase
  matches when its tokens occur as a contiguous run in the field's tokens. For ``au`` the
  field is every author name joined with ``", "``, so a phrase can span two adjacent
  authors: ``au:"Sham Kakade"`` matches the list "Priya Sham, Kakade Venkatesh". That is how
  namesakes come back from the real API. ``_`` is a separator too (``au:del_maestro``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, datetime, timedelta

__all__ = [
    "FIELDS",
    "BoolOp",
    "DateRange",
    "Document",
    "Group",
    "Node",
    "QueryError",
    "Term",
    "canonical",
    "contains_run",
    "fold",
    "matches",
    "parse_query",
    "score",
    "term_fields",
    "wanted_id",
]

FIELDS = ("ti", "au", "abs", "co", "jr", "cat", "rn", "id", "all")
"""Field prefixes of the query language."""

DATE_FIELDS = ("submittedDate", "lastUpdatedDate")
OPERATORS = ("AND", "OR", "ANDNOT")
_ALL_PARTS = ("ti", "abs", "au", "co", "cat")
_SEPARATORS = re.compile(r"[\W_]+")
_DATE_RANGE = re.compile(r"\[\s*(\d{12})\s+TO\s+(\d{12})\s*\]")
_WORD_END = re.compile(r'[\s()"]')
_VERSION = re.compile(r"v\d+$")


class QueryError(ValueError):
    """A malformed ``search_query``; ``message`` is what arXiv would answer with HTTP 400."""

    def __init__(self, query: str) -> None:
        self.message = f"Invalid query string: '{query}'"
        super().__init__(self.message)


def fold(text: str) -> tuple[str, ...]:
    """Tokens of ``text``: NFKD, combining marks dropped, casefolded, split on non-alphanumerics."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return tuple(_SEPARATORS.sub(" ", bare.casefold()).split())


def contains_run(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    """Whether ``needle`` occurs as a contiguous run in ``haystack`` (empty needle: never)."""
    size = len(needle)
    if size == 0:
        return False
    first = needle[0]
    return any(
        token == first and haystack[index : index + size] == needle
        for index, token in enumerate(haystack[: len(haystack) - size + 1])
    )


@dataclass(frozen=True, slots=True)
class Document:
    """What a query sees of one paper: folded tokens per field, categories and dates."""

    arxiv_id: str
    tokens: Mapping[str, tuple[str, ...]]
    categories: tuple[str, ...]
    published: datetime
    updated: datetime

    @classmethod
    def build(
        cls,
        *,
        arxiv_id: str,
        texts: Mapping[str, str],
        categories: tuple[str, ...],
        published: datetime,
        updated: datetime,
    ) -> Document:
        """Fold ``texts`` (keyed by field prefix; ``au`` already joined with ", ")."""
        tokens = {field: fold(text) for field, text in texts.items()}
        tokens["cat"] = fold(" ".join(categories))
        folded_categories = tuple(category.casefold() for category in categories)
        return cls(arxiv_id.casefold(), tokens, folded_categories, published, updated)


@dataclass(frozen=True, slots=True)
class Term:
    """``field:word`` or ``field:"a phrase"``; ``tokens`` is the folded text."""

    field: str
    text: str
    phrase: bool
    tokens: tuple[str, ...] = dataclass_field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", fold(self.text))


@dataclass(frozen=True, slots=True)
class DateRange:
    """``submittedDate:[A TO B]`` or ``lastUpdatedDate:[A TO B]``; ``last`` is inclusive."""

    field: str
    first: datetime
    last: datetime


@dataclass(frozen=True, slots=True)
class BoolOp:
    """``left OP right`` with ``op`` one of ``AND``, ``OR``, ``ANDNOT``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Group:
    """A parenthesised sub-query (kept so :func:`canonical` can write it back)."""

    inner: Node


Node = Term | DateRange | BoolOp | Group


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "(", ")", "op", "leaf"
    op: str = ""
    leaf: Term | DateRange | None = None


class _Lexer:
    """Splits a query into parentheses, operators and leaves (terms and date ranges)."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.pos = 0
        self.tokens: list[_Token] = []

    def error(self) -> QueryError:
        return QueryError(self.query)

    def run(self) -> list[_Token]:
        text = self.query
        while self.pos < len(text):
            char = text[self.pos]
            if char.isspace():
                self.pos += 1
            elif char in "()":
                self.tokens.append(_Token(char))
                self.pos += 1
            elif char == '"':
                self.tokens.append(_Token("leaf", leaf=Term("all", self.phrase(), True)))
            else:
                self.tokens.append(self.word())
        return self.tokens

    def phrase(self) -> str:
        end = self.query.find('"', self.pos + 1)
        if end < 0:
            raise self.error()
        text = self.query[self.pos + 1 : end]
        self.pos = end + 1
        if not text.strip():
            raise self.error()
        return text

    def word(self) -> _Token:
        found = _WORD_END.search(self.query, self.pos)
        end = found.start() if found else len(self.query)
        word = self.query[self.pos : end]
        self.pos = end
        if word in OPERATORS:
            return _Token("op", op=word)
        if ":" not in word:
            return _Token("leaf", leaf=Term("all", word, False))
        prefix, rest = word.split(":", 1)
        if prefix in DATE_FIELDS:
            self.pos -= len(rest)
            return _Token("leaf", leaf=self.date_range(prefix))
        if prefix not in FIELDS:
            raise self.error()
        if rest:
            return _Token("leaf", leaf=Term(prefix, rest, False))
        if self.pos < len(self.query) and self.query[self.pos] == '"':
            return _Token("leaf", leaf=Term(prefix, self.phrase(), True))
        raise self.error()

    def date_range(self, field: str) -> DateRange:
        found = _DATE_RANGE.match(self.query, self.pos)
        if found is None:
            raise self.error()
        self.pos = found.end()
        try:
            first, last = (
                datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=UTC)
                for stamp in found.groups()
            )
        except ValueError:
            raise self.error() from None
        if first > last:
            raise self.error()
        return DateRange(field, first, last + timedelta(seconds=59))


class _Parser:
    """Recursive descent over the lexer's tokens; see the module docstring for the grammar."""

    def __init__(self, query: str, tokens: list[_Token]) -> None:
        self.query = query
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise QueryError(self.query)
        self.index += 1
        return token

    def expression(self) -> Node:
        node = self.clause()
        while (token := self.peek()) is not None and token.kind != ")":
            if token.kind == "op":
                self.index += 1
                node = BoolOp(token.op, node, self.clause())
            else:
                node = BoolOp("OR", node, self.clause())
        return node

    def clause(self) -> Node:
        token = self.take()
        if token.kind == "leaf" and token.leaf is not None:
            return token.leaf
        if token.kind == "(":
            inner = self.expression()
            if self.take().kind != ")":
                raise QueryError(self.query)
            return Group(inner)
        raise QueryError(self.query)

    def whole(self) -> Node:
        node = self.expression()
        if self.peek() is not None:
            raise QueryError(self.query)
        return node


def parse_query(query: str) -> Node | None:
    """Parse ``query``; ``None`` for an empty one. Raises :class:`QueryError` when malformed."""
    tokens = _Lexer(query).run()
    if not tokens:
        return None
    return _Parser(query, tokens).whole()


def canonical(node: Node | None) -> str:
    """The query written back the way the feed title shows it (bare words get ``all:``)."""
    if node is None:
        return ""
    if isinstance(node, Term):
        return f'{node.field}:"{node.text}"' if node.phrase else f"{node.field}:{node.text}"
    if isinstance(node, DateRange):
        first = node.first.strftime("%Y%m%d%H%M")
        last = node.last.strftime("%Y%m%d%H%M")
        return f"{node.field}:[{first} TO {last}]"
    if isinstance(node, Group):
        return f"({canonical(node.inner)})"
    return f"{canonical(node.left)} {node.op} {canonical(node.right)}"


def term_fields(term: Term) -> tuple[str, ...]:
    """The token fields a text term (not ``id`` or ``cat``) is matched against."""
    return _ALL_PARTS if term.field == "all" else (term.field,)


def wanted_id(term: Term) -> str:
    """The folded, versionless id an ``id:`` term matches."""
    return _VERSION.sub("", term.text.casefold())


def _match_term(term: Term, doc: Document) -> bool:
    if term.field == "id":
        return wanted_id(term) == doc.arxiv_id
    if term.field == "cat":
        wanted = term.text.casefold()
        if wanted.endswith("*"):
            return any(category.startswith(wanted[:-1]) for category in doc.categories)
        return wanted in doc.categories
    needle = term.tokens
    return any(contains_run(doc.tokens.get(field, ()), needle) for field in term_fields(term))


def _match_dates(span: DateRange, doc: Document) -> bool:
    stamp = doc.published if span.field == "submittedDate" else doc.updated
    return span.first <= stamp <= span.last


_COMBINE: dict[str, Callable[[bool, Callable[[], bool]], bool]] = {
    "AND": lambda left, right: left and right(),
    "OR": lambda left, right: left or right(),
    "ANDNOT": lambda left, right: left and not right(),
}


def matches(node: Node | None, doc: Document) -> bool:
    """Whether ``doc`` satisfies the query (an empty query matches everything)."""
    if node is None:
        return True
    if isinstance(node, Term):
        return _match_term(node, doc)
    if isinstance(node, DateRange):
        return _match_dates(node, doc)
    if isinstance(node, Group):
        return matches(node.inner, doc)
    right = node.right
    return _COMBINE[node.op](matches(node.left, doc), lambda: matches(right, doc))


def score(node: Node | None, doc: Document) -> int:
    """How many positive leaves of the query ``doc`` matches: the look-alike's relevance."""
    if node is None:
        return 0
    if isinstance(node, Term | DateRange):
        return int(matches(node, doc))
    if isinstance(node, Group):
        return score(node.inner, doc)
    right = 0 if node.op == "ANDNOT" else score(node.right, doc)
    return score(node.left, doc) + right
