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
(text safe to print on a terminal).
"""

from .export import EXPORT_FORMATS, export_profile
from .history import load_history, parse_since, render_history
from .refresh import after_cycle, refresh_similar_authors, write_site_recomputing
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
