"""The transactional outbox: ticket-mirror writes queued with the case change they mirror, then delivered
in id order per ticket by whichever replica claims the ticket's oldest pending row.

A row moves pending → done, or pending → dead when the ticket system rejects it; ``requeue`` puts a dead
row back. Every claim counts an attempt before the remote call, so a row found claimed again after a crash
is known to be a retry and is checked against the ticket before it is written a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, and_, exists, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping

from actiondesk.adapters.store.dialect import upsert_target
from actiondesk.adapters.store.engine import reading, writing
from actiondesk.adapters.store.errors import translated
from actiondesk.adapters.store.tables import outbox, ticket_links
from actiondesk.core.errors import NotFoundError
from actiondesk.core.tickets import OutboxDraft, OutboxRow, OutboxStatus, TicketDraft, TicketRef, TicketUpdate

_PENDING = OutboxStatus.PENDING.value
_DUE_NOW = datetime(1970, 1, 1, tzinfo=UTC)  # a new row is due at once, whatever clock queued it (scenarios)


def enqueue(connection: Connection, drafts: Sequence[OutboxDraft], at: datetime) -> None:
    """Insert the rows on the caller's connection (its transaction decides whether they exist)."""
    if not drafts:
        return
    rows = [
        {
            "system": d.system,
            "case_id": d.ticket.case_id,
            "ticket": d.ticket.model_dump_json(),
            "update": d.update.model_dump_json(),
            "status": _PENDING,
            "attempts": 0,
            "next_attempt_at": _DUE_NOW,
            "created_at": at,
        }
        for d in drafts
    ]
    with translated():
        connection.execute(insert(outbox), rows)


def _row(row: RowMapping) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        system=row["system"],
        case_id=row["case_id"],
        ticket=TicketDraft.model_validate_json(row["ticket"]),
        update=TicketUpdate.model_validate_json(row["update"]),
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        created_at=row["created_at"],
        delivered_at=row["delivered_at"],
        last_error=row["last_error"],
    )


class SqlOutbox:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def heads(self, now: datetime, systems: Sequence[str], limit: int = 100) -> list[OutboxRow]:
        """Each ticket's oldest pending row, when it is due and nobody holds a live claim on it."""
        earlier = outbox.alias("earlier")
        blocked = exists().where(
            earlier.c.system == outbox.c.system,
            earlier.c.case_id == outbox.c.case_id,
            earlier.c.status == _PENDING,
            earlier.c.id < outbox.c.id,
        )
        query = (
            select(outbox)
            .where(
                outbox.c.status == _PENDING,
                outbox.c.system.in_(list(systems)),
                outbox.c.next_attempt_at <= now,
                or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now),
                ~blocked,
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        with translated(), reading(self._engine) as connection:
            return [_row(r) for r in connection.execute(query).mappings()]

    def claim(self, row_id: int, owner: str, now: datetime, seconds: float) -> OutboxRow | None:
        """Take the row for one attempt (counted now, before any remote call); None if someone else has it."""
        free = or_(outbox.c.claimed_until.is_(None), outbox.c.claimed_until < now, outbox.c.claimed_by == owner)
        query = (
            update(outbox)
            .where(and_(outbox.c.id == row_id, outbox.c.status == _PENDING, free))
            .values(claimed_by=owner, claimed_until=now + timedelta(seconds=seconds), attempts=outbox.c.attempts + 1)
        )
        with translated(), writing(self._engine) as connection:
            if connection.execute(query).rowcount != 1:
                return None
            return _row(connection.execute(select(outbox).where(outbox.c.id == row_id)).mappings().one())

    def _finish(self, row_id: int, **values: object) -> None:
        query = update(outbox).where(outbox.c.id == row_id).values(claimed_by=None, claimed_until=None, **values)
        with translated(), writing(self._engine) as connection:
            connection.execute(query)

    def done(self, row_id: int, at: datetime) -> None:
        self._finish(row_id, status=OutboxStatus.DONE.value, delivered_at=at, last_error=None)

    def later(self, row_id: int, at: datetime, error: str) -> None:
        """Leave the row pending until ``at``; later rows of its ticket keep waiting behind it."""
        self._finish(row_id, next_attempt_at=at, last_error=error)

    def dead(self, row_id: int, error: str) -> None:
        self._finish(row_id, status=OutboxStatus.DEAD.value, last_error=error)

    def requeue(self, row_id: int, now: datetime) -> OutboxRow:
        """Put a dead row back in the queue (its attempts are kept: the next one checks the ticket first)."""
        query = (
            update(outbox)
            .where(outbox.c.id == row_id, outbox.c.status == OutboxStatus.DEAD.value)
            .values(status=_PENDING, next_attempt_at=now, claimed_by=None, claimed_until=None)
        )
        with translated(), writing(self._engine) as connection:
            changed = connection.execute(query).rowcount
            row = connection.execute(select(outbox).where(outbox.c.id == row_id)).mappings().one_or_none()
        if row is None:
            raise NotFoundError(f"no outbox row {row_id}")
        if not changed:
            raise NotFoundError(f"outbox row {row_id} is {row['status']}, not dead: only dead rows are retried")
        return _row(row)

    def rows(
        self, status: OutboxStatus | None = None, case_id: str | None = None, limit: int = 1000
    ) -> list[OutboxRow]:
        """Oldest first."""
        query = select(outbox).order_by(outbox.c.id).limit(limit)
        if status is not None:
            query = query.where(outbox.c.status == status.value)
        if case_id is not None:
            query = query.where(outbox.c.case_id == case_id)
        with translated(), reading(self._engine) as connection:
            return [_row(r) for r in connection.execute(query).mappings()]

    def counts(self) -> dict[str, dict[str, int]]:
        """{system: {status: rows}}."""
        query = select(outbox.c.system, outbox.c.status, func.count()).group_by(outbox.c.system, outbox.c.status)
        result: dict[str, dict[str, int]] = {}
        with translated(), reading(self._engine) as connection:
            for system, status, count in connection.execute(query):
                result.setdefault(system, {})[status] = count
        return result

    def link(self, system: str, case_id: str) -> TicketRef | None:
        query = select(ticket_links).where(ticket_links.c.system == system, ticket_links.c.case_id == case_id)
        with translated(), reading(self._engine) as connection:
            row = connection.execute(query).mappings().one_or_none()
        return None if row is None else TicketRef(system=system, key=row["key"], number=row["number"])

    def save_link(self, case_id: str, ticket: TicketRef, at: datetime) -> None:
        with translated(), writing(self._engine) as connection:
            query = upsert_target(connection, ticket_links).values(
                system=ticket.system, case_id=case_id, key=ticket.key, number=ticket.number, linked_at=at
            )
            connection.execute(
                query.on_conflict_do_update(
                    index_elements=["system", "case_id"], set_={"key": ticket.key, "number": ticket.number}
                )
            )

    def links(self, system: str, case_ids: Sequence[str]) -> dict[str, TicketRef]:
        query = select(ticket_links).where(ticket_links.c.system == system, ticket_links.c.case_id.in_(case_ids))
        with translated(), reading(self._engine) as connection:
            return {
                r["case_id"]: TicketRef(system=system, key=r["key"], number=r["number"])
                for r in connection.execute(query).mappings()
            }
