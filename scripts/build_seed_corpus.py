"""Build the look-alike's seed corpus from the seed profile, deterministically.

Usage (from the repository root)::

    .venv/bin/python scripts/build_seed_corpus.py [PAPERS_JSON] [OUTPUT_JSON]

``PAPERS_JSON`` defaults to ``tests/data/seed/papers.json`` (the seed profile's papers, kept
in the repository), ``OUTPUT_JSON`` to ``arxiv_lookalike/data/seed_corpus.json``. The same
input always gives the same bytes.

Every value known in the seed is kept exactly. Whatever is missing is filled with a
plausible, well-formed value derived from a SHA-256 hash of the title (no randomness), and
the field's name is recorded in the paper's ``filled`` list:

``id``
    A null id becomes ``YYMM.NNNNN``: YYMM of the nearest paper before it in profile order
    that has an id (else after it), NNNNN from the hash, bumped until unused.
``published``
    A known ``submitted`` date is kept; its time of day is invented (``published_time``).
    A missing date is placed in the id's month, the day proportional to the id's sequence
    number over a typical monthly volume for that year (``published``).
``version``
    Unknown: 1. The withdrawn paper gets version 2 and the comment "This paper has been
    withdrawn by the author" (withdrawal is a new version whose comment says so).
``updated``
    Always invented: ``published`` for v1; otherwise 15 to 75 days per later version, capped at
    ``UPDATED_CAP`` and never before ``published``.
``primary_category`` / ``categories``
    Primary: the first known category, else ``cs.LG``. Categories: known ones kept; unknown
    ones become the primary plus up to two of stat.ML, cs.AI, math.OC, and sometimes the
    MSC code 68T05 (non-arXiv terms appear in real feeds).
``summary_truncated``
    The summary is the profile's abstract snippet with its trailing "..." removed.
``authors``
    Kept in paper order. The two papers without metadata get three invented co-authors
    (some with accented names) and "Sham Kakade".
``affiliations`` / ``comment`` / ``journal_ref`` / ``doi``
    Added to a hash-chosen few papers, so every optional element appears in feeds.

After the 76 profile papers (``"role": "profile"``) come papers an ``au:`` phrase query for
"Sham Kakade", "Sham M. Kakade" or "Sham M Kakade" returns although he is not an author
(``"role": "namesake"``: adjacent authors "Priya Sham, Kakade Venkatesh", extra tokens as in
"Sham Kakade-Rao"), and unrelated papers (``"role": "unrelated"``, including old-style and
four-digit ids) for category and title queries. The server ignores ``role``, ``filled`` and
``confidence``.

Every profile paper is claimed by the author's arXiv identifier :data:`AUTHOR_ID`
(``"claimants"``), so the look-alike serves his identifier feed at ``/a/kakade_s_1.atom2``
and ``arxiv_author_id = "kakade_s_1"`` can be tried offline; one namesake, "Sham
Kakade-Rao", claims his own paper as :data:`NAMESAKE_ID`.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from arxiv_lookalike.corpus import CorpusPaper

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = ROOT / "tests" / "data" / "seed" / "papers.json"
DEFAULT_OUTPUT = ROOT / "arxiv_lookalike" / "data" / "seed_corpus.json"
AUTHOR = "Sham Kakade"
AUTHOR_ID = "kakade_s_1"
"""The seed author's arXiv identifier: it claims every profile paper."""
NAMESAKE_ID = "kakaderao_s_1"
"""The identifier of the namesake "Sham Kakade-Rao", who claims his one paper."""
WITHDRAWN_TITLE = "Variance Reduction Methods for Sublinear Reinforcement Learning"
WITHDRAWN_COMMENT = "This paper has been withdrawn by the author"
UPDATED_CAP = datetime(2026, 6, 12, tzinfo=UTC)
STAMP = "%Y-%m-%dT%H:%M:%SZ"
EXTRA_CATEGORIES = ("stat.ML", "cs.AI", "math.OC")
INVENTED_COAUTHORS = (
    "Zoë Lefèvre", "Mateo Núñez", "Jiří Dvořák", "Søren Kjærgaard", "Anaïs Delacroix",
    "Hyun-woo Park", "Ingrid Haugen", "Tomasz Wiśniewski", "Amara Okafor", "Kenji Morimoto",
)  # fmt: skip
VENUES = (
    "Proceedings of the {year} Conference on Learning Theory",
    "Journal of Machine Learning Research {volume} ({year})",
    "Advances in Neural Information Processing Systems {volume} ({year})",
    "SIAM Journal on Optimization {volume} ({year})",
)
DOI_REGISTRANTS = ("1137", "1145", "1109", "1007")


def digest(title: str, salt: str) -> int:
    """A stable integer from the title (and what it is for)."""
    return int.from_bytes(hashlib.sha256(f"{salt}:{title}".encode()).digest()[:8], "big")


def monthly_volume(year: int) -> int:
    """About how many new-style ids arXiv hands out in a month of ``year``."""
    return 12000 if year <= 2019 else 16000 if year <= 2022 else 21000 if year <= 2024 else 27000


def fill_id(papers: list[dict[str, Any]], index: int, used: set[str]) -> str:
    order = [*range(index - 1, -1, -1), *range(index + 1, len(papers))]
    yymm = next(papers[i]["arxiv_id"][:4] for i in order if papers[i]["arxiv_id"])
    number = 1 + digest(papers[index]["title"], "id") % 19999
    while f"{yymm}.{number:05d}" in used:
        number += 1
    return f"{yymm}.{number:05d}"


def time_of_day(title: str) -> timedelta:
    return timedelta(seconds=digest(title, "time") % 86400)


def fill_published(arxiv_id: str, title: str) -> datetime:
    year, month = 2000 + int(arxiv_id[:2]), int(arxiv_id[2:4])
    days = calendar.monthrange(year, month)[1]
    sequence = int(arxiv_id.split(".")[1])
    day = min(days, 1 + sequence * days // monthly_volume(year))
    return datetime(year, month, day, tzinfo=UTC) + time_of_day(title)


def fill_updated(published: datetime, version: int, title: str) -> datetime:
    gap = sum(15 + digest(title, f"v{n}") % 61 for n in range(2, version + 1))
    return max(published, min(published + timedelta(days=gap), UPDATED_CAP))


def fill_categories(primary: str, title: str) -> list[str]:
    pick = digest(title, "categories")
    extra = [c for i, c in enumerate(EXTRA_CATEGORIES) if pick >> i & 1 and c != primary][:2]
    return [primary, *extra, *(["68T05"] if pick % 6 == 0 else [])]


def fill_authors(title: str) -> list[str]:
    pick = digest(title, "authors")
    names = [INVENTED_COAUTHORS[(pick >> (4 * i)) % len(INVENTED_COAUTHORS)] for i in range(3)]
    names = list(dict.fromkeys(names))
    names.insert(pick % (len(names) + 1), AUTHOR)
    return names


def authors_of(names: list[str], title: str) -> tuple[list[dict[str, Any]], bool]:
    """Author records; a hash-chosen fifth of papers gets affiliations."""
    with_affiliations = digest(title, "affiliations") % 5 == 0
    records = []
    for position, name in enumerate(names):
        affiliations: list[str] = []
        if with_affiliations and name == AUTHOR:
            affiliations = ["Harvard University", "Kempner Institute"]
        elif with_affiliations and position == 0:
            affiliations = ["Université de Montréal" if len(name) % 2 else "ETH Zürich"]
        records.append({"name": name, "affiliations": affiliations})
    return records, with_affiliations


def publication(arxiv_id: str, title: str, year: int) -> tuple[str | None, str | None]:
    """A journal reference and DOI for a hash-chosen quarter of the papers before 2024."""
    pick = digest(title, "journal")
    if year >= 2024 or pick % 4:
        return None, None
    venue = VENUES[(pick >> 4) % len(VENUES)].format(year=year + 1, volume=20 + year % 20)
    registrant = DOI_REGISTRANTS[(pick >> 8) % len(DOI_REGISTRANTS)]
    return venue, f"10.{registrant}/{year + 1}.{pick % 100000:05d}"


def comment_of(title: str) -> str | None:
    pick = digest(title, "comment")
    return None if pick % 8 else f"{20 + pick % 40} pages, {1 + pick % 9} figures"


def build_profile_paper(papers: list[dict[str, Any]], index: int, used: set[str]) -> dict[str, Any]:
    seed = papers[index]
    title = seed["title"]
    filled: list[str] = []
    arxiv_id = seed["arxiv_id"]
    if arxiv_id is None:
        arxiv_id = fill_id(papers, index, used)
        filled.append("id")
    used.add(arxiv_id)
    if seed["submitted"]:
        published = datetime.fromisoformat(seed["submitted"]).replace(tzinfo=UTC)
        published += time_of_day(title)
        filled.append("published_time")
    else:
        published = fill_published(arxiv_id, title)
        filled.append("published")
    withdrawn = title == WITHDRAWN_TITLE
    version = seed["version"]
    if version is None or withdrawn:
        version = 2 if withdrawn else 1
        filled.append("version")
    filled.append("updated")
    primary = seed["primary_category"] or (seed["categories"] or ["cs.LG"])[0]
    if not seed["primary_category"]:
        filled.append("primary_category")
    categories = seed["categories"] or fill_categories(primary, title)
    if not seed["categories"]:
        filled.append("categories")
    summary = seed["abstract_snippet"]
    if summary.endswith("..."):
        summary = summary[:-3].rstrip()
        filled.append("summary_truncated")
    names = seed["authors"]
    if not names:
        names = fill_authors(title)
        filled.append("authors")
    authors, with_affiliations = authors_of(names, title)
    if with_affiliations:
        filled.append("affiliations")
    comment = WITHDRAWN_COMMENT if withdrawn else comment_of(title)
    journal_ref, doi = publication(arxiv_id, title, published.year)
    filled += [name for name, value in (("comment", comment), ("journal_ref", journal_ref),
                                        ("doi", doi)) if value]  # fmt: skip
    return {
        "id": arxiv_id,
        "version": version,
        "title": title,
        "summary": summary,
        "authors": authors,
        "published": published.strftime(STAMP),
        "updated": fill_updated(published, version, title).strftime(STAMP),
        "primary_category": primary,
        "categories": categories,
        "comment": comment,
        "journal_ref": journal_ref,
        "doi": doi,
        "claimants": [AUTHOR_ID],
        "role": "profile",
        "confidence": seed["confidence"],
        "filled": filled,
    }


def synthetic(
    role: str,
    arxiv_id: str,
    title: str,
    authors: list[str | tuple[str, list[str]]],
    published: str,
    categories: list[str],
    summary: str,
    **optional: Any,
) -> dict[str, Any]:
    """A namesake or unrelated paper, written out in full (nothing hashed)."""
    version = optional.pop("version", 1)
    start = datetime.strptime(published, STAMP).replace(tzinfo=UTC)
    updated = optional.pop("updated", (start + timedelta(days=40 * (version - 1))).strftime(STAMP))
    return {
        "id": arxiv_id,
        "version": version,
        "title": title,
        "summary": summary,
        "authors": [
            {"name": a, "affiliations": []} if isinstance(a, str)
            else {"name": a[0], "affiliations": a[1]}
            for a in authors
        ],
        "published": published,
        "updated": updated,
        "primary_category": categories[0],
        "categories": categories,
        "comment": optional.pop("comment", None),
        "journal_ref": optional.pop("journal_ref", None),
        "doi": optional.pop("doi", None),
        "role": role,
    }  # fmt: skip


def namesakes() -> list[dict[str, Any]]:
    """Papers an ``au:`` phrase query for the author's aliases returns, not by him."""
    return [
        synthetic(
            "namesake", "2403.14422",
            "Sparse Graph Sketches for Streaming Community Detection",
            ["Priya Sham", "Kakade Venkatesh", "Lars Øberg"],
            "2024-03-21T10:04:51Z", ["cs.DS", "cs.SI"],
            "We give single-pass sketches for community detection in sparse graph streams "
            "whose space is near-linear in the number of vertices.",
        ),
        synthetic(
            "namesake", "2311.09876",
            "Low-Rank Adapters for Speech Recognition in Low-Resource Indic Languages",
            ["Meera Iyer", "Sham Kakade-Rao", "Nikhil Deshpande"],
            "2023-11-16T06:30:12Z", ["cs.CL", "eess.AS"],
            "Low-rank adapters recover most of the accuracy of full fine-tuning for speech "
            "recognition in eleven Indic languages with under an hour of labelled audio.",
            version=2, comment="Interspeech submission; 5 pages",
        ),
        synthetic(
            "namesake", "2208.05531",
            "Thermal Transport in Twisted Bilayer Graphene Ribbons",
            ["Ravi Sham", "M. Kakade", ("Chloé Bernard", ["Université Paris-Saclay"])],
            "2022-08-10T14:22:07Z", ["cond-mat.mes-hall", "cond-mat.mtrl-sci"],
            "We compute the phonon thermal conductance of twisted bilayer graphene ribbons "
            "and find a minimum near the magic angle.",
            journal_ref="Phys. Rev. B 107, 045412 (2023)", doi="10.1103/PhysRevB.107.045412",
        ),
        synthetic(
            "namesake", "2501.11234",
            "Federated Anomaly Detection for Smart Grid Telemetry",
            ["Anil Sham Kakade", "Fatima Zahra El Idrissi"],
            "2025-01-20T19:45:33Z", ["cs.LG", "eess.SY"],
            "A federated autoencoder flags anomalous smart-meter telemetry without moving "
            "raw data off the substations.",
        ),
    ]  # fmt: skip


def unrelated() -> list[dict[str, Any]]:
    """Papers by other people, for category, title and id queries (old and new ids)."""
    return [
        synthetic(
            "unrelated", "hep-th/9901001",
            "Boundary States and Brane Charges in Orbifold Backgrounds",
            ["Giulia Ferrante", "Tomás Ortega"], "1999-01-04T17:12:40Z", ["hep-th"],
            "  We construct boundary states for fractional branes on C^3/Z_3 and compute their\n"
            "charges from the annulus amplitude.",
            version=2, journal_ref="Nucl. Phys. B 550 (1999) 123-145",
            doi="10.1016/S0550-3213(99)00123-4",
        ),
        synthetic(
            "unrelated", "math.GT/0309136", "Quantum Invariants of Knotted Handlebodies",
            ["Hélène Marchand"], "2003-09-08T12:00:01Z", ["math.GT", "math.QA", "57M27"],
            "We extend the Reshetikhin-Turaev construction to knotted handlebodies in the "
            "3-sphere and show the invariants detect chirality.",
        ),
        synthetic(
            "unrelated", "astro-ph/0601001", "Dust Extinction Curves of High-Redshift Quasar Hosts",
            ["Björn Lindqvist", "Maria Rossi"], "2006-01-01T03:15:00Z", ["astro-ph"],
            "Extinction curves of 42 quasar host galaxies at z > 4 are flatter than the "
            "Small Magellanic Cloud curve.",
            comment="Accepted by ApJ",
        ),
        synthetic(
            "unrelated", "0704.0002", "A Note on Chromatic Polynomials of Sparse Graphs",
            ["Dmitri Volkov"], "2007-04-02T09:00:00Z", ["math.CO", "05C15"],
            "We bound the roots of chromatic polynomials of graphs of bounded degeneracy.",
        ),
        synthetic(
            "unrelated", "0704.0046", "Spin Relaxation in Quantum Dots with Anisotropic g-Factors",
            [("Keiko Tanaka", ["University of Tokyo", "RIKEN"]), "Paul Schmidt"],
            "2007-04-03T11:41:27Z", ["cond-mat.mes-hall", "quant-ph"],
            "Anisotropic g-factors open a new spin relaxation channel in self-assembled dots.",
            version=3, comment="12 pages, 4 figures", journal_ref="Phys. Rev. B 76, 045301 (2007)",
            doi="10.1103/PhysRevB.76.045301",
        ),
        synthetic(
            "unrelated", "1012.3456", "Learning Sparse Codes with Online Dictionary Updates",
            ["Rafael Gómez", "Ines Duarte"], "2010-12-15T20:30:00Z", ["cs.LG", "stat.ML"],
            "An online dictionary learning method whose updates cost linear time per sample.",
        ),
        synthetic(
            "unrelated", "1207.0580", "Entanglement Entropy of Free Fermions on Fractal Lattices",
            ["Noa Ben-David"], "2012-07-03T08:08:08Z", ["quant-ph", "cond-mat.stat-mech"],
            "The entanglement entropy of free fermions on Sierpinski lattices violates the "
            "area law by a logarithmic factor.",
        ),
        synthetic(
            "unrelated", "2105.01234", "Kernels & Margins: When $\\|w\\|_2 < 1$ Suffices",
            ["Olumide Adeyemi", "Sara Lindgren"], "2021-05-04T13:37:00Z", ["cs.LG", "stat.ML"],
            "  We show that for kernel machines with margin $\\gamma$ the bound $\\|w\\|_2 < 1$ "
            "suffices & that the $\\ell_1$ analogue fails <in general>.",
            comment="Errata: see v2 & the appendix <A.3>", version=2,
        ),
        synthetic(
            "unrelated", "2406.12345", "Reinforcement Learning from Sparse Human Preferences",
            [("Jürgen Weiß", ["Universität Zürich"]), "Ana Lúcia Gonçalves"],
            "2024-06-18T15:00:00Z", ["cs.LG", "cs.AI"],
            "Preference-based reinforcement learning with one comparison per hundred episodes.",
        ),
        synthetic(
            "unrelated", "2604.01234",
            "Policy Gradient Methods for Linear Quadratic Control Revisited",
            ["Sham Patel", "Rohan Kakkar"], "2026-04-01T10:10:10Z", ["math.OC", "cs.LG"],
            "Global convergence of policy gradient for LQR under weaker conditions.",
        ),
        synthetic(
            "unrelated", "2409.00001", "A Survey of Shampoo-Style Preconditioners",
            ["Wen Li", "Ayşe Demir"], "2024-09-01T00:05:00Z", ["cs.LG", "math.OC"],
            "A survey of Kronecker-factored preconditioners for deep learning optimisation.",
        ),
    ]  # fmt: skip


def build(seed: list[dict[str, Any]]) -> dict[str, Any]:
    used = {paper["arxiv_id"] for paper in seed if paper["arxiv_id"]}
    papers = [build_profile_paper(seed, index, used) for index in range(len(seed))]
    papers += namesakes() + unrelated()
    for paper in papers:
        if any(a["name"] == "Sham Kakade-Rao" for a in paper["authors"]):
            paper["claimants"] = [NAMESAKE_ID]
    for paper in papers:
        CorpusPaper.from_dict(paper)  # validates
    ids = [paper["id"] for paper in papers]
    assert len(set(ids)) == len(ids), "duplicate ids"
    genuine = [p for p in papers if any(a["name"] == AUTHOR for a in p["authors"])]
    assert len(genuine) == len(seed) == 76, "every profile paper, and only those, by the author"
    return {"papers": papers}


def main(argv: list[str]) -> int:
    source = Path(argv[1]) if len(argv) > 1 else DEFAULT_INPUT
    target = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    corpus = build(json.loads(source.read_text(encoding="utf-8")))
    text = json.dumps(corpus, ensure_ascii=False, indent=1) + "\n"
    target.write_text(text, encoding="utf-8")
    print(f"wrote {len(corpus['papers'])} papers to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
