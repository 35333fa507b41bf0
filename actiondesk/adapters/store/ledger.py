"""The audit ledger: appending to the hash chain, reading it back, verifying it.

Appends serialise on the ``audit_head`` row: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
writer's ``BEGIN IMMEDIATE`` already holds the database's one write lock. A transaction reads (and locks) the
head once, at its first append, and keeps it as a ``Chain``, which chains each entry's hash in memory; just
before the commit (``Chain.close``) the transaction's entries are written with one executemany and the head row
once, with the last entry's seq and hash. A transaction that rolls back leaves both the entries and the head as
they were.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from actiondesk.adapters.store.engine import reading
from actiondesk.adapters.store.errors import NOT_MIGRATED, translated
from actiondesk.adapters.store.mapping import entry_from
from actiondesk.adapters.store.tables import HEAD_ID, audit_entries, audit_head
from actiondesk.adapters.store.utc import as_utc
from actiondesk.core.audit import (
    AuditDraft,
    AuditEntry,
    VerifyReport,
    canonical_json,
    entry_hash,
    verify_chain,
)
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.redact import redact_message

BATCH = 1000

_head = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)


# The chain in seq order, as verify_chain takes it: every text column as its stored UTF-8 bytes (nothing decoded
# to be encoded again), ``at`` as text in UTC, 'YYYY-MM-DD HH:MM:SS.ffffff': SQLite stores it so (naive UTC);
# PostgreSQL spells its timestamptz so. No row objects, no dates parsed.
_CHAIN_SQL = {
    "sqlite": "SELECT seq, CAST(kind AS BLOB), CAST(case_id AS BLOB), CAST(actor AS BLOB), CAST(at AS BLOB), "
    "CAST(payload AS BLOB), CAST(prev_hash AS BLOB), CAST(hash AS BLOB) FROM audit_entries ORDER BY seq",
    "postgresql": "SELECT seq, convert_to(kind, 'UTF8'), convert_to(case_id, 'UTF8'), convert_to(actor, 'UTF8'), "
    "convert_to(to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), 'UTF8'), convert_to(payload, 'UTF8'), "
    "convert_to(prev_hash, 'UTF8'), convert_to(hash, 'UTF8') FROM audit_entries ORDER BY seq",
}
VERIFY_BATCH = 1000  # rows fetched and checked at a time: large enough to amortise the calls, small enough for cache


@contextmanager
def _stored_rows(connection: Connection) -> Iterator[Iterator[list[tuple[Any, ...]]]]:
    """The chain's rows in batches from a raw DBAPI cursor (a server-side cursor on PostgreSQL), inside the
    caller's read transaction; the cursor is closed when the block ends."""
    dbapi = connection.connection.driver_connection
    if dbapi is None:  # only a connection already closed has none
        raise ConfigurationError("the audit cannot be read: the database connection is closed")
    sqlite = connection.dialect.name == "sqlite"
    cursor = dbapi.cursor() if sqlite else dbapi.cursor(name="actiondesk_audit_verify")
    try:
        cursor.execute(_CHAIN_SQL["sqlite" if sqlite else "postgresql"])
        yield iter(partial(cursor.fetchmany, VERIFY_BATCH), [])
    finally:
        cursor.close()


def _read_head(connection: Connection) -> tuple[int, str]:
    row = connection.execute(_head).one_or_none()
    if row is None:
        raise ConfigurationError(f"the audit head row is missing; {NOT_MIGRATED}")
    return int(row.seq), str(row.hash)


# The append path speaks the driver's own SQL: nothing compiled or type-processed per statement.
_SQL = {
    "sqlite": (
        "SELECT seq, hash FROM audit_head WHERE id = 1",  # BEGIN IMMEDIATE already holds the write lock
        "INSERT INTO audit_entries (seq, kind, case_id, actor, at, payload, prev_hash, hash) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1",
    ),
    "postgresql": (
        "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        "INSERT INTO audit_entries (seq, kind, case_id, actor, at, payload, prev_hash, hash) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        "UPDATE audit_head SET seq = %s, hash = %s WHERE id = 1",
    ),
}


class Chain:
    """The chain's head as one write transaction moves it: read and locked at the first append.

    ``append`` only computes: it redacts the payload, serialises it once (the canonical text that is both hashed
    and stored), chains the hash and keeps the row. ``close`` (just before the commit) writes the transaction's
    rows with one executemany and moves the head row once. Nothing in a write transaction reads the audit back,
    so holding the rows until then changes nothing anyone can see; a transaction that raises writes none.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._sqlite = connection.dialect.name == "sqlite"
        self._select, self._insert, self._move = _SQL["sqlite" if self._sqlite else "postgresql"]
        row = connection.exec_driver_sql(self._select).first()
        if row is None:
            raise ConfigurationError(f"the audit head row is missing; {NOT_MIGRATED}")
        self.seq, self.hash = int(row[0]), str(row[1])
        self._rows: list[tuple[object, ...]] = []

    def append(self, draft: AuditDraft) -> AuditEntry:
        """Chain ``draft`` after the head; secrets are redacted before anything is hashed or kept."""
        seq = self.seq + 1
        at = as_utc(draft.at)
        kind = draft.kind.value
        payload = redact_message(draft.payload)
        payload_json = canonical_json(payload)
        spelled = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")  # as SQLite stores it
        stamp = f"{spelled[:10]}T{spelled[11:]}Z"  # as it is hashed (core.audit.timestamp), spelled once
        digest = entry_hash(seq, kind, draft.case_id, draft.actor, stamp, payload_json, self.hash)
        stored_at = spelled if self._sqlite else at
        self._rows.append((seq, kind, draft.case_id, draft.actor, stored_at, payload_json, self.hash, digest))
        # built from values made here, not validated again; ``payload`` is redact's fresh copy, no one else's
        entry = AuditEntry.model_construct(
            seq=seq,
            kind=draft.kind,
            case_id=draft.case_id,
            actor=draft.actor,
            at=at,
            payload=payload,
            prev_hash=self.hash,
            hash=digest,
        )
        self.seq, self.hash = seq, digest
        return entry

    def close(self) -> None:
        """Write the kept rows and the head row (before the commit); nothing when nothing was appended."""
        if not self._rows:
            return
        rows, self._rows = self._rows, []
        self._connection.exec_driver_sql(self._insert, rows)  # a list of rows: one executemany
        self._connection.exec_driver_sql(self._move, (self.seq, self.hash))


def append(connection: Connection, draft: AuditDraft) -> AuditEntry:
    """Append ``draft`` inside the caller's write transaction, moving the head row with it (one entry)."""
    chain = Chain(connection)
    entry = chain.append(draft)
    chain.close()
    return entry


def entries(engine: Engine, case_id: str | None, after_seq: int) -> Iterator[AuditEntry]:
    """Entries after ``after_seq`` in seq order, read in batches, each batch in its own short transaction.

    No connection is held while the caller consumes the entries.
    """
    last = after_seq
    while True:
        query = select(audit_entries).where(audit_entries.c.seq > last)
        if case_id is not None:
            query = query.where(audit_entries.c.case_id == case_id)
        query = query.order_by(audit_entries.c.seq).limit(BATCH)
        with translated(), reading(engine) as connection:
            rows = connection.execute(query).mappings().all()
        for row in rows:
            yield entry_from(row)
        if len(rows) < BATCH:
            return
        last = rows[-1]["seq"]


def kind_counts(engine: Engine, kinds: Iterable[str]) -> dict[str, int]:
    """How many entries of each kind the chain holds (it only grows, so these only grow)."""
    wanted = sorted(kinds)
    query = (
        select(audit_entries.c.kind, func.count())
        .where(audit_entries.c.kind.in_(wanted))
        .group_by(audit_entries.c.kind)
    )
    with translated(), reading(engine) as connection:
        found = {str(kind): int(count) for kind, count in connection.execute(query)}
    return {kind: found.get(kind, 0) for kind in wanted}


def entries_of_kind(engine: Engine, kind: str, since: datetime) -> Iterator[AuditEntry]:
    last = 0
    while True:
        query = (
            select(audit_entries)
            .where(audit_entries.c.seq > last, audit_entries.c.kind == kind, audit_entries.c.at >= since)
            .order_by(audit_entries.c.seq)
            .limit(BATCH)
        )
        with translated(), reading(engine) as connection:
            rows = connection.execute(query).mappings().all()
        for row in rows:
            yield entry_from(row)
        if len(rows) < BATCH:
            return
        last = rows[-1]["seq"]


def head(engine: Engine) -> tuple[int, str]:
    with translated(), reading(engine) as connection:
        return _read_head(connection)


def verify(engine: Engine, checkpoints: Mapping[int, str] | None = None) -> VerifyReport:
    """Walk the whole chain in one read snapshot, streamed, and check it against the recorded head."""
    with translated(), reading(engine) as connection:
        head = _read_head(connection)
        with _stored_rows(connection) as rows:
            return verify_chain(rows, expected_head=head, checkpoints=checkpoints)
