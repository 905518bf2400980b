"""Tests of harvester.identity.matching: name folding, namesakes, include/exclude precedence."""

from __future__ import annotations

import dataclasses
import unicodedata
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.identity import AuthorProfile, MatchDecision, Matcher
from harvester.names import _fold_unicode, fold_name, fold_names
from harvester.normalise import InvalidIdentifierError
from harvester.records import Author, Paper

FEW = settings(max_examples=200, deadline=None, database=None)

WHEN = datetime(2024, 9, 17, tzinfo=UTC)


def paper(*names: str, arxiv_id: str = "2409.11321") -> Paper:
    return Paper(
        arxiv_id=arxiv_id,
        version=1,
        title="A title",
        summary="",
        published=WHEN,
        updated=WHEN,
        authors=tuple(Author(name) for name in names),
        primary_category="cs.LG",
        categories=("cs.LG",),
        comment=None,
        journal_ref=None,
        doi=None,
        withdrawn=False,
    )


def kakade(**kwargs: object) -> Matcher:
    return Matcher.for_profile("kakade", "Sham Kakade", **kwargs)  # type: ignore[arg-type]


# --- folding ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Sham Kakade", "sham kakade"),
        ("Shám Kakade", "sham kakade"),
        ("Sha\u0301m Kakade", "sham kakade"),
        ("SHAM KAKADE", "sham kakade"),
        ("Sham  Kakade", "sham kakade"),
        ("\tSham\nKakade ", "sham kakade"),
        ("Sham Kakade-Rao", "sham kakade rao"),
        ("S. Kakade", "s kakade"),
        ("Kakade, Sham", "kakade sham"),
        ("O'Brien", "o brien"),
        ("Jürgen Straße", "jurgen strasse"),
        ("Øystein Ørsted", "øystein ørsted"),
        ("\uff33\uff48\uff41\uff4d\u3000\uff2b\uff41\uff4b\uff41\uff44\uff45", "sham kakade"),
        ("ﬁlippo", "filippo"),
        ("Ἀριστοτέλης", "αριστοτελησ"),
        ("李小龍", "李小龍"),
        ("محمد علي", "محمد علي"),
        ("Sham\u200f Kakade", "sham kakade"),
        ("\u202eSham Kakade\u202c", "sham kakade"),
        ("Sham\u200bKakade", "shamkakade"),
        ('Robert"); DROP TABLE authors;--', "robert drop table authors"),
        ("C:\\Users\\Sham", "c users sham"),
        ("Ka$ka@de", "ka ka de"),
        ("Sham\x00Kakade", "sham kakade"),
        ("---", ""),
        ("", ""),
        ("\u0301\u0301", ""),
    ],
)
def test_fold_name_examples(name: str, folded: str) -> None:
    assert fold_name(name) == folded


def test_fold_name_keeps_spelling_marks_of_indic_scripts() -> None:
    assert fold_name("रामकृष्ण") != fold_name("रमकष")
    assert fold_name("रामकृष्ण") == fold_name(unicodedata.normalize("NFD", "रामकृष्ण"))


@FEW
@given(st.text())
def test_fold_name_is_idempotent(name: str) -> None:
    folded = fold_name(name)
    assert fold_name(folded) == folded
    assert folded == folded.strip()
    assert "  " not in folded


@FEW
@given(st.text())
def test_fold_name_ignores_the_normal_form(name: str) -> None:
    forms = {fold_name(unicodedata.normalize(form, name)) for form in ("NFC", "NFD", "NFKC")}
    assert forms == {fold_name(name)}


_NAME_CHARS = st.characters(max_codepoint=0x7F) | st.sampled_from(
    [
        *"\u0301\u0308\u0338\u20dd",  # combining marks, an enclosing one
        *"\u200b\u200d\u200e\u200f\u202e\u2066\ufeff",  # format: zero width, bidi
        *"éßİﬁØ\u00a0\u3000\uff33\u2160\u00bd",  # precomposed, compatibility forms
        *"محمدअर्जुन李Ἀ",  # right-to-left, Indic spelling marks, CJK, Greek
    ]
)


@settings(max_examples=500, deadline=None, database=None)
@given(st.text(_NAME_CHARS) | st.text())
def test_the_ascii_shortcut_folds_as_the_rules_do(name: str) -> None:
    """``fold_name`` skips the per-character rules for ASCII names: same result on any
    text, in any normal form."""
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        text = unicodedata.normalize(form, name)
        assert fold_name(text) == _fold_unicode(text)


def test_the_ascii_shortcut_knows_every_ascii_character() -> None:
    for code in range(0x80):
        name = f"Ab{chr(code)}9 {chr(code)}{chr(code)}z"
        assert fold_name(name) == _fold_unicode(name), repr(chr(code))


_TOKENS = st.lists(st.text(st.characters(categories=("L", "Nd")), min_size=1), min_size=1)
_GAPS = st.sampled_from([" ", "  ", "\t", "\n ", "\u00a0", " - ", ". ", ", ", "_"])


@FEW
@given(_TOKENS, st.data())
def test_fold_name_ignores_how_tokens_are_separated(tokens: list[str], data: st.DataObject) -> None:
    joined = tokens[0] + "".join(data.draw(_GAPS) + token for token in tokens[1:])
    assert fold_name(joined) == fold_name(" ".join(tokens))


def test_fold_names_drops_empty_folds() -> None:
    assert fold_names(["Sham Kakade", "SHAM  KAKADE", "--", "", "S. Kakade"]) == {
        "sham kakade",
        "s kakade",
    }


# --- matching is indifferent to how a name is written ------------------------------

_PLAIN_NAMES = st.sampled_from(
    ["Sham Kakade", "Jose Garcia Lopez", "Anne-Marie Dupont", "Zoe O Neil", "Li Wei"]
)


def _accent(name: str) -> str:
    """Put a combining acute on every vowel."""
    return "".join(c + "\u0301" if c in "aeiouAEIOU" else c for c in name)


_VARIANTS = st.sampled_from(
    [
        lambda n: n,
        str.upper,
        str.lower,
        _accent,
        lambda n: unicodedata.normalize("NFC", _accent(n)),
        lambda n: n.replace(" ", "  "),
        lambda n: n.replace(" ", " - "),
        lambda n: n.replace(" ", ". "),
        lambda n: f" {n}\n",
    ]
)


@FEW
@given(_PLAIN_NAMES, _VARIANTS, _VARIANTS)
def test_matching_is_symmetric_in_how_names_are_written(
    name: str, alias_form: object, paper_form: object
) -> None:
    alias = alias_form(name)  # type: ignore[operator]
    written = paper_form(name)  # type: ignore[operator]
    forward = Matcher.for_profile("p", "Someone Else", aliases=[alias])
    backward = Matcher.for_profile("p", "Someone Else", aliases=[written])
    assert forward.decide(paper("X Y", written)) == MatchDecision(True, written, "name match")
    assert backward.decide(paper("X Y", alias)) == MatchDecision(True, alias, "name match")


# --- decisions ----------------------------------------------------------------------


@pytest.mark.parametrize("written", ["Shám Kakade", "SHAM KAKADE", "Sham  Kakade", "sham kakade"])
def test_spellings_of_the_name_are_accepted(written: str) -> None:
    decision = kakade().decide(paper("Jane Doe", written))
    assert decision == MatchDecision(accepted=True, matched_name=written, reason="name match")


@pytest.mark.parametrize(
    ("written", "closest"),
    [
        (("Sham Kakade-Rao", "Jane Doe"), "Sham Kakade-Rao"),
        (("Jane Doe", "Sham M. Kakade"), "Sham M. Kakade"),
        (("S. Kakade",), "S. Kakade"),
        (("Shamir Kakadea", "Ravi Kakade"), "Shamir Kakadea"),
    ],
)
def test_namesakes_are_rejected_with_the_closest_name(
    written: tuple[str, ...], closest: str
) -> None:
    decision = kakade().decide(paper(*written))
    assert not decision.accepted
    assert decision.matched_name is None
    assert decision.reason == f'no author named like "Sham Kakade" (closest: "{closest}")'


def test_closest_ties_go_to_the_earliest_author() -> None:
    decision = kakade().decide(paper("Sham Kakadf", "Sham Kakadg"))
    assert decision.reason.endswith('(closest: "Sham Kakadf")')


def test_closest_considers_every_alias() -> None:
    matcher = kakade(aliases=["Kakade, S. M."])
    decision = matcher.decide(paper("Jane Doe", "Kakade, S. N."))
    assert decision.reason == 'no author named like "Sham Kakade" (closest: "Kakade, S. N.")'


def test_reason_for_a_paper_without_authors() -> None:
    assert kakade().decide(paper()) == MatchDecision(
        False, None, 'no author named like "Sham Kakade" (no authors)'
    )


def test_initials_match_only_when_an_alias_spells_them() -> None:
    assert not kakade().decide(paper("S Kakade")).accepted
    with_initials = kakade(aliases=["S. Kakade"])
    for written in ("S Kakade", "S. Kakade", "s.kakade"):
        assert with_initials.decide(paper(written)) == MatchDecision(True, written, "name match")
    assert not with_initials.decide(paper("S. M. Kakade")).accepted


def test_the_first_matching_author_is_named() -> None:
    decision = kakade().decide(paper("Jane Doe", "SHAM KAKADE", "Sham Kakade"))
    assert decision.matched_name == "SHAM KAKADE"


def test_exclude_wins_over_a_name_match_and_include() -> None:
    matcher = kakade(include_ids=["2409.11321"], exclude_ids=["2409.11321"])
    expected = MatchDecision(False, None, "excluded by exclude_ids")
    assert matcher.decide(paper("Sham Kakade")) == expected
    assert matcher.decide(paper("Jane Doe")) == expected


def test_include_accepts_papers_without_a_name_match() -> None:
    matcher = kakade(include_ids=["2409.11321"])
    assert matcher.decide(paper("S. M. Kakade")) == MatchDecision(
        True, None, "included by include_ids"
    )
    assert not matcher.decide(paper("S. M. Kakade", arxiv_id="2409.11322")).accepted


def test_a_name_match_is_reported_even_for_included_papers() -> None:
    matcher = kakade(include_ids=["2409.11321"])
    assert matcher.decide(paper("Sham Kakade")) == MatchDecision(True, "Sham Kakade", "name match")


def test_configured_ids_are_canonicalised() -> None:
    matcher = kakade(
        include_ids=["https://arxiv.org/abs/2409.11321v2", "arXiv:math.GT/0309136"],
        exclude_ids=["hep-th/9901001v3"],
    )
    assert matcher.include_ids == {"2409.11321", "math/0309136"}
    assert matcher.exclude_ids == {"hep-th/9901001"}
    assert matcher.decide(paper("J", arxiv_id="math/0309136")).accepted
    assert not matcher.decide(paper("Sham Kakade", arxiv_id="hep-th/9901001")).accepted


def test_a_malformed_configured_id_is_refused() -> None:
    with pytest.raises(InvalidIdentifierError, match="month 13"):
        kakade(include_ids=["2413.00001"])


def test_a_profile_with_no_usable_name_is_refused() -> None:
    with pytest.raises(ValueError, match="'odd'"):
        Matcher.for_profile("odd", "---", aliases=["..", "\u200f"])


def test_aliases_that_fold_to_nothing_match_nothing() -> None:
    matcher = kakade(aliases=["--", "\u0301"])
    assert matcher.folded_names == {"sham kakade"}
    assert not matcher.decide(paper("--", "\u200f", "'")).accepted


def test_matcher_from_a_profile_record() -> None:
    profile = AuthorProfile(
        key="kakade",
        name="Sham Kakade",
        aliases=("S. Kakade",),
        include_ids=frozenset({"2409.11322"}),
    )
    matcher = Matcher(profile)
    assert matcher.profile is profile
    assert matcher.folded_names == {"sham kakade", "s kakade"}
    assert matcher.include_ids == {"2409.11322"}
    assert matcher.exclude_ids == frozenset()
    with pytest.raises(dataclasses.FrozenInstanceError):
        profile.name = "x"  # type: ignore[misc]


# --- hostile names ------------------------------------------------------------------

HOSTILE = [
    'Robert"); DROP TABLE authors;--',
    "O'Brien; --",
    'Sham "The Man" Kakade',
    "C:\\Users\\Sham\\",
    "Sham\u200f Kakade\u200e",
    "\u202eedakaK mahS",
    "Z\u0335\u0321a\u0334l\u0336g\u0337o\u0338",
    "%s %(name)s {0} \\N{BULLET}",
    "Sham .*+?[](){}|^$ Kakade",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_names_are_matched_literally(name: str) -> None:
    matcher = Matcher.for_profile("hostile", name)
    assert matcher.decide(paper("Jane Doe", name)) == MatchDecision(True, name, "name match")
    rejected = matcher.decide(paper("Jane Doe"))
    assert not rejected.accepted
    assert rejected.reason == f'no author named like "{name}" (closest: "Jane Doe")'


def test_regex_characters_are_not_patterns() -> None:
    matcher = Matcher.for_profile("regex", "Sham.*")
    assert matcher.folded_names == {"sham"}
    assert not matcher.decide(paper("Sham Kakade")).accepted


@FEW
@given(st.text(min_size=1), st.lists(st.text(), max_size=5))
def test_any_name_matches_itself_and_never_crashes(name: str, others: list[str]) -> None:
    if not fold_name(name):
        with pytest.raises(ValueError):
            Matcher.for_profile("any", name)
        return
    matcher = Matcher.for_profile("any", name)
    assert matcher.decide(paper(*others, name)).accepted
    decision = matcher.decide(paper(*others))
    assert decision.accepted == any(fold_name(o) == fold_name(name) for o in others)
