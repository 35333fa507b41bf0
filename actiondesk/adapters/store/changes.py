"""The ChangeLog port over the ``changes`` table: change events stored once per idempotency key, each audited in
the transaction that stores it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select

from actiondesk.adapters.store import ledger
from actiondesk.adapters.store.dialect import insert_ignoring_conflict
from actiondesk.adapters.store.engine import reading, writing
from actiondesk.adapters.store.errors import translated
from actiondesk.adapters.store.tables import changes
from actiondesk.adapters.store.utc import as_utc
from actiondesk.core.audit_payloads import ChangeRecorded
from actiondesk.core.catalog import ChangeEvent

# The event's fields that are columns under the same name (commit is commit_sha: COMMIT is an SQL keyword).
_SAME = (
    "id",
    "service",
    "kind",
    "at",
    "source",
    "version",
    "previous_version",
    "key",
    "value",
    "previous_value",
    "replicas",
    "previous_replicas",
    "author",
    "url",
)


def _row(event: ChangeEvent, received_at: datetime) -> dict[str, Any]:
    row = {name: getattr(event, name) for name in _SAME}
    row["commit_sha"] = event.commit
    row["received_at"] = received_at
    return row


def event_from(row: RowMapping) -> ChangeEvent:
    return ChangeEvent(**{name: row[name] for name in _SAME}, commit=row["commit_sha"])


def record(connection: Connection, event: ChangeEvent, received_at: datetime, actor: str) -> tuple[ChangeEvent, bool]:
    """Insert ``event`` unless its id is known (then the stored one is returned, unchanged); audit a new one."""
    query = (
        insert_ignoring_conflict(connection, changes, ["id"]).values(**_row(event, received_at)).returning(changes.c.id)
    )
    if connection.execute(query).first() is None:
        stored = connection.execute(select(changes).where(changes.c.id == event.id)).mappings().one()
        return event_from(stored), False
    ledger.append(
        connection,
        ChangeRecorded.of_event(event).draft(None, actor, received_at),
    )
    return event, True


class SqlChangeLog:
    """The ChangeLog port on one engine."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def record_change(
        self, event: ChangeEvent, *, actor: str | None = None, received_at: datetime | None = None
    ) -> tuple[ChangeEvent, bool]:
        """Store ``event`` unless its id is known; return the stored event and whether this call created it.
        ``actor`` is who the audit entry names (default ``change:<source>``)."""
        now = as_utc(received_at) if received_at is not None else datetime.now(UTC)
        with translated(), writing(self._engine) as connection:
            return record(connection, event, now, actor or f"change:{event.source}")

    def change(self, change_id: str) -> ChangeEvent | None:
        with translated(), reading(self._engine) as connection:
            row = connection.execute(select(changes).where(changes.c.id == change_id)).mappings().one_or_none()
        return None if row is None else event_from(row)

    def recorded_changes(
        self,
        *,
        service: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[ChangeEvent]:
        """Oldest first; the newest ``limit`` when there are more. ``start`` is inclusive, ``end`` exclusive."""
        query = select(changes).order_by(changes.c.at.desc(), changes.c.id.desc()).limit(max(0, limit))
        if service is not None:
            query = query.where(changes.c.service == service)
        if start is not None:
            query = query.where(changes.c.at >= start)
        if end is not None:
            query = query.where(changes.c.at < end)
        with translated(), reading(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [event_from(row) for row in reversed(rows)]
