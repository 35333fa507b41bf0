"""State blobs that several replicas change: each change locks the row, re-reads it and writes ``version + 1``.

``locked(name)`` opens one write transaction: on PostgreSQL ``SELECT ... FOR UPDATE`` holds the row (a missing
row is created first, so there is always one to lock), on SQLite ``BEGIN IMMEDIATE`` already holds the database.
Whoever comes second waits, then reads what the first wrote. ``version(name)`` is the cheap check a reader makes
to know whether its copy is stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, update

from actiondesk.adapters.store.dialect import insert_ignoring_conflict
from actiondesk.adapters.store.engine import reading, writing
from actiondesk.adapters.store.errors import translated
from actiondesk.adapters.store.tables import state_blobs


@dataclass
class LockedBlob:
    """A blob row held for one transaction: ``version`` and ``text`` as stored (no row yet: 0, None); ``write``."""

    name: str
    version: int
    text: str | None
    _connection: Connection

    def write(self, text: str) -> int:
        """Store ``text`` with the next version (in the held transaction); return that version."""
        query = (
            update(state_blobs)
            .where(state_blobs.c.name == self.name)
            .values(text=text, version=self.version + 1, updated_at=datetime.now(UTC))
        )
        with translated():
            self._connection.execute(query)
        self.version, self.text = self.version + 1, text
        return self.version


def version(engine: Engine, name: str) -> int | None:
    query = select(state_blobs.c.version).where(state_blobs.c.name == name)
    with translated(), reading(engine) as connection:
        return connection.execute(query).scalar_one_or_none()


def read(engine: Engine, name: str) -> tuple[int, str] | None:
    query = select(state_blobs.c.version, state_blobs.c.text).where(state_blobs.c.name == name)
    with translated(), reading(engine) as connection:
        row = connection.execute(query).one_or_none()
    return None if row is None else (int(row[0]), str(row[1]))


@contextmanager
def locked(engine: Engine, name: str) -> Iterator[LockedBlob]:
    """The blob's row, locked until the block ends (committed then; rolled back if it raises)."""
    with translated(), writing(engine) as connection:
        empty = insert_ignoring_conflict(connection, state_blobs, ["name"]).values(
            name=name, text="", updated_at=datetime.now(UTC), version=0
        )
        connection.execute(empty)
        query = select(state_blobs.c.version, state_blobs.c.text).where(state_blobs.c.name == name)
        if connection.dialect.name == "postgresql":
            query = query.with_for_update()
        found_version, text = connection.execute(query).one()
        yield LockedBlob(name, int(found_version), text or None, connection)
