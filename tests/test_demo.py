"""``harvest demo``: the look-alike as a child process that never outlives the demo, and
``harvest demo --identity [--keep DIR]`` on the five "Wei Zhang"s, run as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from arxiv_lookalike.namesakes import CLAIMANTS, namesake_corpus
from harvester.demo import lookalike
from harvester.errors import LookalikeStartError
from harvester.store import Store

from .support import REPO, interruptible, rows, run_cli, signal_state


def processes_with(marker: str) -> list[int]:
    """Live processes whose environment or command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            seen = (entry / "environ").read_bytes() + (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in seen and state != "Z":
            found.append(int(entry.name))
    return found


def gone(marker: str, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while processes_with(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.fixture
def marker() -> str:
    """An environment value that marks the demo's processes (the look-alike inherits it)."""
    return f"demo-test-{uuid.uuid4().hex}"


def test_the_identity_demo_shows_the_figures_and_leaves_no_look_alike(
    tmp_path: Path, marker: str
) -> None:
    result = run_cli("demo", "--identity", cwd=tmp_path, env={"DEMO_MARKER": marker})
    assert result.returncode == 0, result.stderr
    by_name, anchored = result.stdout.split("2. Her arXiv author identifier added")
    assert "wei-zhang  124 papers" in by_name
    assert "124 accepted, 310 held for review, 0 rejected; ambiguous" in by_name
    assert "wei-zhang  124 papers" in anchored
    assert "124 accepted, 15 held for review, 295 rejected; not ambiguous" in anchored
    assert "2012.00439  score 0.90  1 co-author shared with accepted papers" in anchored
    assert "temporary and is gone" in anchored
    assert "harvest --config DIR/harvester.toml review wei-zhang --accept 2012.00439" in anchored
    assert list(tmp_path.iterdir()) == []
    assert processes_with(marker) == []


def test_a_kept_identity_demo_holds_exactly_her_papers_and_can_be_reviewed(
    tmp_path: Path, marker: str
) -> None:
    kept = tmp_path / "kept"
    result = run_cli("demo", "--identity", "--keep", str(kept), env={"DEMO_MARKER": marker})
    assert result.returncode == 0, result.stderr
    config = kept / "harvester.toml"
    command = f"harvest --config {config} review wei-zhang"
    assert f"The database is kept in {kept}" in result.stdout and command in result.stdout
    corpus = namesake_corpus(seed=0)
    hers = {p.arxiv_id for p in corpus.papers_of(corpus.tracked)}
    store = Store.open(f"sqlite:///{kept / 'demo.db'}")
    try:
        accepted = {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM profile_papers")}
        held = {r.arxiv_id for r in rows(store, "SELECT arxiv_id FROM review_queue")}
    finally:
        store.close()
    assert accepted == hers and not held & hers and len(held) == 15
    review = run_cli("--config", str(config), "review", "wei-zhang")
    assert review.returncode == 0 and review.stdout.startswith("wei-zhang: 15 papers held")
    assert processes_with(marker) == []
    again = run_cli("demo", "--identity", "--keep", str(kept))
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert "already holds a demo (demo.db, harvester.toml)" in again.stderr


def test_a_keep_folder_that_cannot_be_created_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    result = run_cli("demo", "--keep", str(tmp_path / "file" / "demo"))
    assert result.returncode == 73 and result.stderr.count("\n") == 1
    assert "cannot create" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_an_interrupted_demo_leaves_no_look_alike(marker: str, how: signal.Signals) -> None:
    """Ctrl-C: the demo stops its child and exits 130; killed outright: the child sees its
    standard input close and stops by itself."""
    env = {**os.environ, "DEMO_MARKER": marker}
    demo = subprocess.Popen(
        interruptible("harvester.cli", "demo", "--identity"),
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert demo.stdout is not None
        assert demo.stdout.readline().startswith("1. By name alone"), "the harvest began"
        found = processes_with(marker)
        assert len(found) == 2, "the demo and its look-alike"
        (child,) = set(found) - {demo.pid}
        os.kill(child, signal.SIGSTOP)  # the harvest waits on it: the demo cannot end first
        state = signal_state(demo.pid)
        demo.send_signal(how)
        os.kill(child, signal.SIGCONT)
        _, stderr = demo.communicate(timeout=30)
    finally:
        demo.kill()
    if how == signal.SIGINT:
        assert demo.returncode == 130 and stderr == "harvest: interrupted\n", state
    assert gone(marker), "no look-alike left behind"


def test_a_look_alike_that_cannot_start_is_one_line_and_exit_69(
    tmp_path: Path, marker: str
) -> None:
    """An empty ``arxiv_lookalike`` shadows the installed one: a broken install (its data
    missing) ends the child at once; the demo says why in one line, with the child's last."""
    (tmp_path / "arxiv_lookalike").mkdir()
    (tmp_path / "arxiv_lookalike" / "__init__.py").write_text("", encoding="utf-8")
    env = {"PYTHONPATH": str(tmp_path), "DEMO_MARKER": marker}
    result = run_cli("demo", cwd=tmp_path, env=env)
    assert result.returncode == 69 and result.stderr.count("\n") == 1, result.stderr
    assert "the arXiv look-alike did not start (exit 1):" in result.stderr
    assert "No such file or directory" in result.stderr and "reinstall it" in result.stderr
    assert result.stdout == "" and processes_with(marker) == []


def test_a_silent_look_alike_times_out_and_is_stopped(marker: str) -> None:
    silent = [sys.executable, "-c", "import time; time.sleep(60)", marker]
    started = time.monotonic()
    with (
        pytest.raises(LookalikeStartError, match=r"printed no URL within 0\.5 s"),
        lookalike(command=silent, timeout=0.5),
    ):
        pass
    assert time.monotonic() - started < 10
    assert gone(marker, within=1)


def test_demo_help_documents_identity_and_keep() -> None:
    result = run_cli("demo", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--identity five people all written 'Wei Zhang'" in text
    assert "--keep DIR keep the demo's database in DIR" in text


def test_the_look_alike_serves_the_namesakes_and_stops_when_its_stdin_closes() -> None:
    corpus = namesake_corpus(seed=0)
    with subprocess.Popen(
        [sys.executable, "-m", "arxiv_lookalike", "--namesakes", "--stop-on-eof"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        assert server.stdout is not None and server.stdin is not None
        url = server.stdout.readline().strip()
        base = url.rsplit("/api/", 1)[0]
        with urllib.request.urlopen(f"{base}/a/{CLAIMANTS[0]}.atom2", timeout=10) as answer:
            feed = answer.read().decode()
        assert feed.count("<entry>") == len(corpus.feed_ids) == 49
        server.stdin.close()
        assert server.wait(timeout=10) == 0
