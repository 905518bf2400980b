"""Whose paper is it: names, the rules that settle a candidate, and the evidence.

::

    matcher = Matcher.for_profile("kakade", "Sham Kakade", aliases=["S. Kakade"])
    matcher.decide(paper)                        # by name alone: accepted or rejected, and why
    settle(observations, Anchors(matcher, claimed=feed_ids), stored, fresh=False, members=papers)
    judge(candidates, anchored=feed_ids)         # the evidence alone: co-authors, text, ...

Pure: no I/O, no clock. Modules: :mod:`.matching` (a profile's names and explicit ids),
:mod:`.evidence` (the rule that settles each candidate: config, person, feed, standing or
evidence), :mod:`.judgement` (the evidence's decision rules on same-name candidates), with
:mod:`.model` (candidates, verdicts and the numbers), :mod:`.space` (the candidates as
matrices, measured against the accepted papers), :mod:`.bodies` (bodies of work: someone
else's, or the one to accept), :mod:`.explain` (a reason a person can check) and
:mod:`.provenance` (what a claim alone brought in, judged again when the claim goes).

:func:`judge` is imported on first use: it brings numpy and scipy, which commands that
never consult the evidence (``status``) start without. The words of a verdict are
:class:`harvester.vocabulary.Decision`; name folding is :mod:`harvester.names` (the store
folds names too, and does not import this wing).
"""

from typing import TYPE_CHECKING, Any

from .evidence import Anchors, Settled, candidate_of, needs_evidence, person_reason, settle
from .matching import AuthorProfile, MatchDecision, Matcher
from .model import Candidate, Judgement, Verdict

if TYPE_CHECKING:
    from .judgement import judge

__all__ = [
    "Anchors",
    "AuthorProfile",
    "Candidate",
    "Judgement",
    "MatchDecision",
    "Matcher",
    "Settled",
    "Verdict",
    "candidate_of",
    "judge",
    "needs_evidence",
    "person_reason",
    "settle",
]


def __getattr__(name: str) -> Any:
    """:func:`judge`, imported on first use (with numpy and scipy)."""
    if name != "judge":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from .judgement import judge

    return judge
