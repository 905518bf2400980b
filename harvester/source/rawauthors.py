"""arXiv's raw author strings (arXivRaw ``<authors>``) into names and affiliations.

Submitters write the list by hand, and arXiv keeps it as written
(https://info.arxiv.org/help/prep.html#authors):

* names separated by commas, semicolons and ``and`` (``A. B, C. D and E. F``, ``A, B, and C``), line
  breaks anywhere;
* an affiliation in parentheses after a name (``A. B (MIT)``), or numbered ones with the
  numbers after the names and the list at the end: ``A (1), B (1 and 2) ((1) MIT, (2) ETH)``;
* ``et al`` at the end (dropped: it names nobody); collaborations as names
  (``ATLAS Collaboration: A. B, C. D`` is the collaboration and its members);
* TeX for accents (``Bal\\'azs``, ``\\v{S}r\\'amek``, ``{\\O}bro``): decoded to Unicode with
  ``pylatexenc``, or an accented name would never match its API spelling.

Pure: no I/O. Commas and ``and`` inside parentheses or braces do not split names.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING

from ..records import Author

if TYPE_CHECKING:
    from pylatexenc.latex2text import LatexNodes2Text

__all__ = ["decode_tex", "parse_raw_authors"]

_NUMBERED = re.compile(r"\(\s*(\d+)\s*\)")
_NUMBERS = re.compile(r"^\s*\d+(?:\s*(?:,|and|&)\s*\d+)*\s*$")
_ET_AL = re.compile(r"^et\.?\s+al\.?$", re.IGNORECASE)
_AND = re.compile(r"^and\s+|\s+and$", re.IGNORECASE)
_TRAILING_ET_AL = re.compile(r"\s+et\.?\s+al\.?$", re.IGNORECASE)


def decode_tex(text: str) -> str:
    """TeX accents and braces to Unicode, whitespace collapsed (``~`` is a space)."""
    if "\\" in text or "{" in text or "~" in text:
        text = _decoder().latex_to_text(text)
    return " ".join(text.replace("\u00a0", " ").split())


@cache
def _decoder() -> LatexNodes2Text:
    """Made on first use: a search-API harvest decodes no raw author list, and does not
    import ``pylatexenc``."""
    from pylatexenc.latex2text import LatexNodes2Text

    return LatexNodes2Text(math_mode="verbatim", strict_latex_spaces=True)


def parse_raw_authors(raw: str) -> tuple[Author, ...]:
    """Every author of a raw author string, in order, with affiliations."""
    text = " ".join(raw.split())
    text, numbered = _numbered_affiliations(text)
    authors = []
    for piece in _pieces(text):
        name, groups = _name_and_groups(piece)
        name = decode_tex(name)
        if not name or _ET_AL.match(name):
            continue
        affiliations: list[str] = []
        for group in groups:
            if _NUMBERS.match(group) and numbered:
                numbers = re.findall(r"\d+", group)
                affiliations += [numbered[n] for n in numbers if n in numbered]
            elif group.strip():
                affiliations.append(decode_tex(group))
        authors.append(Author(name, tuple(affiliations)))
    return tuple(authors)


def _numbered_affiliations(text: str) -> tuple[str, dict[str, str]]:
    """Split off a trailing ``((1) MIT, (2) ETH)`` block: the rest and the numbered map."""
    if not text.endswith(")"):
        return text, {}
    start = _opening_of_last_group(text)
    if start is None:
        return text, {}
    inner = text[start + 1 : -1].strip()
    if not _NUMBERED.match(inner):
        return text, {}
    parts = _NUMBERED.split(inner)  # ['', '1', ' MIT, ', '2', ' ETH']
    mapping = {
        parts[i]: decode_tex(parts[i + 1].strip().rstrip(",;").strip())
        for i in range(1, len(parts) - 1, 2)
    }
    return text[:start].rstrip(" ,"), mapping


def _opening_of_last_group(text: str) -> int | None:
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        if text[i] == ")":
            depth += 1
        elif text[i] == "(":
            depth -= 1
            if depth == 0:
                return i
    return None


def _pieces(text: str) -> Iterator[str]:
    """Split at top-level commas and the word ``and`` (never inside () or {})."""
    depth = 0
    current: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in "({":
            depth += 1
        elif char in ")}":
            depth = max(0, depth - 1)
        if depth == 0 and (char in ",;:" or _and_at(text, i)):
            yield from _cleaned("".join(current))
            current = []
            i += 1 if char in ",;:" else 4
            continue
        current.append(char)
        i += 1
    yield from _cleaned("".join(current))


def _and_at(text: str, i: int) -> bool:
    """`` and `` (a word, not inside a name such as ``Anderson``) starts at ``i``."""
    return text[i : i + 5].lower() == " and " or (i == 0 and text[:4].lower() == "and ")


def _cleaned(piece: str) -> Iterator[str]:
    piece = _TRAILING_ET_AL.sub("", _AND.sub("", piece.strip()).strip())
    if piece:
        yield piece


def _name_and_groups(piece: str) -> tuple[str, list[str]]:
    """``A. B (MIT) (ETH)`` -> ``("A. B", ["MIT", "ETH"])``."""
    name: list[str] = []
    groups: list[str] = []
    depth = 0
    current: list[str] = []
    for char in piece:
        if char == "(":
            depth += 1
            if depth == 1:
                current = []
                continue
        elif char == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                groups.append("".join(current).strip())
                continue
        (current if depth > 0 else name).append(char)
    if depth > 0:  # an unclosed parenthesis: keep it as part of the name
        name += ["(", *current]
    return " ".join("".join(name).split()), groups
