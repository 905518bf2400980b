"""Shared queries, incremental harvests and scheduled full reconciliations.

The pure rules first (grouping, attribution, the full-harvest days), then the harvest
itself against the look-alike on SQLite and PostgreSQL: grouped and one-query-per-author
harvests must leave exactly the same profiles, an incremental cycle finds every new paper
in one request and never records ``missing``, and a full one catches what it cannot see.
"""

from __future__ import annotations

import itertools
import logging
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

import harvester.cycle.fetch
from arxiv_lookalike import Corpus, LookalikeServer, Reorder
from harvester.batching import (
    FULL,
    INCREMENTAL,
    AuthorState,
    attribute,
    encoded_length,
    full_day,
    full_due,
    group_query,
    pack,
    plan_groups,
)
from harvester.changes import Observation, Seen, plan_changes
from harvester.config import AuthorSettings, HarvestSettings
from harvester.identity import Matcher
from harvester.records import Author, Paper
from harvester.store import Store
from harvester.store import schema as t

from .support import SEED_AUTHOR, SEED_KEY, harvest, make_settings, rows, run_cli
from .test_matching import paper

T0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
LATER = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def author(key: str, name: str, **extra: Any) -> AuthorSettings:
    return AuthorSettings(key=key, name=name, **extra)


# -- the pure rules ----------------------------------------------------------------------------


def test_authors_are_packed_in_order_within_the_budget() -> None:
    authors = [author(f"a{i}", f"Author Number{i}", aliases=(f"A. Number{i}",)) for i in range(40)]
    groups = pack(authors, 400)
    assert [a for g in groups for a in g] == authors  # all of them, in order
    assert len(groups) > 1
    assert all(encoded_length(group_query(g)) <= 400 for g in groups)
    assert all(
        encoded_length(group_query([*g, nxt[0]])) > 400 for g, nxt in itertools.pairwise(groups)
    )


def _packed_by_encoding(authors: list[AuthorSettings], budget: int) -> list[list[AuthorSettings]]:
    """The rule :func:`pack` keeps, encoding each candidate group's whole query."""
    groups: list[list[AuthorSettings]] = []
    for one in authors:
        if groups and encoded_length(group_query([*groups[-1], one])) <= budget:
            groups[-1].append(one)
        else:
            groups.append([one])
    return groups


def test_packing_by_added_lengths_is_packing_by_encoding_whole_queries() -> None:
    """Shared names count once in a group, accents and quotes take their encoded width."""
    first = ["Shám", "O'Neil", "Ada", "Zoë", "Li"]
    last = ["Kakade", "Smith", "Lovelace", "Ng", "Ødegård"]
    names = [f"{f} {s}" for f, s in itertools.product(first, last)]
    authors = [
        author(f"a{i}", names[i * 7 % len(names)], aliases=(names[i * 3 % len(names)],))
        for i in range(60)
    ]
    for budget in (40, 120, 300, 1000):
        assert pack(authors, budget) == _packed_by_encoding(authors, budget)


def test_an_explicit_query_goes_alone_and_budget_zero_asks_each_alone() -> None:
    plain = [author("a", "Ada Lovelace"), author("b", "Alan Turing")]
    custom = author("c", "Grace Hopper", query='au:"Hopper, G" AND cat:cs.PL')
    assert pack([plain[0], custom, plain[1]], 4000) == [[custom], plain]
    assert pack(plain, 0) == [[plain[0]], [plain[1]]]
    assert group_query(plain) == '(au:"Ada Lovelace" OR au:"Alan Turing")'
    assert group_query([custom]) == custom.query


def test_the_encoded_length_is_what_the_request_carries() -> None:
    query = group_query([author("a", "Shám Kakade"), author("b", "O'Neil Smith")])
    assert encoded_length(query) == len(
        "%28au%3A%22Sh%C3%A1m+Kakade%22+OR+au%3A%22O%27Neil+Smith%22%29"
    )


def test_a_share_is_what_the_authors_own_query_would_return() -> None:
    kakade = author("kakade", "Sham Kakade", include_ids=("2401.00004",))
    papers = [
        paper("Sham Kakade", "Ada Lovelace", arxiv_id="2401.00001"),
        paper(
            "Priya Sham", "Kakade Venkatesh", arxiv_id="2401.00002"
        ),  # the phrase spans two authors
        paper("Sham M. Kakade", arxiv_id="2401.00003"),  # not the phrase: arXiv would not return it
        paper("Someone Else", arxiv_id="2401.00004"),  # include_ids
        paper("Ada Lovelace", arxiv_id="2401.00005"),
    ]
    lovelace = author("ada", "Ada Lovelace")
    explicit = author("x", "X Y", query="cat:cs.LG")
    mononym = author("mononym", "Kakade")  # one word: indexed by it alone
    shares = attribute([kakade, lovelace, explicit, mononym], papers)
    assert [p.arxiv_id[-1] for p in shares["kakade"]] == ["1", "2", "4"]
    assert [p.arxiv_id[-1] for p in shares["mononym"]] == ["1", "2", "3"]
    assert [p.arxiv_id[-1] for p in shares["ada"]] == ["1", "5"]
    assert shares["x"] == papers


def test_every_paper_the_matcher_accepts_by_name_is_in_the_share() -> None:
    kakade = author("kakade", "Sham Kakade", aliases=("S. M. Kakade",))
    matcher = Matcher.for_profile(kakade.key, kakade.name, kakade.aliases)
    papers = [
        paper("S.M. KAKADE", arxiv_id="2401.00001"),
        paper("Shám Kakadé", "X", arxiv_id="2401.00002"),
        paper("sham   kakade", arxiv_id="2401.00003"),
    ]
    assert all(matcher.decide(p).accepted for p in papers)
    assert attribute([kakade], papers)["kakade"] == papers


def test_full_harvests_are_spread_over_the_days_and_never_skipped() -> None:
    """1,000 authors, all harvested fully on day 0, then one cycle a day for five weeks:
    every author gets a full harvest every 7 days (8 when its day was missed), and each day
    reconciles about a seventh of them."""
    keys = [f"author-{i}" for i in range(1000)]
    last = dict.fromkeys(keys, T0)
    per_day: list[int] = []
    gaps: list[timedelta] = []
    for day in range(1, 36):
        now = T0 + timedelta(days=day, minutes=day % 5)
        if day == 20:
            continue  # the machine was off that day
        due = [k for k in keys if full_due(k, now, last[k], 7)]
        gaps += [now - last[k] for k in due if last[k] != T0]  # the first week is shorter
        last.update(dict.fromkeys(due, now))
        per_day.append(len(due))
    assert all((now.date() - t.date()).days <= 8 for t in last.values())
    assert max(gaps) < timedelta(days=9) and min(gaps) > timedelta(days=6)
    steady = per_day[7:18]
    assert min(steady) >= 100 and max(steady) <= 190, per_day  # 1000 / 7 = 143
    assert Counter(full_day(k, 7) for k in keys).keys() == set(range(7))


def test_modes_first_full_then_incremental_then_full_when_the_identity_changes() -> None:
    settings = HarvestSettings()
    kakade = author("kakade", "Sham Kakade")
    fresh = AuthorState("kakade")
    seen = AuthorState("kakade", T0, T0, kakade.identity_fingerprint)
    moved = replace(seen, identity="something else")
    day = next(
        T0 + timedelta(days=d)
        for d in range(1, 8)
        if not full_due("kakade", T0 + timedelta(days=d), T0, 7)
    )
    [g1] = plan_groups([kakade], {"kakade": fresh}, settings, day)
    [g2] = plan_groups([kakade], {"kakade": seen}, settings, day)
    [g3] = plan_groups([kakade], {"kakade": moved}, settings, day)
    [g4] = plan_groups([kakade], {"kakade": seen}, settings, day, full=True)
    assert [g.mode for g in (g1, g2, g3, g4)] == [FULL, INCREMENTAL, FULL, FULL]
    assert g2.since == T0 - timedelta(days=7)


def seen_of(p: Paper, status: str = "active") -> Seen:
    return Seen(p.arxiv_id, status, "Sham Kakade", None, 1, False, {})


def test_an_incremental_plan_adds_and_takes_away_but_never_finds_a_paper_missing() -> None:
    old = [paper("Sham Kakade", arxiv_id=f"2001.0000{i}") for i in range(5)]
    previous = {p.arxiv_id: seen_of(p) for p in old}
    matcher = Matcher.for_profile("kakade", "Sham Kakade")
    new = paper("Sham Kakade", arxiv_id="2611.00001")
    renamed = replace(old[0], authors=(Author("Sham Kakade-Rao", ()),))
    observations = [Observation(p, matcher.decide(p)) for p in (new, renamed)]
    plan = plan_changes(
        previous,
        observations,
        baseline=False,
        identity_changed=False,
        still_belongs=lambda _: True,
        partial=True,
    )
    assert sorted((e.kind, e.arxiv_id) for e in plan.events) == [
        ("excluded", old[0].arxiv_id),
        ("new_paper", new.arxiv_id),
    ]
    assert (plan.previous_count, plan.paper_count) == (5, 5)  # 5 + 1 - 1, nothing missing
    full = plan_changes(
        previous, observations, baseline=False, identity_changed=False, still_belongs=lambda _: True
    )
    assert full.count("missing") == 4 and full.suspect_reason is not None


# -- against the look-alike --------------------------------------------------------------------

COMPANIONS = [
    {"key": "morwani", "name": "Depen Morwani"},
    {"key": "zhang", "name": "Hanlin Zhang"},
    {"key": "zhao", "name": "Rosie Zhao"},
    {"key": "psham", "name": "Priya Sham"},
]
GROUP = [SEED_AUTHOR, *COMPANIONS]


def prefixed(prefix: str) -> list[dict[str, Any]]:
    return [{**a, "key": prefix + str(a["key"])} for a in GROUP]


def profile_state(store: Store, prefix: str) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the profiles of ``prefix`` hold, the prefix taken off the keys."""
    n = len(prefix) + 1
    where = "WHERE author_key LIKE :p"
    queries = {
        "membership": f"SELECT SUBSTR(author_key, {n}), arxiv_id, status, matched_name, reason,"
        f" seen_version, seen_withdrawn FROM membership {where}",
        "events": f"SELECT SUBSTR(author_key, {n}), arxiv_id, kind, detail FROM event {where}",
        "counts": f"SELECT SUBSTR(author_key, {n}), paper_count, withdrawn_count, previous_count"
        f" FROM count_change {where}",
    }
    return {
        name: sorted(rows(store, sql, p=prefix + "%"), key=repr) for name, sql in queries.items()
    }


def requests_of(store: Store, prefix: str) -> int:
    [(total,)] = rows(
        store, "SELECT SUM(requests) FROM run WHERE author_key LIKE :p", p=prefix + "%"
    )
    return int(total)


def kakade_papers(corpus: Corpus) -> list[Any]:
    mine = [p for p in corpus if any(a.name == "Sham Kakade" for a in p.authors)]
    return sorted(mine, key=lambda p: p.published)


def change_upstream(corpus: Corpus) -> dict[str, str]:
    """A new paper, new versions of the newest and of the oldest paper (a withdrawal: far
    outside a submission-date window), a removal."""
    kakade = kakade_papers(corpus)
    newest, oldest = kakade[-1], kakade[0]
    assert newest.published == max(p.published for p in corpus)  # inside every window
    template = kakade[len(kakade) // 2]
    corpus.upsert(
        replace(
            template,
            arxiv_id="2611.04321",
            version=1,
            title="Brand new",
            published=LATER,
            updated=LATER,
        )
    )
    corpus.revise(newest.arxiv_id, updated=LATER)
    corpus.revise(oldest.arxiv_id, updated=LATER, comment="This paper has been withdrawn")
    gone = next(p for p in kakade if p.arxiv_id not in (newest.arxiv_id, oldest.arxiv_id))
    corpus.remove(gone.arxiv_id)
    return {
        "new": "2611.04321",
        "recent": newest.arxiv_id,
        "old": oldest.arxiv_id,
        "gone": gone.arxiv_id,
    }


def test_grouped_and_separate_queries_leave_identical_profiles(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    """The same five authors, once with a query each and once sharing queries: after a cold
    harvest, an incremental one and a full one, every membership, rejection reason, event
    and count row is the same; the shared queries cost fewer requests."""
    alone = make_settings(
        db_url, server.url, authors=prefixed("s-"), harvest={"group_query_chars": 0}
    )
    shared = make_settings(db_url, server.url, authors=prefixed("g-"))
    assert harvest(store, alone).exit_code == harvest(store, shared).exit_code == 0
    assert profile_state(store, "s-") == profile_state(store, "g-")
    rejected = rows(store, "SELECT arxiv_id FROM rejected_papers WHERE author_key = 'g-kakade'")
    assert len(rejected) == 4  # the namesakes, shared query or not
    ids = change_upstream(corpus)
    for full in (False, True):
        assert (
            harvest(store, alone, full=full).exit_code
            == harvest(store, shared, full=full).exit_code
            == 0
        )
        assert profile_state(store, "s-") == profile_state(store, "g-")
    assert requests_of(store, "g-") < requests_of(store, "s-")
    kinds = rows(store, "SELECT kind, arxiv_id FROM event WHERE author_key = 'g-kakade'")
    assert sorted(kinds) == sorted(
        [
            ("new_paper", ids["new"]),
            ("new_version", ids["recent"]),
            ("new_version", ids["old"]),
            ("withdrawn", ids["old"]),
            ("missing", ids["gone"]),
        ]
    )


def test_an_incremental_cycle_finds_new_papers_in_one_request_and_never_a_missing_one(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    settings = make_settings(db_url, server.url, page_size=25, authors=GROUP)
    harvest(store, settings)
    cold = len(server.requests)
    assert cold >= 4  # 91 papers in shared scope, 25 a page
    ids = change_upstream(corpus)
    server.clear_requests()
    report = harvest(store, settings)
    assert report.exit_code == 0
    assert len(server.requests) == 1
    events = rows(
        store, "SELECT kind, arxiv_id FROM event WHERE author_key = 'kakade' ORDER BY event_id"
    )
    assert events == [
        ("new_paper", ids["new"]),
        ("new_version", ids["recent"]),
        ("new_version", ids["old"]),  # sorted by last update: old papers' versions too
        ("withdrawn", ids["old"]),
    ]
    modes = rows(store, "SELECT DISTINCT mode FROM harvest_runs WHERE run_id > :r", r=len(GROUP))
    assert modes == [("incremental",)]
    [(count,)] = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = 'kakade'")
    assert count == 77  # 76 + the new one; the removed paper is not missing yet

    server.clear_requests()
    assert harvest(store, settings, full=True).exit_code == 0
    assert len(server.requests) >= cold
    events = rows(
        store, "SELECT kind, arxiv_id FROM event WHERE author_key = 'kakade' ORDER BY event_id"
    )
    assert events[4:] == [("missing", ids["gone"])]  # only a full harvest sees a removal
    [(count,)] = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = 'kakade'")
    assert count == 76


def test_the_watermark_and_the_last_full_harvest_are_kept_per_author(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    settings = make_settings(db_url, server.url, authors=GROUP)
    day0 = datetime(2026, 11, 2, 1, 30, tzinfo=UTC)
    harvest(store, settings, when=day0)
    newest = min(max(p.updated for p in corpus), day0)  # what the harvest saw, never later
    a = t.author.c
    with store.engine.connect() as conn:
        coverage = set(conn.execute(select(a.key, a.watermark, a.last_full_at)).all())
    assert coverage == {(str(a["key"]), newest, day0) for a in GROUP}
    assert len(rows(store, "SELECT * FROM author_coverage")) == len(GROUP)
    # the next days: incremental, except on each author's own day of the week
    fulls: Counter[str] = Counter()
    for day in range(1, 8):
        when = day0 + timedelta(days=day)
        before = rows(store, "SELECT MAX(run_id) FROM run")[0][0]
        harvest(store, settings, when=when)
        for key, mode in rows(
            store, "SELECT author_key, mode FROM run WHERE run_id > :r", r=before
        ):
            expected = FULL if full_day(key, 7) == when.date().toordinal() % 7 else INCREMENTAL
            assert mode == expected, (key, day)
            fulls[key] += mode == FULL
    assert fulls == Counter({str(a["key"]): 1 for a in GROUP})


def test_a_group_whose_answer_is_too_large_is_split(
    store: Store, server: LookalikeServer, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harvester.cycle.fetch, "MAX_GROUP_RESULTS", 30)
    settings = make_settings(db_url, server.url, authors=GROUP, page_size=200)
    report = harvest(store, settings)
    assert report.exit_code == 0, [a.line() for a in report.authors]
    queries = [r.params["search_query"] for r in server.requests]
    assert queries[0].count("au:") == len(GROUP) + 2  # kakade has three names
    assert len(queries) > 2 and all(q.count("au:") < queries[0].count("au:") for q in queries[1:])
    [(count,)] = rows(store, "SELECT paper_count FROM profile_stats WHERE author_key = 'kakade'")
    assert count == 76


def test_an_incremental_group_is_split_only_if_its_window_lies_past_the_limit(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    corpus: Corpus,
    monkeypatch: pytest.MonkeyPatch,
    clock: datetime,
) -> None:
    """An incremental answer is paged newest-updated first and stops at the window: it does
    not matter how many older papers the query matches, only whether the window ends
    before the paging limit. On a fixed and a shifted clock, every cycle incremental: on an
    author's own day its harvest is a full one, which would split the group whatever the
    window, so the wall clock would make this test pass or fail by the day it runs."""
    yearly = {"full_every_days": 365}  # no author's own full day falls on these days
    settings = make_settings(db_url, server.url, authors=GROUP, page_size=10, harvest=yearly)
    harvest(store, settings, full=True, when=clock)
    monkeypatch.setattr(harvester.cycle.fetch, "MAX_GROUP_RESULTS", 5)
    for day, revised, split in ((1, 0, False), (2, 11, True)):
        for p in kakade_papers(corpus)[:revised]:  # 11 revisions: the window outgrows a page
            corpus.revise(p.arxiv_id, updated=clock + timedelta(days=day - 1, hours=12))
        server.clear_requests()
        before = rows(store, "SELECT MAX(run_id) FROM run")[0][0]
        assert harvest(store, settings, when=clock + timedelta(days=day)).exit_code == 0
        modes = rows(store, "SELECT DISTINCT mode FROM run WHERE run_id > :r", r=before)
        assert modes == [(INCREMENTAL,)]
        sizes = [r.params["search_query"].count("au:") for r in server.requests]
        assert sizes[0] == len(GROUP) + 2  # kakade has three names
        assert (min(sizes) < sizes[0]) == split, (day, sizes)


def test_harvest_once_full_from_the_command_line(tmp_path: Any, server: LookalikeServer) -> None:
    from .test_cli import write_config

    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'h.db'}", server.url)
    assert run_cli("--once", "--config", str(config), cwd=tmp_path).returncode == 0
    result = run_cli("--once", "--full", "--config", str(config), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("kakade  76 papers  +0 new")
    store = Store.open(f"sqlite:///{tmp_path / 'h.db'}")
    try:
        assert rows(store, "SELECT mode FROM harvest_runs ORDER BY run_id") == [
            ("full",),
            ("full",),
        ]
    finally:
        store.close()
    misuse = run_cli("--full", "--config", str(config), cwd=tmp_path)
    assert misuse.returncode == 2 and "--full goes with --once" in misuse.stderr


def test_a_paper_dated_in_the_future_does_not_move_the_watermark_past_now(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    """A watermark past now would make incremental harvests stop before real new papers."""
    future = datetime(2030, 1, 1, tzinfo=UTC)
    template = kakade_papers(corpus)[0]
    corpus.upsert(replace(template, arxiv_id="2611.07777", published=future, updated=future))
    when = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
    assert harvest(store, make_settings(db_url, server.url), when=when).exit_code == 0
    with store.engine.connect() as conn:
        watermark = conn.execute(select(t.author.c.watermark)).scalar_one()
    assert watermark == when


def regular_day() -> datetime:
    """A day within a week of ``T0`` that is not the seed author's day for a full harvest."""
    days = (T0 + timedelta(days=d, hours=2) for d in range(1, 7))
    return next(day for day in days if not full_due(SEED_KEY, day, T0, 7))


def test_new_versions_and_withdrawals_of_old_papers_are_seen_by_the_next_regular_cycle(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus
) -> None:
    """Five of the oldest papers get a new version upstream (one a withdrawal): the next
    incremental cycle, sorted by last update, records all of them in one request."""
    settings = make_settings(db_url, server.url, page_size=25)
    harvest(store, settings, when=T0)
    oldest = kakade_papers(corpus)[:5]
    later = regular_day()
    for old in oldest:
        corpus.revise(old.arxiv_id, updated=later - timedelta(hours=6))
    corpus.revise(oldest[0].arxiv_id, updated=later, comment="This paper has been withdrawn")
    server.clear_requests()
    [author] = harvest(store, settings, when=later + timedelta(hours=1)).authors
    assert (author.status, author.new_versions, len(server.requests)) == ("ok", 5, 1)
    assert server.requests[0].params["sortBy"] == "lastUpdatedDate"
    kinds = rows(store, "SELECT kind, arxiv_id FROM event")
    assert sorted(kinds) == sorted(
        [("new_version", p.arxiv_id) for p in oldest] + [("withdrawn", oldest[0].arxiv_id)]
    )
    assert rows(store, "SELECT DISTINCT mode FROM run WHERE run_id > 1") == [("incremental",)]


def test_an_answer_out_of_order_makes_that_group_harvest_in_full(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    corpus: Corpus,
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(db_url, server.url, page_size=25)
    harvest(store, settings, when=T0)
    newest = kakade_papers(corpus)[-1]
    later = regular_day()
    corpus.revise(newest.arxiv_id, updated=later)
    server.faults.add(Reorder(seed=3), times=None)  # arXiv ignoring its sort
    server.clear_requests()
    with caplog.at_level(logging.WARNING):
        [author] = harvest(store, settings, when=later + timedelta(hours=1)).authors
    assert (author.status, author.new_versions) == ("ok", 1)
    [line] = [r.getMessage() for r in caplog.records if "in full instead" in r.getMessage()]
    assert line.startswith("kakade: asked for the newest updates first")
    assert rows(store, "SELECT mode FROM run ORDER BY run_id DESC LIMIT 1") == [("full",)]
    sorts = [r.params["sortBy"] for r in server.requests]
    assert sorts[0] == "lastUpdatedDate" and set(sorts[1:]) == {"submittedDate"}
    assert store.load_states([SEED_KEY])[SEED_KEY].last_full_at == later + timedelta(hours=1)
