"""The audit ledger: appending to the hash chain, reading it back, verifying it.

Appends serialise on the ``audit_head`` row: ``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the
writer's ``BEGIN IMMEDIATE`` already holds the database's one write lock. A transaction reads (and locks) the
head once, at its first append, and keeps it as a ``Chain``; each append is then one INSERT, and the head row is
written once, just before the commit (``Chain.close``), with the last entry's seq and hash. A transaction that
rolls back leaves both the entries and the head as they were.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from datetime import UTC, datetime

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    Select,
    String,
    bindparam,
    func,
    select,
    type_coerce,
    update,
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
from actiondesk.core.redact import redact

BATCH = 1000
VERIFY_BATCH = 10_000

_head = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == HEAD_ID)
_head_locked = _head.with_for_update()
_move_head = (
    update(audit_head).where(audit_head.c.id == HEAD_ID).values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
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


def _read_head(connection: Connection, *, lock: bool) -> tuple[int, str]:
    query = _head_locked if lock else _head
    row = connection.execute(query).one_or_none()
    if row is None:
        raise ConfigurationError(f"the audit head row is missing; {NOT_MIGRATED}")
    return int(row.seq), str(row.hash)


class Chain:
    """The chain's head as one write transaction moves it: read and locked at the first append."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.seq, self.hash = _read_head(connection, lock=True)
        self._moved = False

    def append(self, draft: AuditDraft) -> AuditEntry:
        entry = _insert(self._connection, draft, self.seq, self.hash)
        self.seq, self.hash, self._moved = entry.seq, entry.hash, True
        return entry

    def close(self) -> None:
        """Write the head row (before the commit); nothing when nothing was appended."""
        if self._moved:
            self._connection.execute(_move_head, {"new_seq": self.seq, "new_hash": self.hash})
            self._moved = False


def append(connection: Connection, draft: AuditDraft) -> AuditEntry:
    """Append ``draft`` inside the caller's write transaction, moving the head row with it (one entry)."""
    chain = Chain(connection)
    entry = chain.append(draft)
    chain.close()
    return entry


# One INSERT per entry, sent as the driver's own SQL: no statement compiled or type-processed per append.
_INSERT_SQL = {
    "sqlite": "INSERT INTO audit_entries (seq, kind, case_id, actor, at, payload, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    "postgresql": "INSERT INTO audit_entries (seq, kind, case_id, actor, at, payload, prev_hash, hash) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
}


def _stored_at(dialect: str, at: datetime) -> object:
    """``at`` (UTC) as UtcDateTime stores it: naive UTC text on SQLite (the spelling verify reads), timestamptz."""
    if dialect == "sqlite":
        return at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return at


def _insert(connection: Connection, draft: AuditDraft, head_seq: int, head_hash: str) -> AuditEntry:
    """Insert ``draft`` after (head_seq, head_hash); secrets are redacted before writing."""
    seq = head_seq + 1
    at = as_utc(draft.at)
    kind = draft.kind.value
    payload_json = canonical_json(redact(draft.payload))
    digest = entry_hash(seq, kind, draft.case_id, draft.actor, at, payload_json, head_hash)
    dialect = connection.dialect.name
    row = (seq, kind, draft.case_id, draft.actor, _stored_at(dialect, at), payload_json, head_hash, digest)
    connection.exec_driver_sql(_INSERT_SQL[dialect], row)
    # built from values made here, not validated again
    return AuditEntry.model_construct(
        seq=seq,
        kind=draft.kind,
        case_id=draft.case_id,
        actor=draft.actor,
        at=at,
        payload=json.loads(payload_json),
        prev_hash=head_hash,
        hash=digest,
    )


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
        return _read_head(connection, lock=False)


def verify(engine: Engine, checkpoints: Mapping[int, str] | None = None) -> VerifyReport:
    """Walk the whole chain in one read snapshot, streamed, and check it against the recorded head."""
    with translated(), reading(engine) as connection:
        head = _read_head(connection, lock=False)
        rows = _stored_rows(connection)
        try:
            return verify_chain(rows, expected_head=head, checkpoints=checkpoints)
        finally:
            rows.close()  # verify_chain stops at the first bad entry
