"""One entry point for every rendering of a profile, and the JSON one.

JSON carries the same content as the other formats with every number (scores and their
parts, counts per year and category), for other programs. Datetimes are ISO 8601 in UTC.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..records import Profile
from .render_html import render_html
from .render_text import render_markdown, render_text

JSON_SCHEMA_VERSION = 1


def render_json(profile: Profile) -> str:
    """Strict JSON: a number that is not finite (never stored on purpose) is ``null``."""
    document = finite(profile_document(profile))
    return json.dumps(document, indent=2, ensure_ascii=False, default=_iso, allow_nan=False) + "\n"


def finite(value: Any) -> Any:
    """``value`` with every float that is NaN or infinite, at any depth, made ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def profile_document(p: Profile) -> dict[str, Any]:
    """The profile as plain JSON-able data."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "key": p.key,
        "name": p.name,
        "headline": p.headline,
        "spellings": list(p.spellings),
        "stats": asdict(p.stats),
        "papers_by_year": [asdict(y) for y in p.years],
        "papers_by_category": [asdict(c) for c in p.categories],
        "coauthors": [asdict(c) for c in p.coauthors],
        "similar_authors": [asdict(s) for s in p.similar],
        "papers": [
            {**asdict(paper), "url": paper.url, "snippet": paper.snippet} for paper in p.papers
        ],
    }


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


RENDERERS: dict[str, Callable[[Profile], str]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
    "html": render_html,
}
FORMATS = tuple(RENDERERS)


def render(profile: Profile, fmt: str = "text") -> str:
    """The profile in ``fmt`` (one of :data:`FORMATS`)."""
    return RENDERERS[fmt](profile)
