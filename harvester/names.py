"""How names compare: folding forgives accents, case, punctuation and spacing, nothing more.

Pure functions, shared by the matcher (:mod:`harvester.identity.matching`) and the store, which
keeps each paper author's folded name (:mod:`harvester.store.papers`) without depending
on the matcher.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = ["fold_name", "fold_names"]


def fold_name(name: str) -> str:
    """The comparison key of a name: "Shám  KAKADE" and "sham kakade" fold alike.

    NFKD, accents and other combining marks dropped, casefolded; every character
    that is not a letter, digit or spelling mark of any script (punctuation,
    symbols, whitespace, controls) becomes a space, invisible format characters
    (bidi marks, zero-width joiners) vanish; spaces collapsed and stripped.
    Idempotent, and the same for NFC and NFD input.
    """
    if name.isascii():
        return " ".join(name.lower().translate(_ASCII_FOLD).split())
    return _fold_unicode(name)


_ASCII_FOLD = str.maketrans(
    dict.fromkeys((chr(c) for c in range(128) if not chr(c).isalnum()), " ")
)
"""The rules, for ASCII: it is its own NFKD, its casefold is ``lower()``, it has no marks
or format characters, and its letters and digits are ``[A-Za-z0-9]``; every other ASCII
character becomes a space (:func:`_fold_char`)."""


def _fold_unicode(name: str) -> str:
    """:func:`fold_name` by the rules, one character at a time (any text)."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", name).casefold())
    return " ".join("".join(map(_fold_char, decomposed)).split())


def _fold_char(char: str) -> str:
    """One decomposed, casefolded character: itself, nothing, or a space."""
    if unicodedata.combining(char):
        return ""
    category = unicodedata.category(char)
    if category[0] in "LN" or category in ("Mn", "Mc"):
        return char
    if category in ("Cf", "Me"):
        return ""
    return " "


def fold_names(names: Iterable[str]) -> frozenset[str]:
    """The folded forms of ``names``; names that fold to nothing are left out."""
    return frozenset(folded for folded in map(fold_name, names) if folded)
