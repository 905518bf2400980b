"""What the decisions read: a query's :class:`~harvester.plans.Snapshot`, and the rare
:class:`~harvester.plans.Extras` beyond it.

Both are read before anything is decided, in read-only connections, and returned as our
own records (no rows leave the store). The snapshot costs a few statements per query,
not several per author: per author it holds the baseline identity, the memberships (all
of them for a full harvest, those of the returned papers for an incremental one), the
counts (incremental only), people's decisions and the memberships of the papers those
and the author's feed name that the answer did not return; for the query, which returned
papers are stored exactly as returned. What only some decisions need (member papers,
stored papers to re-check) is read afterwards, only when asked for.

Why it stays true until the write: see :mod:`harvester.cycle.planning`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, case, func, select

from ..plans import AuthorSnapshot, Extras, Needs, Seen, Snapshot, Standing, Wanted
from ..records import Paper
from ..vocabulary import Membership
from . import schema as t
from .decisions import load_rulings
from .engine import among
from .memberships import load_papers, seen_of
from .papers import chunks, unchanged_papers
from .problems import readable


def load_snapshot(conn: Connection, wanted: Sequence[Wanted]) -> Snapshot:
    """What the store holds for one query's authors (see the module docstring)."""
    keys = [w.key for w in wanted]
    baselines = _baseline_identities(conn, keys)
    memberships = _membership_rows(conn, wanted)
    standings = _standings(conn, [w.key for w in wanted if not w.full])
    rulings = load_rulings(conn, [w.key for w in wanted if w.claimed is not None])
    named = {
        w.key: (rulings.get(w.key, {}).keys() | w.claimed) - {p.arxiv_id for p in w.papers}
        for w in wanted
        if w.claimed is not None and not w.full
    }
    pending = _pending_rows(conn, named)
    authors = {
        w.key: AuthorSnapshot(
            baseline=baselines.get(w.key),
            seen=_seen(w.key, memberships.get(w.key, ())),
            standing=standings.get(w.key),
            rulings=rulings.get(w.key, {}),
            pending=_seen(w.key, pending.get(w.key, ())),
        )
        for w in wanted
    }
    papers = [p for w in wanted for p in w.papers]
    return Snapshot(authors, frozenset(unchanged_papers(conn, papers)))


def load_extras(conn: Connection, needs: Needs) -> Extras:
    """The member papers and stored papers ``needs`` asks for (nothing read if none)."""
    members = _member_ids(conn, sorted(needs.members_of))
    wanted = sorted(needs.papers | {i for ids in members.values() for i in ids})
    papers: dict[str, Paper] = {}
    for chunk in chunks(wanted):
        papers.update(load_papers(conn, chunk))
    return Extras(
        members={key: [papers[i] for i in ids if i in papers] for key, ids in members.items()},
        papers={i: papers[i] for i in needs.papers if i in papers},
    )


def _seen(author_key: str, rows: Sequence[Any]) -> dict[str, Seen]:
    with readable(f"membership of {author_key}"):
        return seen_of(rows)


def _baseline_identities(conn: Connection, author_keys: Sequence[str]) -> dict[str, str | None]:
    a = t.author.c
    stmt = select(a.key, a.baseline_identity).where(among(conn, a.key, list(author_keys)))
    return {r.key: r.baseline_identity for r in conn.execute(stmt)}


def _membership_rows(conn: Connection, wanted: Sequence[Wanted]) -> dict[str, list[Any]]:
    """Each author's membership rows: all of them for a full harvest, those of the papers
    it returned for an incremental one."""
    m = t.membership.c
    rows: dict[str, list[Any]] = {}
    for chunk in chunks([w.key for w in wanted if w.full]):
        for r in conn.execute(select(t.membership).where(among(conn, m.author_key, chunk))):
            rows.setdefault(r.author_key, []).append(r)
    pairs = {(w.key, p.arxiv_id) for w in wanted if not w.full for p in w.papers}
    for key, rows_of in _pairs(conn, pairs).items():
        rows.setdefault(key, []).extend(rows_of)
    return rows


def _pending_rows(conn: Connection, named: dict[str, set[str]]) -> dict[str, list[Any]]:
    """The memberships of the papers a decision or the feed names, by author."""
    return _pairs(conn, {(key, i) for key, ids in named.items() for i in ids})


def _pairs(conn: Connection, pairs: set[tuple[str, str]]) -> dict[str, list[Any]]:
    """The membership rows of these (author, paper) pairs, by author."""
    m = t.membership.c
    keys = sorted({key for key, _ in pairs})
    ids = sorted({arxiv_id for _, arxiv_id in pairs})
    rows: dict[str, list[Any]] = {}
    for key_chunk in chunks(keys):
        for id_chunk in chunks(ids):
            where = (among(conn, m.author_key, key_chunk), among(conn, m.arxiv_id, id_chunk))
            for r in conn.execute(select(t.membership).where(*where)):
                if (r.author_key, r.arxiv_id) in pairs:
                    rows.setdefault(r.author_key, []).append(r)
    return rows


def _standings(conn: Connection, author_keys: Sequence[str]) -> dict[str, Standing]:
    """Each profile's active papers and how many of them are withdrawn (none: 0 and 0)."""
    m = t.membership.c
    withdrawn = func.coalesce(func.sum(case((m.seen_withdrawn, 1), else_=0)), 0)
    found: dict[str, Standing] = {}
    for chunk in chunks(author_keys):
        stmt = (
            select(m.author_key, func.count(), withdrawn)
            .where(among(conn, m.author_key, chunk), m.status == Membership.ACTIVE)
            .group_by(m.author_key)
        )
        found.update((key, Standing(int(n), int(w))) for key, n, w in conn.execute(stmt))
    return {key: found.get(key, Standing(0, 0)) for key in author_keys}


def _member_ids(conn: Connection, author_keys: Sequence[str]) -> dict[str, list[str]]:
    """The ids of each profile's active memberships (the evidence's strongest part)."""
    m = t.membership.c
    found: dict[str, list[str]] = {key: [] for key in author_keys}
    for chunk in chunks(list(author_keys)):
        query = select(m.author_key, m.arxiv_id).where(
            among(conn, m.author_key, chunk), m.status == Membership.ACTIVE
        )
        for key, arxiv_id in conn.execute(query):
            found[key].append(arxiv_id)
    return found
