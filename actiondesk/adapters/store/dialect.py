"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def upsert_target(connection: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT for ``table`` that supports ``ON CONFLICT`` on the connection's dialect."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_ignoring_conflict(
    connection: Connection, table: Table, keys: list[str]
) -> postgresql.Insert | sqlite.Insert:
    """``INSERT ... ON CONFLICT (keys) DO NOTHING``."""
    return upsert_target(connection, table).on_conflict_do_nothing(index_elements=keys)
