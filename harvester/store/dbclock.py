"""The clock that processes sharing a database agree on.

On PostgreSQL that is the server's ``clock_timestamp()``: harvesters on several machines
then compare lease expiries and request slots on one clock, whatever their own clocks say.
A SQLite file is shared only by processes of one machine, whose clock is the local one.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, func, select


def database_now(conn: Connection) -> datetime:
    """Now, as an aware UTC datetime, on the clock every user of ``conn``'s database shares."""
    if conn.dialect.name == "postgresql":
        now: datetime = conn.execute(select(func.clock_timestamp())).scalar_one()
        return now.astimezone(UTC)
    return datetime.now(UTC)
