"""Cycles sharing a database leave the derived data's refresh to the one that ends last
(:mod:`harvester.store.sharing`), on SQLite and PostgreSQL. Each store stands for a
process: its own engine, so its own advisory-lock connection or lock-file descriptor."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harvester.store import SharedCycle, Store

from .support import database_url


@pytest.fixture
def cycles(db_url: str, store: Store) -> Iterator[list[SharedCycle]]:
    """Three processes' sides of the lock (``store`` made the schema)."""
    stores = [Store.open(db_url) for _ in range(3)]
    sides = [s.shared_cycle() for s in stores]
    yield sides
    for side, s in zip(sides, stores, strict=True):
        side.close()
        s.close()


def turn(side: SharedCycle, stop: threading.Event | None = None) -> bool:
    with side.refresh_turn(stop or threading.Event()) as mine:
        return mine


def test_alone_a_cycle_refreshes(cycles: list[SharedCycle]) -> None:
    with cycles[0].harvesting():
        pass
    assert turn(cycles[0])


def test_a_cycle_ending_while_another_harvests_leaves_the_refresh_to_it(
    cycles: list[SharedCycle],
) -> None:
    first, second, _ = cycles
    with second.harvesting():
        with first.harvesting():
            pass
        assert not turn(first)  # the second has not ended: it refreshes
    assert turn(second)


def test_of_cycles_ending_together_exactly_one_refreshes_after_both(
    cycles: list[SharedCycle],
) -> None:
    first, second, _ = cycles
    with first.harvesting(), second.harvesting():
        pass
    with first.refresh_turn(threading.Event()) as mine:
        assert mine
        assert not turn(second, stop_soon())  # waits for the refresh, stopped here
    assert turn(second)  # the refresh over: its turn (it finds the data current)


def test_a_cycle_ending_during_a_refresh_waits_for_it_then_refreshes(
    cycles: list[SharedCycle],
) -> None:
    """The refresh may have read the database before this cycle's last writes."""
    refresher, late, _ = cycles
    order: list[str] = []
    with refresher.refresh_turn(threading.Event()) as mine:
        assert mine
        with late.harvesting():  # began during the refresh: it does not wait to harvest
            pass
        waiter = threading.Thread(target=lambda: order.append(f"late: {turn(late)}"))
        waiter.start()
        time.sleep(1.2)  # the waiter looks again every 0.5 s
        order.append("refresh over")
    waiter.join(10)
    assert order == ["refresh over", "late: True"]


def test_a_killed_cycle_holds_nothing(db_url: str, cycles: list[SharedCycle]) -> None:
    """The lock goes with its connection or file descriptor, as with a process's death."""
    first, second, _ = cycles
    harvesting = first.harvesting()
    harvesting.__enter__()
    assert not turn(second)
    first.close()  # what the process's end does
    assert turn(second)


def stop_soon() -> threading.Event:
    stop = threading.Event()
    threading.Timer(0.7, stop.set).start()
    return stop


def test_cycles_of_another_database_are_not_waited_for(
    db_url: str, cycles: list[SharedCycle], tmp_path: Path
) -> None:
    """Another data set (on PostgreSQL a schema of its own, as each test has; on SQLite
    another file) has a lock of its own."""
    dialect = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    with database_url(dialect, tmp_path, "other.db") as other_url:
        other = Store.open(other_url)
        try:
            other.upgrade()
            side = other.shared_cycle()
            with cycles[0].harvesting():
                assert turn(side)  # not left to a cycle of the first database
                assert not turn(cycles[1])
            side.close()
        finally:
            other.close()
