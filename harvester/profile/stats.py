"""One profile, read from the public views by the store (:meth:`harvester.store.Store.profiles`)."""

from __future__ import annotations

from ..errors import SchemaOutdatedError
from ..records import Profile
from ..store import Store


def check_schema(store: Store) -> None:
    """Commands that only read refuse a schema that is not the newest (they never migrate:
    a reader may have a read-only role)."""
    current, head = store.schema_revisions()
    if current != head:
        raise SchemaOutdatedError(
            f"the database schema is at revision {current or 'none'}; this version reads {head}"
        )


def load_profile(store: Store, key: str) -> Profile:
    """Everything a rendering shows; raises :class:`ProfileNotFoundError` for an unknown key."""
    with store.profiles() as reader:
        return reader.profile(key)
