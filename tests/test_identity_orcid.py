"""ORCID as a second anchor, over HTTP: the look-alike serves ``/orcid/{orcid}/works`` from
the corpus's claimants (:mod:`arxiv_lookalike.orcid`), harvested into SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from arxiv_lookalike import Corpus, LookalikeServer
from arxiv_lookalike.namesakes import CLAIMANTS, NAME, NamesakeCorpus, namesake_corpus
from arxiv_lookalike.namesakes import namesake_records as records_of
from harvester.config import OrcidSettings, orcid_check_digit
from harvester.errors import IncompleteResponseError
from harvester.source.orcid import arxiv_ids_of
from harvester.store import Store
from harvester.vocabulary import RunStatus

from .support import harvest, make_settings, rows

AUTHOR_ID, ORCID = CLAIMANTS
NOBODY = "0000-0001-2345-678" + orcid_check_digit("000012345678")


@pytest.fixture(scope="module")
def namesakes() -> NamesakeCorpus:
    return namesake_corpus(seed=0)


@pytest.fixture
def split_claims(namesakes: NamesakeCorpus) -> Iterator[tuple[LookalikeServer, set[str]]]:
    """Her arXiv identifier claims one half of her feed, her ORCID record the other."""
    feed = sorted(namesakes.feed_ids)
    only_orcid = set(feed[len(feed) // 2 :])
    records = records_of(namesakes, (AUTHOR_ID,))
    for record in records:
        if record["id"] in only_orcid:
            record["claimants"] = [ORCID]
    with LookalikeServer(Corpus.from_dicts(records)) as server:
        yield server, only_orcid


def settings_for(server: LookalikeServer, db_url: str, **author: Any) -> Any:
    who = {"key": "zhang", "name": NAME, **author}
    feeds = server.base_url + "/a"
    settings = make_settings(
        db_url, server.url, authors=[who], author_feed_url=feeds, page_size=200
    )
    orcid = OrcidSettings(api_url=server.base_url + "/orcid", delay_seconds=0)
    return dataclasses.replace(settings, orcid=orcid)


def test_the_orcid_record_anchors_what_the_arxiv_feed_does_not_list(
    store: Store, split_claims: tuple[LookalikeServer, set[str]], db_url: str
) -> None:
    server, only_orcid = split_claims
    settings = settings_for(server, db_url, arxiv_author_id=AUTHOR_ID, orcid=ORCID)
    report = harvest(store, settings)
    assert report.exit_code == 0, report.authors[0].line()
    why = dict(rows(store, "SELECT arxiv_id, reason FROM profile_papers"))
    assert only_orcid <= why.keys()
    assert all("identifier feed" in why[i] for i in only_orcid)
    asked = [r for r in server.requests if r.path.startswith("/orcid/")]
    assert [r.path for r in asked] == [f"/orcid/{ORCID}/works"], "one request per cycle"
    assert asked[0].headers.get("Accept") == "application/json"
    assert report.authors[0].requests == 5, "the arXiv feed, the ORCID record, three pages"


def test_a_missing_orcid_record_is_one_clear_failure(
    store: Store, split_claims: tuple[LookalikeServer, set[str]], db_url: str
) -> None:
    server, _ = split_claims
    settings = settings_for(server, db_url, arxiv_author_id=AUTHOR_ID, orcid=NOBODY)
    report = harvest(store, settings)
    (author,) = report.authors
    assert author.status == RunStatus.FAILED
    assert f"ORCID has no public record '{NOBODY}' (HTTP 404)" in (author.error or "")
    assert "\n" not in (author.error or "")
    assert rows(store, "SELECT arxiv_id FROM profile_papers") == []


def test_works_name_arxiv_ids_by_type_or_by_datacite_doi() -> None:
    def work(kind: str, value: str) -> dict[str, Any]:
        ids = {"external-id": [{"external-id-type": kind, "external-id-value": value}]}
        return {"external-ids": ids, "work-summary": [{"external-ids": ids}]}

    body = {
        "group": [
            work("arxiv", "arXiv:1507.05965"),
            work("doi", "10.48550/arXiv.2401.00001"),
            work("doi", "10.1103/PhysRevLett.1.1"),
            work("arxiv", "2401.00001"),
        ]
    }
    found = arxiv_ids_of(json.dumps(body).encode(), "u")
    assert found == ("1507.05965", "2401.00001")
    with pytest.raises(IncompleteResponseError):
        arxiv_ids_of(b"<html>", "u")
