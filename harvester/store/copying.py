"""Bulk writes on PostgreSQL through ``COPY ... FROM STDIN`` (psycopg 3's ``Cursor.copy``).

A batch of thousands of rows sent as one ``COPY`` costs one round trip and no statement
per row, where an ``executemany`` runs the statement once a row. ``COPY`` only inserts, so
what must not fail on a row already stored (an upsert, a version kept once) is copied into
a temporary table first and moved by one ``INSERT ... SELECT ... ON CONFLICT`` (:func:`staged`).

The rows go through each column's bind processor as SQLAlchemy would run it
(:func:`bound_values`), so what is stored is what an ``INSERT`` stores.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table

COPY_MIN_ROWS = 200
"""Fewer rows than this go by ``executemany``: a temporary table costs more than it saves."""


def copy_wanted(conn: Connection, rows: Sequence[Any]) -> bool:
    """Whether ``rows`` are worth a ``COPY`` (PostgreSQL, and enough of them)."""
    return conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS


def copy_rows(
    conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], *, into: str | None = None
) -> None:
    """``rows`` (all with the keys of the first) into ``table``, or the table named ``into``
    with ``table``'s columns, by one ``COPY``."""
    if not rows:
        return
    columns = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    target = quote(into or table.name)
    names = ", ".join(quote(c) for c in columns)
    driver: Any = conn.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
        for values in bound_values(conn, table, columns, rows):
            copy.write_row(values)


@contextmanager
def staged(conn: Connection, table: Table) -> Iterator[Table]:
    """A temporary, empty table with ``table``'s columns (no keys, no constraints), for
    :func:`copy_rows` ``into=`` it, dropped after the block (and at commit, whatever
    happens: a failed transaction rolls its creation back)."""
    name = f"incoming_{table.name}"
    quote = conn.dialect.identifier_preparer.quote
    conn.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {quote(name)} (LIKE {quote(table.name)}) ON COMMIT DROP"
    )
    yield Table(name, MetaData(), *(Column(c.name, c.type) for c in table.c))
    conn.exec_driver_sql(f"DROP TABLE {quote(name)}")


def bound_values(
    conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """Each row's values of ``columns``, through each column type's bind processor for
    this dialect, as SQLAlchemy runs it, so the same values are stored; what is skipped
    is SQLAlchemy's bookkeeping per row. A value that is the very object of the row
    before (``now`` in every row) is processed once."""
    dialect = conn.dialect
    processors = [
        (index, _Processed(processor))
        for index, key in enumerate(columns)
        if (processor := table.c[key].type.dialect_impl(dialect).bind_processor(dialect))
    ]
    bound: list[tuple[Any, ...]] = []
    for row in rows:
        values = [row[key] for key in columns]
        for index, processed in processors:
            values[index] = processed(values[index])
        bound.append(tuple(values))
    return bound


class _Processed:
    """A column's bind processor, remembering its last value (compared by identity)."""

    __slots__ = ("last", "processor", "result")

    def __init__(self, processor: Callable[[Any], Any]) -> None:
        self.processor = processor
        self.last: Any = _NOTHING
        self.result: Any = None

    def __call__(self, value: Any) -> Any:
        if value is not self.last:
            self.last, self.result = value, self.processor(value)
        return self.result


_NOTHING = object()
