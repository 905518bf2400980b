"""Leases and the shared pacer, on SQLite and PostgreSQL, with real concurrent claimers."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import event, inspect, text

from arxiv_lookalike import LookalikeServer, Stall
from harvester.cycle import harvest_author, open_source
from harvester.errors import LeaseLostError, StopRequested
from harvester.normalise import normalise_entry
from harvester.store import RunTotals, Store, create_db_engine
from harvester.store.leases import Lease, Leases, Refusal
from harvester.store.migrate import alembic_config
from harvester.store.pacing import DatabasePacer, slot_name

from .support import SEED_KEY, harvest, make_settings, rows

T0 = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def held(claim: Lease | Refusal) -> Lease:
    assert isinstance(claim, Lease), claim
    return claim


@pytest.fixture
def author(store: Store) -> str:
    store.sync_authors([(SEED_KEY, "Sham Kakade")])
    return SEED_KEY


def test_a_leased_author_is_refused_until_released(store: Store, author: str) -> None:
    a = Leases(store.engine, owner="host-a:1")
    b = Leases(store.engine, owner="host-b:2")
    lease = held(a.claim(author))
    refusal = b.claim(author)
    assert isinstance(refusal, Refusal)
    assert refusal.reason.startswith("leased by host-a:1 until ")
    assert refusal.reason.endswith("Z")
    lease.release()
    held(b.claim(author)).release()
    assert rows(store, "SELECT lease_owner, lease_until FROM author") == [(None, None)]


def test_an_expired_lease_can_be_taken_over_and_the_old_owner_cannot_write(
    store: Store, author: str
) -> None:
    """A killed (or stalled) process blocks the author only until its lease expires."""
    old = held(Leases(store.engine, owner="dead:1", clock=at(T0)).claim(author))
    assert isinstance(Leases(store.engine, owner="b:2", clock=at(T0)).claim(author), Refusal)
    later = T0 + timedelta(seconds=121)
    held(Leases(store.engine, owner="b:2", clock=at(later)).claim(author))
    with pytest.raises(LeaseLostError, match="taken over"), store.transaction() as conn:
        old.release_with(conn, [author])
    old.release()  # releasing someone else's lease does nothing
    assert rows(store, "SELECT lease_owner FROM author") == [("b:2",)]


def test_exactly_one_of_many_concurrent_claimers_wins(db_url: str, author: str) -> None:
    stores = [Store.open(db_url) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    results: list[Lease | Refusal] = [Refusal("not run")] * len(stores)

    def claim(i: int) -> None:
        barrier.wait()
        results[i] = Leases(stores[i].engine, owner=f"p{i}").claim(author)

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert sum(isinstance(r, Lease) for r in results) == 1
        # PostgreSQL passes over a row being claimed (SKIP LOCKED); SQLite serialises claims
        reasons = {r.reason[:11] for r in results if isinstance(r, Refusal)}
        assert reasons <= {"leased by p", "being claim"}, reasons
    finally:
        for s in stores:
            s.close()


def test_a_held_lease_is_renewed_while_the_harvest_runs(store: Store, author: str) -> None:
    leases = Leases(store.engine, owner="a:1", ttl_seconds=0.4)
    with held(leases.claim(author)):
        time.sleep(0.7)  # past the first expiry: the renewal thread kept it
        assert isinstance(Leases(store.engine, owner="b:2").claim(author), Refusal)
    held(Leases(store.engine, owner="b:2").claim(author)).release()  # released on exit


def test_an_author_harvested_by_an_overlapping_run_is_refused(store: Store, author: str) -> None:
    since = datetime.now(UTC)
    run_id = store.start_run(author, since)
    store.finish_run(run_id, since + timedelta(seconds=5), RunTotals("ok"))
    refusal = Leases(store.engine).claim(author, done_since=since)
    assert isinstance(refusal, Refusal)
    assert refusal.reason.startswith("harvested at ")
    assert rows(store, "SELECT lease_owner FROM author") == [(None,)]  # the claim rolled back
    held(Leases(store.engine).claim(author, done_since=since + timedelta(seconds=6))).release()


def test_abandon_closes_the_runs_of_held_authors(store: Store, author: str) -> None:
    leases = Leases(store.engine, owner="a:1")
    held(leases.claim(author))
    run_id = store.start_run(author, T0)
    assert leases.abandon(T0, "stopped: shut down during a request") == [author]
    assert rows(store, "SELECT status, error FROM run WHERE run_id = :r", r=run_id) == [
        ("stopped", "stopped: shut down during a request")
    ]
    assert rows(store, "SELECT lease_owner FROM author") == [(None,)]


def test_runs_of_leased_authors_are_not_closed_as_abandoned(store: Store, author: str) -> None:
    store.sync_authors([("other", "Other Person")])
    held(Leases(store.engine, owner="alive:1").claim(author))
    alive = store.start_run(author, datetime.now(UTC))
    dead = store.start_run("other", datetime.now(UTC))
    assert store.close_abandoned_runs(datetime.now(UTC)) == 1
    statuses = dict(rows(store, "SELECT run_id, status FROM run"))
    assert statuses == {alive: "running", dead: "failed"}


def test_a_cycle_skips_a_leased_author_and_says_why(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    settings = make_settings(db_url, server.url)
    assert harvest(store, settings).exit_code == 0
    held(Leases(store.engine, owner="daemon-host:4242").claim(SEED_KEY))
    report = harvest(store, settings)
    [author] = report.authors
    assert author.status == "skipped"
    assert author.line().startswith("kakade  skipped: leased by daemon-host:4242 until ")
    assert report.exit_code == 75  # it skipped everything
    runs = rows(store, "SELECT status, error FROM harvest_runs ORDER BY run_id")
    assert [r.status for r in runs] == ["ok", "skipped"]
    assert runs[1].error.startswith("leased by daemon-host:4242")


def test_a_harvest_whose_lease_was_taken_over_writes_nothing(
    store: Store, server: LookalikeServer, db_url: str
) -> None:
    """The write transaction confirms the lease first: a stalled process that lost it
    (it expired, another took it) must not write over the new holder's harvest."""
    settings = make_settings(db_url, server.url)
    store.sync_authors([(SEED_KEY, "Sham Kakade")])
    lost = Lease(Leases(store.engine, owner="stalled:1"), SEED_KEY)  # never held, or expired
    held(Leases(store.engine, owner="taker:2").claim(SEED_KEY))
    with open_source(settings, store) as source:
        report = harvest_author(store, source, settings.authors[0], lease=lost)
    assert (report.status, report.temporary) == ("incomplete", True)
    assert "taken over" in (report.error or "")
    assert rows(store, "SELECT status FROM harvest_runs") == [("incomplete",)]
    assert rows(store, "SELECT COUNT(*) FROM paper") == [(0,)]


def test_revision_0002_adds_leases_and_hides_skipped_runs_from_profile_stats(
    db_url: str,
) -> None:
    """Migrated to 0002 exactly (later revisions may redefine the view), and back."""
    engine = create_db_engine(db_url)

    def migrate(action: Callable[..., None], revision: str) -> None:
        config = alembic_config()
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            action(config, revision)

    try:
        migrate(command.upgrade, "0002")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO author (key, name) VALUES ('k', 'K')"))
            for status in ("ok", "skipped", "running"):
                conn.execute(
                    text(
                        "INSERT INTO run (author_key, started_at, finished_at, status, requests,"
                        " entries_seen, new_papers, new_versions, events)"
                        " VALUES ('k', :t, :t, :s, 0, 0, 0, 0, 0)"
                    ),
                    {"t": "2026-11-28 01:30:00", "s": status},
                )
        stats = "SELECT last_harvest_status FROM profile_stats"
        with engine.connect() as conn:
            assert conn.execute(text(stats)).scalar_one() == "ok"
            conn.execute(text("SELECT lease_owner, lease_until FROM author")).all()
        migrate(command.downgrade, "0001")
        with engine.connect() as conn:
            assert conn.execute(text(stats)).scalar_one() == "skipped"
            assert "lease_owner" not in {c["name"] for c in inspect(conn).get_columns("author")}
        migrate(command.upgrade, "0002")
    finally:
        engine.dispose()


def test_the_pacer_spaces_requests_across_processes(db_url: str, store: Store) -> None:
    """Two engines stand for two processes; their request starts interleave, spaced."""
    delay, per_process = 0.15, 5
    engines = [Store.open(db_url) for _ in range(2)]
    starts: list[float] = []
    lock = threading.Lock()

    def requests(engine: Store) -> None:
        pacer = DatabasePacer(engine.engine, delay, name="export.arxiv.org")
        try:
            for _ in range(per_process):
                pacer.wait()
                with lock:
                    starts.append(time.monotonic())
        finally:
            pacer.close()  # the request lock's connection

    threads = [threading.Thread(target=requests, args=(e,)) for e in engines]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for e in engines:
            e.close()
    starts.sort()
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 2 * per_process
    assert min(gaps) >= 0.8 * delay, gaps  # 20 %: wake-up jitter of a loaded machine
    assert starts[-1] - starts[0] >= (len(starts) - 1) * delay * 0.95


def test_requests_of_several_processes_never_overlap_on_a_slow_server(
    db_url: str, store: Store, server: LookalikeServer
) -> None:
    """arXiv asks for one connection at a time: with answers taking four times the delay,
    two sources on two engines (two processes) still send one request at a time, each
    starting at least the delay after the one before."""
    delay, per_process = 0.1, 3
    server.faults.add(Stall(0.4, then_respond=True), times=None)
    stores = [Store.open(db_url) for _ in range(2)]  # ``store`` made the schema
    spans: list[tuple[float, float]] = []
    lock = threading.Lock()
    settings = make_settings(db_url, server.url, delay_seconds=delay, page_size=100)

    def requests(store: Store) -> None:
        with open_source(settings, store) as source:
            for _ in range(per_process):
                began = time.monotonic()
                source.search_ids(["2409.11321"], normalise_entry)
                with lock:
                    spans.append((began, time.monotonic()))

    threads = [threading.Thread(target=requests, args=(s,)) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        for s in stores:
            s.close()
    arrivals = sorted(r.time for r in server.requests)
    assert len(arrivals) == 2 * per_process
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= 0.4 * 0.95, gaps  # each request waited for the previous answer


def test_a_stop_cuts_the_pacer_wait_short(store: Store) -> None:
    stop = threading.Event()
    pacer = DatabasePacer(store.engine, 30.0, name="slow", stop_event=stop)
    try:
        pacer.wait()  # the first request may start at once
        threading.Timer(0.2, stop.set).start()
        began = time.monotonic()
        with pytest.raises(StopRequested):
            pacer.wait()
        assert time.monotonic() - began < 2
    finally:
        pacer.close()


def test_slot_names_are_the_api_host() -> None:
    assert slot_name("https://export.arxiv.org/api/query") == "export.arxiv.org"
    assert slot_name("http://127.0.0.1:8080/api/query") == "127.0.0.1"


def statements_of(store: Store, run: Callable[[], object]) -> list[str]:
    """The statements ``run`` sent on ``store``'s engine, the SQLite ``BEGIN`` left out."""
    seen: list[str] = []

    def note(*args: object) -> None:
        if not str(args[2]).startswith("BEGIN"):
            seen.append(" ".join(str(args[2]).split()))

    event.listen(store.engine, "before_cursor_execute", note)
    try:
        run()
    finally:
        event.remove(store.engine, "before_cursor_execute", note)
    return seen


def test_a_claim_of_free_authors_is_one_statement(store: Store) -> None:
    """A query's leases are claimed by one ``UPDATE ... RETURNING`` (on PostgreSQL one
    round trip, the clock read by the statement); why an author was refused is read only
    when one was."""
    store.sync_authors([("a1", "A One"), ("a2", "A Two"), ("a3", "A Three")])
    leases = Leases(store.engine, owner="a:1")
    claims: list[tuple[Lease | None, dict[str, Refusal]]] = []
    sent = statements_of(store, lambda: claims.append(leases.claim_many(["a2", "a1"])))
    lease, refusals = claims[0]
    assert lease is not None and lease.author_keys == ("a2", "a1") and not refusals
    assert len(sent) == 1 and sent[0].startswith("UPDATE author SET lease_owner"), sent
    other = Leases(store.engine, owner="b:2")
    _, refused = other.claim_many(["a1", "a3"])
    assert refused["a1"].reason.startswith("leased by a:1 until ")
    lease.release()


def test_a_harvest_lets_go_of_its_lease_as_it_commits(store: Store) -> None:
    """The transaction that writes a harvest confirms and releases its authors' lease in
    one statement; the lease's end then releases only what no harvest committed, and a
    renewal does not take the let-go authors for lost."""
    store.sync_authors([("a1", "A One"), ("a2", "A Two")])
    leases = Leases(store.engine, owner="a:1", ttl_seconds=0.4)
    lease = held(leases.claim_many(["a1", "a2"])[0])
    with pytest.raises(RuntimeError), store.transaction() as conn:  # a write that failed
        lease.release_with(conn, ["a1"])
        raise RuntimeError("the write failed")
    assert lease.held() == ["a1", "a2"]
    assert rows(store, "SELECT key FROM author WHERE lease_owner = 'a:1' ORDER BY key") == [
        ("a1",),
        ("a2",),
    ]
    with lease:
        with store.transaction() as conn:
            lease.release_with(conn, ["a1"])
        lease.released(["a1"])
        assert lease.held() == ["a2"]
        time.sleep(0.25)  # a renewal came: a2 is still ours, a1 not renewed, nothing lost
        assert rows(store, "SELECT key FROM author WHERE lease_owner = 'a:1'") == [("a2",)]
        assert lease.renew()
    assert rows(store, "SELECT COUNT(*) FROM author WHERE lease_owner IS NOT NULL") == [(0,)]
    assert statements_of(store, lease.release) == []  # nothing left to release


def test_a_lease_taken_over_cannot_be_released_with_a_write(store: Store) -> None:
    store.sync_authors([("a1", "A One")])
    old = held(Leases(store.engine, owner="dead:1", clock=at(T0)).claim("a1"))
    held(Leases(store.engine, owner="b:2", clock=at(T0 + timedelta(seconds=121))).claim("a1"))
    with pytest.raises(LeaseLostError, match="taken over"), store.transaction() as conn:
        old.release_with(conn, ["a1"])
    assert not old.renew()
    assert rows(store, "SELECT lease_owner FROM author") == [("b:2",)]


def test_a_due_request_claims_its_start_in_one_statement(store: Store) -> None:
    """When the earliest start has passed (answers slower than the delay), a request's turn
    costs one statement on the slot; one that must wait reads the slot, sleeps and claims."""
    delay = 0.5  # long enough that the next turn cannot be due by the time it is asked
    pacer = DatabasePacer(store.engine, delay, name="one-statement")

    def on_slot() -> list[str]:
        sent = statements_of(store, pacer.wait)
        return [s for s in sent if "request_slot" in s]

    try:
        pacer.wait()  # the slot's row is made
        time.sleep(delay + 0.05)
        due = on_slot()
        assert len(due) == 1 and due[0].startswith("UPDATE request_slot"), due
        began = time.monotonic()
        waited = on_slot()
        assert time.monotonic() - began >= delay * 0.95
        assert [s.split()[0] for s in waited] == ["UPDATE", "SELECT", "UPDATE"], waited
    finally:
        pacer.close()
