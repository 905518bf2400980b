"""Decide whether a paper belongs to an author profile.

The API's ``au:`` search is token matching with no notion of identity, so every
query returns namesakes (https://info.arxiv.org/help/api/user-manual.html). Here the
returned author lists are filtered locally: a paper is accepted when one of its
authors' names *folds* to the profile's name or one of its aliases. Folding
forgives accents, case, punctuation and spacing, nothing more: initials match only
when an alias spells them ("S. Kakade"), and "Sham Kakade-Rao" is not "Sham Kakade".
Explicit ``include_ids`` and ``exclude_ids`` settle what names cannot.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from ..names import fold_name, fold_names
from ..normalise import parse_arxiv_id
from ..records import Paper

__all__ = ["AuthorProfile", "MatchDecision", "Matcher"]


@dataclass(frozen=True, slots=True)
class AuthorProfile:
    """Who a profile is: a display name, the spellings to accept, and explicit ids."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    include_ids: frozenset[str] = frozenset()
    exclude_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MatchDecision:
    """The verdict on one paper; ``reason`` is written for a human reviewing namesakes."""

    accepted: bool
    matched_name: str | None
    reason: str


class Matcher:
    """A profile's matching rules, folded once and applied to many papers.

    ``include_ids`` and ``exclude_ids`` may be written in any form
    :func:`~harvester.normalise.parse_arxiv_id` accepts; a version is ignored, since
    they name papers, not versions. A malformed id raises ``InvalidIdentifierError``.
    """

    __slots__ = ("exclude_ids", "folded_names", "include_ids", "profile")

    def __init__(self, profile: AuthorProfile) -> None:
        self.profile = profile
        self.folded_names = fold_names((profile.name, *profile.aliases))
        if not self.folded_names:
            raise ValueError(
                f"profile {profile.key!r}: the name and aliases have no letters or digits"
            )
        self.include_ids = _canonical_ids(profile.include_ids)
        self.exclude_ids = _canonical_ids(profile.exclude_ids)

    @classmethod
    def for_profile(
        cls,
        key: str,
        name: str,
        aliases: Iterable[str] = (),
        include_ids: Iterable[str] = (),
        exclude_ids: Iterable[str] = (),
    ) -> Matcher:
        """Build the matcher of a profile given field by field."""
        profile = AuthorProfile(
            key=key,
            name=name,
            aliases=tuple(aliases),
            include_ids=frozenset(include_ids),
            exclude_ids=frozenset(exclude_ids),
        )
        return cls(profile)

    def decide(self, paper: Paper) -> MatchDecision:
        """Accept or reject ``paper``; first rule that applies wins.

        1. id in ``exclude_ids``: rejected; 2. an author's name folds to a profile
        name: accepted; 3. id in ``include_ids``: accepted; 4. otherwise rejected,
        naming the closest author so a reviewer can spot a missing alias.
        """
        if paper.arxiv_id in self.exclude_ids:
            return MatchDecision(False, None, "excluded by exclude_ids")
        matched = self.matching_author(paper)
        if matched is not None:
            return MatchDecision(True, matched, "name match")
        if paper.arxiv_id in self.include_ids:
            return MatchDecision(True, None, "included by include_ids")
        return MatchDecision(False, None, self._rejection_reason(paper))

    def matching_author(self, paper: Paper) -> str | None:
        """The first author name, as written on the paper, that folds to a profile name."""
        for author in paper.authors:
            if fold_name(author.name) in self.folded_names:
                return author.name
        return None

    def _rejection_reason(self, paper: Paper) -> str:
        closest = self._closest_author(paper)
        hint = f'closest: "{closest}"' if closest is not None else "no authors"
        return f'no author named like "{self.profile.name}" ({hint})'

    def _closest_author(self, paper: Paper) -> str | None:
        """The author name most similar to any profile name (the earliest on ties)."""
        folded_authors = [fold_name(author.name) for author in paper.authors]
        best: tuple[float, int] | None = None
        matcher = difflib.SequenceMatcher(autojunk=False)
        for folded in sorted(self.folded_names):
            matcher.set_seq2(folded)
            for index, folded_author in enumerate(folded_authors):
                matcher.set_seq1(folded_author)
                candidate = (matcher.ratio(), -index)
                if best is None or candidate > best:
                    best = candidate
        return None if best is None else paper.authors[-best[1]].name


def _canonical_ids(ids: Iterable[str]) -> frozenset[str]:
    """Versionless canonical ids, so ``2409.11321v2`` and the abs URL name one paper."""
    return frozenset(parse_arxiv_id(text)[0] for text in ids)
