"""The audit ledger: appending to the hash chain, reading it back, verifying it.

Appends serialise on the ``audit_head`` row: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
writer's ``BEGIN IMMEDIATE`` already holds the database's one write lock. A transaction reads (and locks) the
head once, at its first append, and keeps it as a ``Chain``, which chains each entry's hash in memory; just
before the commit (``Chain.close``) the transaction's entries are written with one executemany and the head row
once, with the last entry's seq and hash. A transaction that rolls back leaves both the entries and the head as
they were.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from datetime import UTC, datetime

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Select,
    String,
    func,
    select,
    type_coerce,
)

from actiondesk.adapters.store.engine import reading
from actiondesk.adapters.store.errors import NOT_MIGRATED, translated
from actiondesk.adapters.store.mapping import entry_from
from actiondesk.adapters.store.tables import HEAD_ID, audit_entries, audit_head
from actiondesk.adapters.store.utc import as_utc
from actiondesk.core.audit import (
    AuditDraft,
    AuditEntry,
    StoredRow,
    VerifyReport,
    canonical_json,
    entry_hash,
    timestamp,
    verify_chain,
)
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.redact import redact_message

BATCH = 1000
VERIFY_BATCH = 10_000

_head = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)
_UNREADABLE = datetime(1, 1, 1, tzinfo=UTC)  # stands in for a tampered, unparsable time: its hash will not match


def _chain_query(at_type: String | DateTime) -> Select[int, str, str | None, str, object, str, str, str]:
    """The columns of StoredRow in seq order; ``at`` read raw, skipping the per-row type processing."""
    c = audit_entries.c
    columns = (c.seq, c.kind, c.case_id, c.actor, type_coerce(c.at, at_type), c.payload, c.prev_hash, c.hash)
    return select(*columns).order_by(c.seq).execution_options(yield_per=VERIFY_BATCH)


_chain_sqlite = _chain_query(String())  # SQLite keeps naive UTC as text: 'YYYY-MM-DD HH:MM:SS.ffffff'
_chain_postgres = _chain_query(DateTime(timezone=True))


def _sqlite_at(value: object) -> datetime:
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError:
        return _UNREADABLE


def _sqlite_stamp(value: object) -> str:
    text = str(value)
    if len(text) != 26 or text[10] != " ":  # not SQLAlchemy's spelling: parse it (a tampered value won't hash)
        return timestamp(_sqlite_at(value))
    return f"{text[:10]}T{text[11:]}Z"


def _postgres_at(value: object) -> datetime:
    return value.astimezone(UTC) if isinstance(value, datetime) else _UNREADABLE


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
        digest = entry_hash(seq, kind, draft.case_id, draft.actor, at, payload_json, self.hash)
        stored_at = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") if self._sqlite else at
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


def _stored_rows(connection: Connection) -> Generator[StoredRow]:
    sqlite = connection.dialect.name == "sqlite"
    parse: Callable[[object], datetime] = _sqlite_at if sqlite else _postgres_at
    with connection.execute(_chain_sqlite if sqlite else _chain_postgres) as result:  # closes a server-side cursor
        if sqlite:  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' UTC: the canonical spelling is two string edits away
            for seq, kind, case_id, actor, at, payload, prev_hash, digest in result.tuples():
                yield StoredRow(seq, kind, case_id, actor, _sqlite_stamp(at), payload, prev_hash, digest)
            return
        for seq, kind, case_id, actor, at, payload, prev_hash, digest in result.tuples():
            yield StoredRow(seq, kind, case_id, actor, parse(at), payload, prev_hash, digest)


def head(engine: Engine) -> tuple[int, str]:
    with translated(), reading(engine) as connection:
        return _read_head(connection)


def verify(engine: Engine, checkpoints: Mapping[int, str] | None = None) -> VerifyReport:
    """Walk the whole chain in one read snapshot, streamed, and check it against the recorded head."""
    with translated(), reading(engine) as connection:
        head = _read_head(connection)
        rows = _stored_rows(connection)
        try:
            return verify_chain(rows, expected_head=head, checkpoints=checkpoints)
        finally:
            rows.close()  # verify_chain stops at the first bad entry
