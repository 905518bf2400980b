"""sd_notify against a real unix datagram socket, and the journald-friendly log format."""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harvester.logformat import OneLineFormatter, under_systemd
from harvester.notify import Notifier


@pytest.fixture
def path_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    address = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(address)
        sock.settimeout(2)
        yield sock, address


def test_messages_arrive_as_one_datagram_each(path_socket: tuple[socket.socket, str]) -> None:
    sock, address = path_socket
    notifier = Notifier({"NOTIFY_SOCKET": address})
    assert notifier.enabled
    assert notifier.ready("next harvest 2026-11-29T01:30:00Z")
    assert sock.recv(4096) == b"READY=1\nSTATUS=next harvest 2026-11-29T01:30:00Z"
    assert notifier.status("last cycle:\n2 ok")
    assert sock.recv(4096) == b"STATUS=last cycle: 2 ok"
    assert notifier.watchdog()
    assert sock.recv(4096) == b"WATCHDOG=1"
    assert notifier.stopping("stopping")
    assert sock.recv(4096) == b"STOPPING=1\nSTATUS=stopping"


def test_abstract_socket_names_start_with_at() -> None:
    name = f"harvester-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(b"\0" + name.encode())
        sock.settimeout(2)
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready("up")
        assert sock.recv(4096) == b"READY=1\nSTATUS=up"


def test_without_notify_socket_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled
    assert not notifier.ready("up")
    assert notifier.watchdog_seconds is None


def test_a_dead_socket_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    with caplog.at_level(logging.WARNING, "harvester.notify"):
        assert not notifier.status("x")
    assert "sd_notify" in caplog.text
    assert not Notifier({"NOTIFY_SOCKET": "relative/path"}).enabled


def test_a_reader_that_stopped_reading_never_blocks_the_sender(
    path_socket: tuple[socket.socket, str], caplog: pytest.LogCaptureFixture
) -> None:
    """A full queue drops the message: a blocking send hung the daemon's main thread, and
    with it SIGHUP, SIGTERM and the watchdog, while the reader did not read."""
    sock, address = path_socket
    notifier = Notifier({"NOTIFY_SOCKET": address})
    began = time.monotonic()
    with caplog.at_level(logging.WARNING, "harvester.notify"):
        sent = [notifier.watchdog() for _ in range(5000)]  # far past any queue length
    assert time.monotonic() - began < 5
    assert sent[0] and not sent[-1]
    assert "sd_notify" in caplog.text
    assert sock.recv(4096) == b"WATCHDOG=1"  # what fitted in the queue is still there


@pytest.mark.parametrize(
    ("environ", "seconds"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": str(os.getpid())}, 0.5),
        ({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "1"}, None),  # meant for another process
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval(environ: dict[str, str], seconds: float | None) -> None:
    assert Notifier(environ).watchdog_seconds == seconds


def _record(level: int, message: str, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError as error:
            exc_info = (type(error), error, error.__traceback__)
    return logging.LogRecord("harvester.sync", level, __file__, 1, message, None, exc_info)


def test_under_systemd_records_carry_syslog_priorities() -> None:
    journal = OneLineFormatter(journal=True)
    assert journal.format(_record(logging.WARNING, "kakade: slow")) == (
        "<4>WARNING harvester.sync: kakade: slow"
    )
    assert journal.format(_record(logging.INFO, "x")).startswith("<6>INFO ")
    assert journal.format(_record(logging.ERROR, "x")).startswith("<3>ERROR ")
    assert journal.format(_record(logging.DEBUG, "x")).startswith("<7>DEBUG ")
    plain = OneLineFormatter(journal=False)
    assert plain.format(_record(logging.WARNING, "x")) == "WARNING harvester.sync: x"


def test_tracebacks_and_newlines_stay_on_one_line() -> None:
    line = OneLineFormatter(journal=True).format(_record(logging.ERROR, "two\nlines", exc=True))
    assert "\n" not in line
    assert line.startswith("<3>ERROR harvester.sync: two | lines | Traceback")
    assert "ValueError: boom" in line


def test_systemd_is_recognised_by_its_environment() -> None:
    assert under_systemd({"JOURNAL_STREAM": "8:12345"})
    assert under_systemd({"INVOCATION_ID": "0123abcd"})
    assert not under_systemd({})
