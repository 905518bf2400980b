"""One profile, read from the public views by the store (:mod:`harvester.store.profiles`)."""

from __future__ import annotations

from ..errors import SchemaOutdatedError
from ..records import Profile
from ..store import Store, current_revision, head_revision
from ..store.profiles import profile_reader


def check_schema(store: Store) -> None:
    """Commands that only read refuse a schema that is not the newest (they never migrate:
    a reader may have a read-only role)."""
    current, head = current_revision(store.engine), head_revision()
    if current != head:
        raise SchemaOutdatedError(
            f"the database schema is at revision {current or 'none'}; this version reads {head}"
        )


def load_profile(store: Store, key: str) -> Profile:
    """Everything a rendering shows; raises :class:`ProfileNotFoundError` for an unknown key."""
    with profile_reader(store.engine) as reader:
        return reader.profile(key)
