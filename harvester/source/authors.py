"""An author identifier feed (``https://arxiv.org/a/{id}.atom2``), parsed strictly.

The feed lists the papers an author claimed on arXiv (precise, possibly incomplete). It is
a plain Atom ``<feed>``: no opensearch numbers, no paging, one ``<entry>`` per paper whose
``<id>`` is the abs URL of its latest version (``http://arxiv.org/abs/1507.05965v2``), and
in the ``atom2`` form one ``<author><name>`` holding all names joined by ``", "``
(arXiv/arxiv-browse ``browse/controllers/author``; https://info.arxiv.org/help/author_identifiers.html).
Only the entry ids are used here: the papers themselves come from the query API, whose
entries carry each author separately. The ids are returned as written; the caller makes
them canonical (:func:`harvester.normalise.claimed_ids`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import IncompleteResponseError
from .feed import ATOM, document, first_text

_ENTRY, _ID, _TITLE = f"{{{ATOM}}}entry", f"{{{ATOM}}}id", f"{{{ATOM}}}title"


@dataclass(frozen=True, slots=True)
class AuthorFeed:
    """What an author identifier feed says: its title (``NAME's articles on arXiv``) and
    the id of every entry, as written, in feed order."""

    url: str
    title: str
    entry_ids: tuple[str, ...]


def parse_author_feed(body: bytes, url: str) -> AuthorFeed:
    """The feed's entry ids; a body that is not a well-formed Atom feed, or an entry
    without an id, is an :class:`~harvester.errors.IncompleteResponseError` (retried)."""
    root = document(body, url)
    ids = []
    for index, entry in enumerate(root.iterchildren(_ENTRY)):
        entry_id = (first_text(entry, _ID) or "").strip()
        if not entry_id:
            raise IncompleteResponseError(f"entry {index} of the author feed has no id", url=url)
        ids.append(entry_id)
    return AuthorFeed(url, " ".join((first_text(root, _TITLE) or "").split()), tuple(ids))
