"""Author profiles read back from the database: statistics, similar authors, renderings.

::

    profile = load_profile(store, "kakade")     # from the public views
    print(render(profile, "text"))              # text, markdown, json or html
    export_profile(store, "kakade", "bibtex")   # bibtex, csv or json
    after_cycle(settings, store)                # after each harvest cycle

Modules: :mod:`.stats` (a profile, from the store's reader), :mod:`.corpus` and
:mod:`.similar` (similar authors: TF-IDF with scikit-learn), :mod:`.render_text`,
:mod:`.render_html`, :mod:`.render`, :mod:`.feed` (Atom), :mod:`.site` (the static
site), :mod:`.export`, :mod:`.history`, :mod:`.refresh` (the after-cycle hook), :mod:`.safe_text`
(text safe to print on a terminal). Only :mod:`.refresh` is imported with the package;
the renderers and readers on first use of their names.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .refresh import after_cycle, refresh_similar_authors, write_site_recomputing

if TYPE_CHECKING:
    from .export import EXPORT_FORMATS, export_profile
    from .history import load_history, parse_since, render_history
    from .render import FORMATS, render
    from .render_text import render_summary
    from .site import write_site
    from .stats import check_schema, load_profile

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "after_cycle",
    "check_schema",
    "export_profile",
    "load_history",
    "load_profile",
    "parse_since",
    "refresh_similar_authors",
    "render",
    "render_history",
    "render_summary",
    "write_site",
    "write_site_recomputing",
]

_HOMES = {
    "EXPORT_FORMATS": "export",
    "export_profile": "export",
    "load_history": "history",
    "parse_since": "history",
    "render_history": "history",
    "FORMATS": "render",
    "render": "render",
    "render_summary": "render_text",
    "write_site": "site",
    "check_schema": "stats",
    "load_profile": "stats",
}
"""The module of each name: the renderers and readers, imported on first use of any of them
(a harvest's refresh reads no profile and renders nothing when the similar authors are
current)."""


def __getattr__(name: str) -> Any:
    """A name of :data:`_HOMES`: every one of them is bound at once, so that the function
    :func:`render` wins over its module ``render`` (which importing it binds here too)."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    modules = {home: import_module(f"{__name__}.{home}") for home in set(_HOMES.values())}
    for each, home in _HOMES.items():
        globals()[each] = getattr(modules[home], each)
    return globals()[name]
