"""``harvest import FILE``: arXiv's metadata snapshot streamed into the database in
batches, resumable, then matched against the tracked authors; real SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.snapshot import write_snapshot
from harvester.cycle import import_snapshot, match_stored, open_source
from harvester.errors import SnapshotInputError
from harvester.normalise import parse_arxiv_id
from harvester.source.snapshot import snapshot_lines, snapshot_paper
from harvester.store import Store

from . import oai_support, support
from .oai_support import events, profile, settings_for, url_of
from .support import rows


@pytest.fixture(params=["sqlite", "postgresql"])
def two_stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    with oai_support.two_stores(request.param, tmp_path) as stores:
        yield stores


class Interrupted(Exception):
    """Stands for a kill between two batches."""


def test_a_record_reads_field_by_field(tmp_path: Path, corpus: Corpus) -> None:
    path = tmp_path / "snapshot.json.gz"
    write_snapshot(corpus, path, gzipped=True)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    lines = list(snapshot_lines(path))
    assert len(lines) == len(corpus)
    by_id = {parse_arxiv_id(p.arxiv_id)[0]: p for p in corpus}  # math.CA/0309136: math/0309136
    for line in lines:
        paper, updated = snapshot_paper(line)
        source = by_id[paper.arxiv_id]
        assert [(a.name, a.affiliations) for a in paper.authors] == [
            (a.name, a.affiliations) for a in source.authors
        ]
        assert paper.version == source.version and len(paper.history) == source.version
        assert paper.published == source.published and paper.updated == source.updated
        assert updated is not None and updated >= source.updated.date()


def test_import_then_match_gives_the_profile_a_harvest_gives(
    two_stores: tuple[Store, Store], server: LookalikeServer, corpus: Corpus, tmp_path: Path
) -> None:
    api_store, imported = two_stores
    api = settings_for(url_of(api_store), server, "api")
    settings = settings_for(url_of(imported), server, "oai")
    support.harvest(api_store, api, full=True)
    path = tmp_path / "snapshot.jsonl"
    write_snapshot(corpus, path)
    report = import_snapshot(settings, imported, path, batch_size=40)
    assert report.finished and report.records == len(corpus) and report.refused == 0
    newest = max(p.updated for p in corpus).date()
    assert report.newest == newest
    assert rows(imported, "SELECT COUNT(*) FROM paper")[0][0] == len(corpus)
    source = open_source(settings, imported)
    try:
        matched = match_stored(settings, imported, source)
    finally:
        source.close()
    assert matched.exit_code == 0 and matched.authors[0].paper_count == 76
    assert profile(imported) == profile(api_store)
    assert events(imported) == []
    server.clear_requests()
    support.harvest(imported, settings)  # the OAI delta starts at the snapshot's newest day
    (asked,) = [r.params for r in server.requests]
    assert asked["from"] == f"{newest.fromordinal(newest.toordinal() - 1)}"


def test_a_killed_import_resumes_after_its_last_batch(
    store: Store, server: LookalikeServer, corpus: Corpus, tmp_path: Path, db_url: str
) -> None:
    settings = settings_for(db_url, server, "oai")
    path = tmp_path / "snapshot.jsonl.gz"
    write_snapshot(corpus, path, gzipped=True)
    batches: list[int] = []

    def kill_after_two(report: object) -> None:
        batches.append(1)
        if len(batches) == 2:
            raise Interrupted

    with pytest.raises(Interrupted):
        import_snapshot(settings, store, path, batch_size=30, on_batch=kill_after_two)
    assert rows(store, "SELECT COUNT(*) FROM paper")[0][0] == 60
    resumed = import_snapshot(settings, store, path, batch_size=30)
    assert resumed.resumed_at == 60 and resumed.finished and resumed.records == len(corpus)
    assert rows(store, "SELECT COUNT(*) FROM paper")[0][0] == len(corpus)
    again = import_snapshot(settings, store, path, batch_size=30)
    assert again.finished and again.lines == len(corpus)  # nothing read twice
    versions = rows(store, "SELECT COUNT(*) FROM paper_version")[0][0]
    assert versions == sum(p.version for p in corpus)


def test_what_is_not_a_snapshot_is_one_clear_error(
    store: Store, server: LookalikeServer, tmp_path: Path, db_url: str, corpus: Corpus
) -> None:
    settings = settings_for(db_url, server, "oai")
    with pytest.raises(SnapshotInputError, match="No such file") as missing:
        import_snapshot(settings, store, tmp_path / "absent.jsonl")
    assert missing.value.exit_code == 2
    text = tmp_path / "notes.txt"
    text.write_text("".join(f"line {i}\n" for i in range(50)))
    with pytest.raises(SnapshotInputError, match="are not papers"):
        import_snapshot(settings, store, text)
    whole = tmp_path / "whole.jsonl.gz"
    write_snapshot(corpus, whole, gzipped=True)
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # a download cut short
    with pytest.raises(SnapshotInputError, match="EOFError"):
        import_snapshot(settings, store, cut)
    assert rows(store, "SELECT COUNT(*) FROM paper")[0][0] == 0


def test_the_command_says_one_line_a_step_and_one_line_for_a_bad_file(
    tmp_path: Path, server: LookalikeServer, corpus: Corpus
) -> None:
    path = tmp_path / "snapshot.jsonl.gz"
    write_snapshot(corpus, path, gzipped=True)
    config = tmp_path / "harvester.toml"
    config.write_text(
        support.toml({
            "database": {"url": f"sqlite:///{tmp_path / 'h.db'}"},
            "arxiv": {"api_url": server.url, **support.TEST_ARXIV},
            "oai": {"url": server.oai_url},
            "authors": [support.SEED_AUTHOR],
        }),
        encoding="utf-8",
    )  # fmt: skip
    done = support.run_cli("--config", str(config), "import", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2].startswith(f"imported {len(corpus)} papers from {len(corpus)} lines")
    assert lines[-1].startswith("kakade") and "76 papers" in lines[-1]
    bad = support.run_cli("--config", str(config), "import", str(tmp_path / "no.jsonl"))
    assert bad.returncode == 2 and bad.stdout == ""
    (line,) = bad.stderr.splitlines()
    assert "cannot import" in line and "No such file" in line


def test_a_match_binds_a_bounded_number_of_values_a_statement(
    two_stores: tuple[Store, Store],
    server: LookalikeServer,
    corpus: Corpus,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """At 10,000 tracked authors a match reads a million candidates: in one ``IN`` list
    that is more values than a statement may bind (65,535 on PostgreSQL), and the match
    failed. Every statement of a match binds at most a chunk of ids (here 7)."""
    from sqlalchemy import Engine, event

    from harvester.store import papers

    monkeypatch.setattr(papers, "ID_CHUNK", 7)
    _, imported = two_stores
    settings = settings_for(url_of(imported), server, "oai")
    path = tmp_path / "snapshot.jsonl"
    write_snapshot(corpus, path)
    import_snapshot(settings, imported, path)
    bound: list[int] = []

    def note(
        conn: object, cursor: object, statement: str, parameters: object, *rest: object
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT") and isinstance(
            parameters, (list, tuple, dict)
        ):
            bound.append(len(parameters))

    source = open_source(settings, imported)
    event.listen(Engine, "before_cursor_execute", note)
    try:
        matched = match_stored(settings, imported, source)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
        source.close()
    assert matched.exit_code == 0 and matched.authors[0].paper_count == 76
    assert bound and max(bound) <= 7 + 2
