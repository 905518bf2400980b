"""Text from the database made safe to print on a terminal, one line at a time.

Titles, names, categories and reasons come from arXiv feeds (and whatever else wrote the
database), so they may hold control characters: ESC (``\\x1b``) or CSI (U+009B) start
terminal escape sequences that can recolour, move the cursor, retitle the window or hide
text, and bidirectional controls (U+202E RIGHT-TO-LEFT OVERRIDE...) make text read in an
order other than the one it is stored in. The plain-text renderings (``harvest profile``,
``harvest history``, the demo summary) pass every line they print through
:func:`terminal_line`; Markdown goes through it too, via its escaping helper.
"""

from __future__ import annotations

import unicodedata

BIDI_CONTROLS = frozenset(
    "\u061c"  # ARABIC LETTER MARK
    "\u200e\u200f"  # LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
)
"""The Unicode bidirectional formatting characters (Unicode Standard Annex #9)."""


def terminal_line(text: str) -> str:
    """``text`` as one printable line: control characters (category Cc: C0, DEL, C1) and
    line or paragraph separators that are whitespace (``\\n``, ``\\r``, ``\\t``, U+0085,
    U+2028...) become a space, so a value can neither start a fake line nor glue words
    together; every other control character and every bidi control is dropped."""
    if text.isprintable() and not BIDI_CONTROLS.intersection(text):
        return text  # the common case, and cheap
    return "".join(_safe_char(char) for char in text)


def _safe_char(char: str) -> str:
    if char in BIDI_CONTROLS:
        return ""
    if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
        return " " if char.isspace() else ""
    return char
