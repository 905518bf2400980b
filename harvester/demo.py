"""Settings for the offline demo: the seed author, a local look-alike, a temporary SQLite file."""

from __future__ import annotations

from pathlib import Path

from .settings import Settings, parse_settings

DEMO_CONFIG = {
    "arxiv": {"page_size": 50, "delay_seconds": 0.2, "timeout_seconds": 10, "max_attempts": 3},
    "authors": [
        {
            "key": "kakade",
            "name": "Sham Kakade",
            "aliases": ["Sham M. Kakade", "Sham M Kakade"],
        }
    ],
}
"""Polite even to the local server (0.2 s apart), and small pages to show the paging."""


def demo_settings(api_url: str, database: Path) -> Settings:
    data = {
        **DEMO_CONFIG,
        "database": {"url": f"sqlite:///{database}"},
        "arxiv": {**DEMO_CONFIG["arxiv"], "api_url": api_url},  # type: ignore[dict-item]
    }
    return parse_settings(data, Path("<demo>"), {})
