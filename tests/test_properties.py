"""Property-based tests (hypothesis) at the two boundaries where outside data comes in.

* The Atom boundary: whatever bytes the server sends, ``ArxivSource`` hands out our records
  or raises our :class:`~harvester.errors.FetchError`, never anything else. The bytes come
  over real HTTP from the look-alike (its ``Raw`` fault answers exactly the bytes given):
  random bytes, mutations of a real page (cuts, splices, insertions), and well-formed feeds
  whose every field holds arbitrary text.
* The store: an upsert batch holding the same paper several times leaves exactly the state
  of the deduplicated batch (the last copy wins), on SQLite and PostgreSQL; saving a batch
  again changes nothing.

Identifier parsing/formatting and name folding/matching properties live in
tests/test_normalise.py and tests/test_matching.py (docs/reliability.md lists them all).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import arxiv
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree
from sqlalchemy import select, text

from arxiv_lookalike import LookalikeServer, Raw, seed_corpus
from arxiv_lookalike.atom import FeedPage, entry_view, render_feed
from harvester.errors import FetchError
from harvester.normalise import normalise_entry
from harvester.records import Author, Paper
from harvester.source import ArxivSource, SearchResult, feed
from harvester.source.feed import parse_page
from harvester.store import Store
from harvester.store import schema as t

from .support import make_settings

BOUNDARY = settings(
    max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)
STORE = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


# --- the Atom boundary ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def lookalike() -> Iterator[LookalikeServer]:
    with LookalikeServer(seed_corpus()) as server:
        yield server


def _real_page() -> bytes:
    corpus = list(seed_corpus())
    papers = [p for p in corpus if p.doi][:1] + [p for p in corpus if p.comment][:2]
    page = FeedPage("au:x", "", 0, 3, len(papers), tuple(entry_view(p) for p in papers))
    return render_feed(page, NOW)


REAL_PAGE = _real_page()


@st.composite
def mutated_pages(draw: st.DrawFn) -> bytes:
    """A real page cut, spliced or stuffed at random places."""
    body = REAL_PAGE
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(body)))
        end = draw(st.integers(at, min(len(body), at + 200)))
        junk = draw(st.binary(max_size=40) | st.sampled_from([b"<", b"&", b"]]>", b"\xff", b""]))
        body = body[:at] + junk + body[end:]
    if draw(st.booleans()):
        body = body.rstrip() + b"</feed>\n"  # passes the completeness check
    return body


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=30)
_VALID = {
    "id": st.sampled_from(
        ["http://arxiv.org/abs/2401.00001v1", "http://arxiv.org/abs/hep-th/9901001v2"]
    ),
    "title": st.just("A title"),
    "updated": st.just("2024-01-02T00:00:00Z"),
    "published": st.sampled_from(["2024-01-01T00:00:00Z", "1990-01-01T00:00:00Z"]),
    "summary": st.just("An abstract."),
    "author": st.just("Sham Kakade"),
    "category": st.just("cs.LG"),
}
_ODD_DATES = st.sampled_from(["2024", "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00", ""])


def _xml(value: str) -> str:
    value = "".join(c for c in value if c in "\t\n\r" or (c >= " " and c not in "\ufffe\uffff"))
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@st.composite
def odd_feeds(draw: st.DrawFn) -> bytes:
    """Well-formed Atom feeds; each field valid, arbitrary text, an odd date, or missing."""
    value = {field: draw(valid | _TEXT | _ODD_DATES | st.none()) for field, valid in _VALID.items()}
    entry = "".join(
        f"<{tag}>{_xml(value[tag])}</{tag}>"
        for tag in ("id", "title", "updated", "published", "summary")
        if value[tag] is not None
    )
    if value["author"] is not None:
        entry += f"<author><name>{_xml(value['author'])}</name></author>"
    if value["category"] is not None:
        entry += f'<category term="{_xml(value["category"]).replace(chr(34), "")}"/>'
    count = draw(st.integers(0, 2))
    total = draw(st.sampled_from([str(count)] * 3) | _TEXT | st.none())
    head = "" if total is None else f"<os:totalResults>{_xml(total)}</os:totalResults>"
    entries = f"<entry>{entry}</entry>" * count
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom"'
        f' xmlns:os="http://a9.com/-/spec/opensearch/1.1/">{head}{entries}</feed>\n'
    ).encode()


ANY_BODY = st.binary(max_size=3000) | mutated_pages() | odd_feeds()


def fetch(server: LookalikeServer, body: bytes) -> SearchResult | FetchError:
    server.faults.clear()
    server.faults.add(Raw(body))
    settings_ = make_settings("sqlite:///unused.db", server.url, max_attempts=1)
    with ArxivSource(settings_.arxiv) as source:
        try:
            return source.search("au:x", normalise_entry)
        except FetchError as exc:  # ours; anything else fails the test
            return exc


def check(outcome: SearchResult | FetchError) -> None:
    event(type(outcome).__name__)
    if isinstance(outcome, SearchResult):
        assert all(isinstance(p, Paper) for p in outcome.papers)
        assert len(outcome.papers) == outcome.total_results


@BOUNDARY
@given(st.binary(max_size=3000))
def test_random_bytes_give_our_error(lookalike: LookalikeServer, body: bytes) -> None:
    check(fetch(lookalike, body))


@BOUNDARY
@given(mutated_pages())
def test_a_mutilated_page_gives_records_or_our_error(
    lookalike: LookalikeServer, body: bytes
) -> None:
    check(fetch(lookalike, body))


@BOUNDARY
@given(odd_feeds())
def test_a_feed_of_odd_values_gives_records_or_our_error(
    lookalike: LookalikeServer, body: bytes
) -> None:
    check(fetch(lookalike, body))


@settings(max_examples=300, deadline=None, database=None)
@given(ANY_BODY)
def test_the_page_parser_raises_only_our_errors(body: bytes) -> None:
    try:
        page = parse_page(body, "http://test/")
    except FetchError:
        return
    assert page.total_results >= 0
    for entry in page.entries:
        assert (entry.result is None) != (entry.problem is None)


def test_the_real_page_is_read_whole() -> None:
    page = parse_page(REAL_PAGE, "http://test/")
    assert page.total_results == 3 and [e.problem for e in page.entries] == [None] * 3


# --- the one-walk entry reader against the package's parser ---------------------------------

_ARXIV_NS = "http://arxiv.org/schemas/atom"
_SOME_TEXT = _TEXT | st.sampled_from(["", "  two\n\t words  ", "a\u00a0b\u2028c"])


def _attr(name: str, value: str | None) -> str:
    return "" if value is None else f' {name}="{_xml(value).replace(chr(34), "&quot;")}"'


def _leaf(tag: str) -> st.SearchStrategy[str]:
    values = _SOME_TEXT | _ODD_DATES | st.sampled_from(["http://arxiv.org/abs/2401.00001v1"])
    return st.one_of(
        values.map(lambda v: f"<{tag}>{_xml(v)}</{tag}>"),
        st.just(f"<{tag}/>"),
        st.tuples(_SOME_TEXT, _SOME_TEXT).map(
            lambda v: f"<{tag}>{_xml(v[0])}<b>x</b>{_xml(v[1])}</{tag}>"  # text, a child, text
        ),
    )


@st.composite
def _author(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(_leaf("name") | _leaf("arxiv:affiliation") | st.just("<!-- c -->"), max_size=4)
    )
    return f"<author>{''.join(parts)}</author>"


@st.composite
def _link(draw: st.DrawFn) -> str:
    names = ("href", "rel", "type", "title")
    attrs = "".join(_attr(n, draw(st.none() | _SOME_TEXT)) for n in names)
    return f"<link{attrs}/>"


_ENTRY_CHILDREN = (
    *(_leaf(tag) for tag in ("id", "updated", "published", "title", "summary")),
    *(_leaf(f"arxiv:{tag}") for tag in ("comment", "journal_ref", "doi")),
    _author(),
    _link(),
    (st.none() | _SOME_TEXT).map(lambda v: f"<category{_attr('term', v)}/>"),
    (st.none() | _SOME_TEXT).map(lambda v: f"<arxiv:primary_category{_attr('term', v)}/>"),
    st.sampled_from(
        [
            "<!-- a comment -->",
            "<?pi data?>",
            "<other>x</other>",
            '<o:title xmlns:o="urn:o">o</o:title>',
            "<arxiv:title>in the wrong namespace</arxiv:title>",
        ]
    ),
)
"""Each kind of child an entry may hold, odd values included."""
_GOOD_ENTRY = [
    "<id>http://arxiv.org/abs/2401.00001v1</id>",
    "<updated>2024-01-02T00:00:00Z</updated>",
    "<published>2024-01-01T00:00:00Z</published>",
]


@st.composite
def atom_entries(draw: st.DrawFn) -> Any:
    """An ``<entry>`` element: none, one or more of each kind of child, in any order."""
    children = [child for kind in _ENTRY_CHILDREN for child in draw(st.lists(kind, max_size=2))]
    if draw(st.booleans()):  # mostly readable entries, so every field gets compared
        children += _GOOD_ENTRY
    body = (
        f'<entry xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="{_ARXIV_NS}">'
        f"{''.join(draw(st.permutations(children)))}</entry>"
    )
    return etree.fromstring(body.encode())


def _read(build: Any, element: Any) -> tuple[object, ...]:
    """Everything a ``Result`` carries, or the error building it raised."""
    try:
        r = build(element)
    except (ValueError, OverflowError) as exc:
        return ("error", type(exc), str(exc))
    if r is None:
        return ("skipped",)
    return (
        "result",
        (r.entry_id, repr(r.updated), repr(r.published), r.title, r.summary),
        (r.comment, r.journal_ref, r.doi, r.primary_category, r.categories, r.pdf_url),
        [(a.name, a.affiliation) for a in r.authors],
        [(k.href, k.title, k.rel, k.content_type) for k in r.links],
    )


_NS = {"atom": "http://www.w3.org/2005/Atom", "arxiv": _ARXIV_NS}


def _reference(entry: Any) -> arxiv.Result | None:
    """The slow, obvious reading of an entry: one namespaced ``find`` per field, the
    first of each, as the ``arxiv`` package documents its results (titles' whitespace
    collapsed, UTC dates). The one-walk reader must agree with it on every entry."""

    def text(element: Any, path: str) -> str | None:
        found = element.find(path, _NS)
        return None if found is None else found.text

    def date(value: str | None) -> datetime | None:
        if value is None:
            return None
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)

    entry_id = text(entry, "atom:id")
    if not entry_id:
        return None
    updated, published = date(text(entry, "atom:updated")), date(text(entry, "atom:published"))
    if updated is None or published is None:
        return None
    primary = entry.find("arxiv:primary_category", _NS)
    return arxiv.Result(
        entry_id=entry_id,
        updated=updated,
        published=published,
        title=re.sub(r"\s+", " ", text(entry, "atom:title") or ""),
        authors=[
            arxiv.Result.Author(
                name=text(a, "atom:name") or "",
                affiliation=[
                    f.text for f in a.iterfind("arxiv:affiliation", _NS) if f.text is not None
                ],
            )
            for a in entry.iterfind("atom:author", _NS)
        ],
        summary=text(entry, "atom:summary") or "",
        comment=text(entry, "arxiv:comment"),
        journal_ref=text(entry, "arxiv:journal_ref"),
        doi=text(entry, "arxiv:doi"),
        primary_category=(primary.get("term") if primary is not None else "") or "",
        categories=[
            c.get("term") for c in entry.iterfind("atom:category", _NS) if c.get("term") is not None
        ],
        links=[
            arxiv.Result.Link(
                href=k.get("href"),
                title=k.get("title"),
                rel=k.get("rel") or "",
                content_type=k.get("type"),
            )
            for k in entry.iterfind("atom:link", _NS)
            if k.get("href") is not None
        ],
    )


@settings(max_examples=500, deadline=None, database=None)
@given(atom_entries())
def test_entries_are_read_as_the_obvious_reading_reads_them(element: Any) -> None:
    outcome = _read(feed._read_result, element)
    event(str(outcome[0]))
    assert outcome == _read(_reference, element)


def test_the_real_page_is_read_as_the_obvious_reading_reads_it() -> None:
    root = etree.fromstring(REAL_PAGE)
    entries = root.findall("{http://www.w3.org/2005/Atom}entry")
    assert len(entries) == 3
    for element in entries:
        assert _read(feed._read_result, element) == _read(_reference, element)


# --- upserts with duplicates --------------------------------------------------------------

_IDS = ["2401.00001", "2401.00002", "2401.00003", "hep-th/9901001"]
_WORDS = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=20)


@st.composite
def papers(draw: st.DrawFn) -> Paper:
    names = draw(st.lists(_WORDS, min_size=1, max_size=3))
    return Paper(
        arxiv_id=draw(st.sampled_from(_IDS)),
        version=draw(st.integers(1, 3)),
        title=draw(_WORDS),
        summary=draw(_WORDS),
        published=datetime(2024, 1, draw(st.integers(1, 28)), tzinfo=UTC),
        updated=datetime(2025, 1, draw(st.integers(1, 28)), tzinfo=UTC),
        authors=tuple(Author(n, draw(st.lists(_WORDS, max_size=1).map(tuple))) for n in names),
        primary_category="cs.LG",
        categories=("cs.LG",),
        comment=draw(st.none() | _WORDS),
        journal_ref=None,
        doi=draw(st.none() | st.just("10.1/x")),
        withdrawn=draw(st.booleans()),
    )


def _state(store: Store) -> list[Any]:
    with store.engine.connect() as conn:
        return [
            sorted(tuple(r) for r in conn.execute(text(f"SELECT * FROM {table}")))
            for table in ("paper", "paper_author")
        ]


def _reset(store: Store, existing: list[Paper]) -> None:
    with store.transaction() as conn:
        conn.execute(text("DELETE FROM paper_author"))
        conn.execute(text("DELETE FROM paper"))
        store.save_papers(conn, existing, NOW)


def _save(store: Store, batch: list[Paper]) -> int:
    with store.transaction() as conn:
        return store.save_papers(conn, batch, NOW)


@STORE
@given(st.lists(papers(), max_size=3), st.lists(papers(), max_size=8))
def test_an_upsert_batch_with_duplicates_equals_the_deduplicated_batch(
    store: Store, existing: list[Paper], batch: list[Paper]
) -> None:
    deduplicated = list({p.arxiv_id: p for p in batch}.values())  # the last copy wins
    _reset(store, existing)
    _save(store, batch)
    with_duplicates = _state(store)
    assert _save(store, batch) == 0  # saving again rewrites nothing
    _reset(store, existing)
    _save(store, deduplicated)
    assert _state(store) == with_duplicates


@STORE
@given(st.lists(papers(), max_size=4), st.data())
def test_a_batch_writes_exactly_its_new_and_changed_papers(
    store: Store, existing: list[Paper], data: st.DataObject
) -> None:
    """Against a model: a paper is written, ``changed_at`` and authors, when it is new or
    differs from the stored one in any field, unless it is an older version than the
    stored one (a stale copy never overwrites a newer); ``first_seen_at`` never moves."""
    kept = st.sampled_from(existing) if existing else papers()
    batch = data.draw(st.lists(kept | papers(), max_size=6))
    later = NOW + timedelta(days=1)
    _reset(store, existing)
    with store.transaction() as conn:
        written = store.save_papers(conn, batch, later)
    old, new = {p.arxiv_id: p for p in existing}, {p.arxiv_id: p for p in batch}
    changed = {
        key
        for key, p in new.items()
        if old.get(key) != p and (key not in old or p.version >= old[key].version)
    }
    assert written == len(changed)
    final = {**old, **{key: new[key] for key in changed}}
    with store.engine.connect() as conn:
        p, pa = t.paper.c, t.paper_author.c
        rows = conn.execute(select(p.arxiv_id, p.version, p.title, p.first_seen_at, p.changed_at))
        assert sorted(tuple(r) for r in rows) == sorted(
            (
                key,
                paper.version,
                paper.title,
                NOW if key in old else later,
                later if key in changed else NOW,
            )
            for key, paper in final.items()
        )
        rows = conn.execute(select(pa.arxiv_id, pa.position, pa.name, pa.affiliations))
        assert sorted(tuple(r) for r in rows) == sorted(
            (key, i, a.name, "; ".join(a.affiliations))
            for key, paper in final.items()
            for i, a in enumerate(paper.authors)
        )
