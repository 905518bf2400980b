"""The clock that processes sharing a database agree on.

On PostgreSQL that is the server's clock: harvesters on several machines then compare lease
expiries and request slots on one clock, whatever their own clocks say. A SQLite file is
shared only by processes of one machine, whose clock is the local one.

A statement that needs *now* takes it from :func:`statement_now`: on PostgreSQL the
server's ``statement_timestamp()``, read where the statement runs, so the clock costs no
round trip of its own (a query's leases and request slot read it several times).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, DateTime, Row, Select, func, select


def database_now(conn: Connection) -> datetime:
    """Now, as an aware UTC datetime, on the clock every user of ``conn``'s database shares."""
    if conn.dialect.name == "postgresql":
        now: datetime = conn.execute(select(func.clock_timestamp())).scalar_one()
        return now.astimezone(UTC)
    return datetime.now(UTC)


def statement_now(conn: Connection) -> ColumnElement[datetime] | datetime:
    """Now on the shared clock, to be used inside a statement (compared with, or added to
    a ``timedelta``): on PostgreSQL the SQL expression ``statement_timestamp()``, elsewhere
    the local clock's value."""
    if conn.dialect.name == "postgresql":
        return func.statement_timestamp(type_=DateTime(timezone=True))
    return datetime.now(UTC)


def first_with_now(conn: Connection, stmt: Select[Any]) -> tuple[Row[Any] | None, datetime]:
    """The first row of ``stmt`` and :func:`database_now`, on PostgreSQL in one round trip."""
    if conn.dialect.name != "postgresql":
        return conn.execute(stmt).first(), datetime.now(UTC)
    row = conn.execute(stmt.add_columns(func.clock_timestamp())).first()
    if row is None:
        return None, database_now(conn)
    now: datetime = row[-1]
    return row, now.astimezone(UTC)
