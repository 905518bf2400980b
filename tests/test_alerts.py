"""Notifications (issue 25), end to end on SQLite and PostgreSQL: real harvests of the
look-alike, real deliveries to servers on loopback (an ``aiosmtpd`` SMTP server for
``mailto://``, an ``http.server`` receiver for ``json://``), real ``harvest`` processes where
the process is the subject (SIGKILL, two at once, what is printed)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.namesakes import (
    CLAIMANTS,
    NAME,
    later_papers,
    namesake_corpus,
    namesake_records,
)
from harvester.alerts import Redactor
from harvester.config import NotifySettings, Settings, load_settings
from harvester.errors import ConfigError
from harvester.store import Store
from harvester.vocabulary import AlertKind, Digest

from .support import AUTHORS, REPO, harvest, make_settings, rows, run_cli, write_config
from .test_daemon import Daemon, environment

LATER = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
SECRET = "s3cr3t-t0ken-9f8e7d"
PASSWORD = "hunter2-pa55"


# -- servers on loopback --------------------------------------------------------------------


class Receiver:
    """A ``json://`` target: records each message; ``down`` answers 503; ``hang`` accepts
    and never answers (a process killed mid-delivery)."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.down = False
        self.hang = threading.Event()
        self.hung = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if receiver.hang.is_set():
                    receiver.hung.set()
                    receiver.release.wait(30)
                    return
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.down:
                    self.send_response(503)
                else:
                    receiver.messages.append(json.loads(body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "hook") -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/{path}"

    @property
    def titles(self) -> list[str]:
        return [m["title"] for m in self.messages]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.release.set()
    r.server.shutdown()
    r.server.server_close()


class Mailbox:
    """What the SMTP server on loopback received."""

    def __init__(self) -> None:
        self.mails: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as probe:  # aiosmtpd's Controller needs a port number up front
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


# -- helpers ----------------------------------------------------------------------------------


def target(name: str, url: str, **more: Any) -> NotifySettings:
    return NotifySettings(name=name, url=url, **more)


def with_targets(settings: Settings, *targets: NotifySettings) -> Settings:
    return replace(settings, notify=targets)


def add_paper(corpus: Corpus, arxiv_id: str, title: str, when: datetime = LATER) -> None:
    template = next(p for p in corpus if any(a.name == "Sham Kakade" for a in p.authors))
    corpus.upsert(
        replace(template, arxiv_id=arxiv_id, version=1, title=title, published=when, updated=when)
    )


def new_version(corpus: Corpus, when: datetime = LATER) -> str:
    paper = next(p for p in corpus if any(a.name == "Sham Kakade" for a in p.authors))
    corpus.upsert(replace(paper, version=paper.version + 1, updated=when))
    return paper.arxiv_id


def notifications(store: Store) -> list[Any]:
    return rows(store, "SELECT * FROM notifications ORDER BY created, target")


# -- one message per target, none when quiet, none for the baseline --------------------------


def test_one_message_per_target_after_news_and_none_otherwise(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    corpus: Corpus,
    receiver: Receiver,
    mailbox: tuple[Mailbox, int],
) -> None:
    box, port = mailbox
    mail = f"mailto://127.0.0.1:{port}?from=harvester@example.org&to=me@example.org"
    settings = with_targets(
        make_settings(db_url, server.url),
        target("hook", receiver.url()),
        target("mail", mail, events=tuple(AlertKind)),
    )
    assert harvest(store, settings).exit_code == 0  # the baseline: nothing to tell
    assert (receiver.messages, box.mails, notifications(store)) == ([], [], [])

    add_paper(corpus, "2611.01234", "A *brand* new paper")
    revised = new_version(corpus)
    gone = next(p for p in corpus if p.arxiv_id != revised and "Sham Kakade" in str(p.authors))
    corpus.revise(gone.arxiv_id, updated=LATER, comment="This paper has been withdrawn")
    assert harvest(store, settings).exit_code == 0

    [message] = receiver.messages  # the default events: no withdrawals
    assert message["title"] == "1 new paper, 2 new versions: Sham Kakade"
    assert (
        "[A \\*brand\\* new paper](https://arxiv.org/abs/2611.01234) (2611.01234, v1, 2026-11-27)"
        in message["message"]
    )
    assert f"https://arxiv.org/abs/{revised}" in message["message"]
    [email] = box.mails
    assert email["Subject"] == "1 new paper, 2 new versions, 1 withdrawal: Sham Kakade"
    parts = {part.get_content_type(): part.get_payload(decode=True) for part in email.walk()}
    assert b"2611.01234" in parts["text/plain"] and b"<a href=" in parts["text/html"]

    assert harvest(store, settings).exit_code == 0  # a quiet cycle
    assert (len(receiver.messages), len(box.mails)) == (1, 1)
    sent = notifications(store)
    assert [(n.target, n.attempts, n.last_error) for n in sent] == [
        ("hook", 1, None),
        ("mail", 1, None),
    ]
    assert all(n.sent is not None for n in sent)


def test_held_papers_and_failing_authors_reach_the_targets_that_asked(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, receiver: Receiver
) -> None:
    """Only the events a target asked for, only for its authors; a failing author once per
    run of failures, with since when and the last error."""
    settings = with_targets(
        make_settings(db_url, server.url, max_attempts=1, authors=AUTHORS),
        target("failing", receiver.url("f"), events=(AlertKind.FAILING,)),
        target("elsewhere", receiver.url("e"), authors=("morwani",)),
    )
    harvest(store, settings)
    add_paper(corpus, "2611.05555", "Only kakade's")
    server.stop()
    assert harvest(store, settings).exit_code != 0
    assert harvest(store, settings).exit_code != 0
    [message] = receiver.messages
    assert message["title"] == "2 authors failing: Sham Kakade, Depen Morwani"
    assert "failing since" in message["message"] and "last error:" in message["message"]


def test_papers_newly_held_for_review_say_why_and_how_to_decide(
    store: Store, db_url: str, receiver: Receiver
) -> None:
    namesakes = namesake_corpus(seed=0)
    corpus = Corpus.from_dicts(namesake_records(namesakes, CLAIMANTS))
    with LookalikeServer(corpus) as server:
        who = {"key": "zhang", "name": NAME, "orcid": CLAIMANTS[1]}
        settings = make_settings(
            db_url, server.url, authors=[who], author_feed_url=server.base_url + "/a"
        )
        held = target("review", receiver.url(), events=(AlertKind.HELD_FOR_REVIEW,))
        settings = with_targets(settings, held)
        harvest(store, settings)  # the baseline holds many, and says nothing
        before = {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM review_queue")}
        for record in namesake_records(later_papers(namesakes, per_person=3), ()):
            corpus.upsert(record)
        harvest(store, settings)
    newly = {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM review_queue")} - before
    assert newly
    [message] = receiver.messages
    assert message["title"] == f"{len(newly)} papers held for review: {NAME}"
    body = message["message"]
    assert body.count("Decide with `harvest review zhang`") == len(newly)
    assert all(f"https://arxiv.org/abs/{arxiv_id}" in body for arxiv_id in newly)


# -- digests ---------------------------------------------------------------------------------


def test_a_daily_digest_gathers_several_cycles(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, receiver: Receiver
) -> None:
    start = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
    settings = with_targets(
        make_settings(db_url, server.url), target("daily", receiver.url(), digest=Digest.DAILY)
    )
    harvest(store, settings, when=start)
    add_paper(corpus, "2611.07001", "Monday's paper", start)
    harvest(store, settings, when=start + timedelta(hours=1))
    add_paper(corpus, "2611.07002", "Tuesday's paper", start + timedelta(hours=2))
    harvest(store, settings, when=start + timedelta(hours=20))
    assert receiver.messages == []
    harvest(store, settings, when=start + timedelta(days=1, hours=1))
    [message] = receiver.messages
    assert message["title"] == "2 new papers: Sham Kakade"
    assert "Monday's paper" in message["message"] and "Tuesday's paper" in message["message"]
    harvest(store, settings, when=start + timedelta(days=3))
    assert len(receiver.messages) == 1


# -- exactly once, whatever fails ------------------------------------------------------------


def test_a_target_down_for_two_cycles_then_up_receives_everything_once(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, receiver: Receiver
) -> None:
    settings = with_targets(make_settings(db_url, server.url), target("hook", receiver.url()))
    harvest(store, settings)
    receiver.down = True
    add_paper(corpus, "2611.08001", "First while down")
    assert harvest(store, settings).exit_code == 0  # a target down is not the harvest's failure
    add_paper(corpus, "2611.08002", "Second while down")
    assert harvest(store, settings).exit_code == 0
    waiting = notifications(store)
    assert [(n.attempts, n.sent) for n in waiting] == [(6, None), (3, None)]
    assert all("503" in n.last_error or "not delivered" in n.last_error for n in waiting)
    receiver.down = False
    assert harvest(store, settings).exit_code == 0
    harvest(store, settings)
    assert sorted(receiver.titles) == ["1 new paper: Sham Kakade"] * 2
    assert {m["message"].count("while down") for m in receiver.messages} == {1}
    assert all(n.sent is not None for n in notifications(store))


def config_file(tmp_path: Path, db_url: str, api_url: str, url: str) -> Path:
    path = write_config(
        tmp_path, db_url, api_url, arxiv={"delay_seconds": 0, "timeout_seconds": 5},
        extra=f'\n[[notify]]\nname = "hook"\nurl = "{url}"\n',
    )  # fmt: skip
    path.chmod(0o600)
    return path


def harvest_process(config: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARVESTER_")}
    return subprocess.Popen(
        [sys.executable, "-m", "harvester.cli", "--config", str(config), "--once", *args],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_sigkill_between_commit_and_delivery_then_delivered_once(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    corpus: Corpus,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    config = config_file(tmp_path, db_url, server.url, receiver.url())
    settings = load_settings(config, {})
    harvest(store, settings)
    add_paper(corpus, "2611.09001", "Killed before it was told")
    receiver.hang.set()
    process = harvest_process(config)
    assert receiver.hung.wait(60), process.communicate()
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    [waiting] = notifications(store)
    assert waiting.sent is None and receiver.messages == []

    receiver.hang.clear()
    receiver.release.set()
    harvest(store, settings)  # the dead process's claim still stands: nobody delivers yet
    assert receiver.messages == []
    harvest(store, settings, when=datetime.now(UTC) + timedelta(minutes=3))  # the claim expired
    harvest(store, settings, when=datetime.now(UTC) + timedelta(minutes=4))
    assert receiver.titles == ["1 new paper: Sham Kakade"]


def test_two_concurrent_runs_deliver_once(
    store: Store,
    server: LookalikeServer,
    db_url: str,
    corpus: Corpus,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    config = config_file(tmp_path, db_url, server.url, receiver.url())
    harvest(store, load_settings(config, {}))
    add_paper(corpus, "2611.09101", "Told once")
    processes = [harvest_process(config, "-q") for _ in range(2)]
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode in (0, 75), err  # 75: the other process had the author
    assert receiver.titles == ["1 new paper: Sham Kakade"]
    assert len(notifications(store)) == 1
    preview = run_cli("--config", str(config), "notify", "--preview")
    assert (preview.returncode, preview.stdout) == (0, "nothing to send\n")
    tried = run_cli("--config", str(config), "notify", "--test")
    assert (tried.returncode, tried.stdout) == (0, "notify target hook: delivered\n")
    assert receiver.titles[-1] == "arxiv-harvester: test message"


def test_the_daemon_delivers_after_its_cycles_once(
    tmp_path: Path, server: LookalikeServer, corpus: Corpus, receiver: Receiver
) -> None:
    """The daemon runs what ``--once`` runs: its cycles deliver, and only once."""
    db_url = f"sqlite:///{tmp_path / 'h.db'}"
    config = write_config(
        tmp_path, db_url, server.url,
        arxiv={"delay_seconds": 0, "timeout_seconds": 2},
        schedule={"interval_seconds": 1.5, "jitter_seconds": 0},
        extra=f'\n[[notify]]\nurl = "{receiver.url()}"\n',
    )  # fmt: skip
    config.chmod(0o600)
    store = Store.open(db_url)
    try:
        store.upgrade()
        harvest(store, load_settings(config, {}))
    finally:
        store.close()
    add_paper(corpus, "2611.09301", "Told by the daemon")
    daemon = Daemon(config, "--run-now", env=environment())
    try:
        deadline = time.monotonic() + 60
        while not receiver.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(3.5)  # two more cycles
        assert daemon.stop()[0] == 0
    finally:
        daemon.kill()
    assert receiver.titles == ["1 new paper: Sham Kakade"], daemon.stderr


# -- secrets ----------------------------------------------------------------------------------


def test_a_secret_is_never_printed_or_stored(
    store: Store, server: LookalikeServer, db_url: str, corpus: Corpus, tmp_path: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"json://harvester:{PASSWORD}@127.0.0.1:{port}/hooks/{SECRET}?rto=1"
    config = config_file(tmp_path, db_url, server.url, url)
    harvest(store, load_settings(config, {}))
    add_paper(corpus, "2611.09201", "Told nobody")
    said = [
        run_cli("--config", str(config), "-v", *args)
        for args in (["--once"], ["notify", "--test"], ["notify", "--preview"])
    ]
    assert [r.returncode for r in said] == [0, 75, 0]
    assert "notify target hook: not delivered" in said[1].stdout
    assert "1 new paper: Sham Kakade" in said[2].stdout
    printed = "".join(r.stdout + r.stderr for r in said)
    assert "POST" in printed  # the vendors' DEBUG lines were there, masked
    assert SECRET not in printed and PASSWORD not in printed
    stored = " ".join(str(n) for n in notifications(store))
    assert SECRET not in stored and PASSWORD not in stored and "Connection error" in stored


def test_the_redactor_masks_every_part_that_may_be_secret() -> None:
    redactor = Redactor([f"json://me:{PASSWORD}@host:8080/hooks/{SECRET}?token={SECRET}x"])
    assert redactor.mask(f"POST /hooks/{SECRET} as {PASSWORD}") == "POST /***/*** as ***"
    assert redactor.mask("to 127.0.0.1:8080 (v1)") == "to 127.0.0.1:8080 (v1)"
    slack = Redactor(["slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"])
    assert (
        slack.mask("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ") == "slack://***/***/***"
    )


# -- the config ---------------------------------------------------------------------------------


def test_bad_notify_settings_get_one_line_each(tmp_path: Path) -> None:
    def refused(extra: str, mode: int = 0o600, environ: dict[str, str] | None = None) -> str:
        path = write_config(tmp_path, "sqlite:///x.db", "http://127.0.0.1:1/api", extra=extra)
        path.chmod(mode)
        with pytest.raises(ConfigError) as caught:
            load_settings(path, environ or {})
        return str(caught.value).split(": ", 1)[1]

    url = f'url = "json://u:{PASSWORD}@h/x"'
    assert refused(f"[[notify]]\n{url}\n", mode=0o644).startswith(
        "notify: a [[notify]] url may hold a secret, but the file is readable by everyone"
    )
    assert refused(f'[[notify]]\n{url}\nevents = ["new_papers"]\n') == (
        "notify[0].events[0]: expected one of new_paper, new_version, withdrawn,"
        " held_for_review, failing, got 'new_papers'"
    )
    assert refused('[[notify]]\nurl_env = "HOOK"\n') == (
        "notify[0].url_env: environment variable HOOK is not set"
    )
    assert refused(f'[[notify]]\n{url}\nauthors = ["nobody"]\n') == (
        "notify[0].authors: no configured author has key 'nobody'"
    )
    assert PASSWORD not in refused(f'[[notify]]\nurl = "not a url {PASSWORD}"\n')
    path = write_config(
        tmp_path, "sqlite:///x.db", "http://127.0.0.1:1/api", extra='[[notify]]\nurl_env = "HOOK"\n'
    )
    assert load_settings(path, {"HOOK": f"json://u:{PASSWORD}@h/x"}).notify[0].name == "json-1"


def test_an_unknown_service_stops_harvest_once_with_one_line(tmp_path: Path) -> None:
    path = write_config(
        tmp_path, f"sqlite:///{tmp_path}/h.db", "http://127.0.0.1:1/api",
        extra=f'[[notify]]\nurl = "nosuchservice://{SECRET}"\n',
    )  # fmt: skip
    path.chmod(0o600)
    result = run_cli("--config", str(path), "--once")
    assert result.returncode == 2
    assert result.stderr.startswith("harvest: error: ")
    assert (
        "notify target nosuchservice-1: the url is not one of a service apprise knows"
        in result.stderr
    )
    assert len(result.stderr.splitlines()) == 1 and SECRET not in result.stderr
    assert not (tmp_path / "h.db").exists()
