"""SqlUnitOfWork: the UnitOfWork port over one open write transaction."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from actiondesk.adapters.store import ledger, outbox
from actiondesk.adapters.store.dialect import insert_ignoring_conflict, upsert_target
from actiondesk.adapters.store.errors import FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, sqlstate, translated
from actiondesk.adapters.store.mapping import (
    approval_from,
    approval_row,
    case_from,
    case_row,
    run_from,
    run_row,
)
from actiondesk.adapters.store.rollup import FACT_KINDS, TRANSITION_KINDS, Rollups
from actiondesk.adapters.store.tables import (
    action_runs,
    alert_cases,
    approval_votes,
    approvals,
    case_attempts,
    cases,
    deliveries,
)
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditDraft, AuditEntry
from actiondesk.core.case import Case
from actiondesk.core.errors import (
    ApprovalNotFoundError,
    CaseNotFoundError,
    ConcurrencyError,
    NotFoundError,
)
from actiondesk.core.runs import ActionRun
from actiondesk.core.tickets import OutboxDraft

logger = logging.getLogger(__name__)

# Columns the updates leave alone: ids and creation times never change, leases belong to claim_lease.
_CASE_FIXED = {"id", "created_at", "version", "lease_owner", "lease_until"}
_APPROVAL_FIXED = {"id", "case_id", "created_at"}
_RUN_FIXED = {"key", "case_id", "action", "params", "started_at"}
TRACKED = FACT_KINDS | TRANSITION_KINDS


class SqlUnitOfWork:
    """Everything written through one instance commits or rolls back together (see SqlStore.transaction)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._chain: ledger.Chain | None = None  # the audit head, from this transaction's first append on
        self._rollups: Rollups | None = None  # the metric facts of the cases this transaction changes

    def close(self) -> None:
        """Before the commit: write what this transaction keeps in memory (the audit, the metric rollups)."""
        with translated():
            if self._chain is not None:
                self._chain.close()
            if self._rollups is not None:
                self._rollups.close()

    @property
    def rollups(self) -> Rollups:
        if self._rollups is None:
            self._rollups = Rollups(self._connection)
        return self._rollups

    def add_case(self, case: Case) -> Case:
        """Insert ``case`` with version 1 (whatever version it carries) and return it so.

        A refused insert (ConcurrencyError: the id is taken) leaves the transaction usable: on PostgreSQL the
        insert runs in a savepoint for that, since a failed statement there aborts the whole transaction; SQLite
        backs out only the failed statement, so it needs none (a savepoint costs two more statements at every
        case opened).
        """
        values = case_row(case, version=1)
        with translated():
            try:
                if self._connection.dialect.name == "postgresql":
                    with self._connection.begin_nested():
                        self._connection.execute(insert(cases), values)
                else:
                    self._connection.execute(insert(cases), values)
            except IntegrityError as exc:
                _raise_meaningful(exc, f"case {case.id}", None)
                raise
            self.rollups.new_case(case)
        return case.model_copy(update={"version": 1})

    def get_case(self, case_id: str) -> Case:
        with translated():
            row = self._connection.execute(select(cases).where(cases.c.id == case_id)).mappings().one_or_none()
        if row is None:
            raise CaseNotFoundError(f"no case {case_id}")
        return case_from(row)

    def save_case(self, case: Case) -> Case:
        values = {k: v for k, v in case_row(case, version=case.version + 1).items() if k not in _CASE_FIXED}
        query = (
            update(cases)
            .where(cases.c.id == case.id, cases.c.version == case.version)
            .values({**values, "version": cases.c.version + 1})
        )
        with translated():
            if self._connection.execute(query).rowcount == 1:
                self.rollups.case(case)
                return case.model_copy(update={"version": case.version + 1})
            exists = self._connection.execute(select(cases.c.version).where(cases.c.id == case.id)).scalar()
        if exists is None:
            raise CaseNotFoundError(f"no case {case.id}")
        logger.info("case %s changed under us: had version %s, stored %s", case.id, case.version, exists)
        raise ConcurrencyError(f"case {case.id} changed under us (version {case.version}, stored {exists})")

    def add_approval(self, approval: Approval) -> None:
        values = approval_row(approval).model_dump()
        with translated():
            try:
                with self._connection.begin_nested():
                    self._connection.execute(insert(approvals), values)
            except IntegrityError as exc:
                _raise_meaningful(exc, f"approval {approval.id}", approval.case_id)
                raise
            if approval.decided_at is not None:
                self.rollups.approval(approval)

    def get_approval(self, approval_id: str) -> Approval:
        query = select(approvals).where(approvals.c.id == approval_id)
        with translated():
            row = self._connection.execute(query).mappings().one_or_none()
        if row is None:
            raise ApprovalNotFoundError(f"no approval {approval_id}")
        return approval_from(row)

    def transition_approval(self, approval: Approval, expected: ApprovalStatus) -> bool:
        values = approval_row(approval).model_dump(exclude=_APPROVAL_FIXED)
        query = (
            update(approvals).where(approvals.c.id == approval.id, approvals.c.status == expected.value).values(values)
        )
        with translated():
            if self._connection.execute(query).rowcount != 1:
                return False
            self.rollups.approval(approval)
        return True

    def claim_run(self, run: ActionRun) -> tuple[ActionRun, bool]:
        """Insert unless the key exists (race-safe: ON CONFLICT DO NOTHING), then read back what is stored."""
        query = (
            insert_ignoring_conflict(self._connection, action_runs, ["key"])
            .values(run_row(run).model_dump())
            .returning(action_runs.c.key)  # a row only when this INSERT created one
        )
        with translated():
            try:
                with self._connection.begin_nested():
                    created = self._connection.execute(query).first() is not None
            except IntegrityError as exc:
                _raise_meaningful(exc, f"run {run.key}", run.case_id)
                raise
            row = self._connection.execute(select(action_runs).where(action_runs.c.key == run.key)).mappings().one()
        return run_from(row), created

    def save_run(self, run: ActionRun) -> None:
        values = run_row(run).model_dump(exclude=_RUN_FIXED)
        with translated():
            updated = self._connection.execute(
                update(action_runs).where(action_runs.c.key == run.key).values(values)
            ).rowcount
        if updated != 1:
            raise NotFoundError(f"no action run {run.key}: claim it before saving it")

    def remember(self, key: str, source: str, at: datetime) -> bool:
        """Record an inbound delivery key; False when it was seen before (a retry or a double click)."""
        query = (
            insert_ignoring_conflict(self._connection, deliveries, ["key"])
            .values(key=key, source=source, seen_at=at)
            .returning(deliveries.c.key)
        )
        with translated(), self._connection.begin_nested():
            return self._connection.execute(query).first() is not None

    def add_vote(self, approval_id: str, person: str, at: datetime) -> bool:
        """Record ``person``'s vote to approve; False when they had already voted."""
        query = (
            insert_ignoring_conflict(self._connection, approval_votes, ["approval_id", "person"])
            .values(approval_id=approval_id, person=person, voted_at=at)
            .returning(approval_votes.c.person)
        )
        with translated(), self._connection.begin_nested():
            return self._connection.execute(query).first() is not None

    def votes(self, approval_id: str) -> list[str]:
        """Who voted to approve, in the order they voted."""
        query = (
            select(approval_votes.c.person)
            .where(approval_votes.c.approval_id == approval_id)
            .order_by(approval_votes.c.voted_at, approval_votes.c.person)
        )
        with translated():
            return list(self._connection.execute(query).scalars())

    def link_alert(self, fingerprint: str, case_id: str, at: datetime) -> None:
        """Record the case an alert opened (ConcurrencyError when the fingerprint already has one)."""
        with translated():
            try:
                with self._connection.begin_nested():
                    self._connection.execute(
                        insert(alert_cases).values(fingerprint=fingerprint, case_id=case_id, opened_at=at)
                    )
            except IntegrityError as exc:
                _raise_meaningful(exc, f"alert {fingerprint}", case_id)
                raise

    def failed_attempts(self, case_id: str) -> int:
        with translated():
            return failed_attempts(self._connection, case_id)

    def record_attempt(self, case_id: str, attempts: int, next_at: datetime, error: str, at: datetime) -> None:
        values = {"attempts": attempts, "next_attempt_at": next_at, "last_error": error, "updated_at": at}
        query = upsert_target(self._connection, case_attempts).values(case_id=case_id, **values)
        with translated():
            self._connection.execute(query.on_conflict_do_update(index_elements=["case_id"], set_=values))

    def clear_attempts(self, case_id: str) -> None:
        with translated():
            self._connection.execute(delete(case_attempts).where(case_attempts.c.case_id == case_id))

    def enqueue(self, drafts: Sequence[OutboxDraft], at: datetime) -> None:
        """Queue ticket-mirror writes in this transaction (see adapters/store/outbox.py)."""
        outbox.enqueue(self._connection, drafts, at)

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        """Chained in memory; the head read once per transaction, the entries and the head written in ``close``.
        A case transition's entry (opened, escalated, handed off...) also moves the metric rollups."""
        with translated():
            if self._chain is None:
                self._chain = ledger.Chain(self._connection)
            entry = self._chain.append(draft)
            if entry.kind in TRACKED:
                self.rollups.audit(entry)
        return entry


def failed_attempts(connection: Connection, case_id: str) -> int:
    """How many times in a row the case's step has raised (0: none recorded)."""
    query = select(case_attempts.c.attempts).where(case_attempts.c.case_id == case_id)
    return int(connection.execute(query).scalar_one_or_none() or 0)


def _raise_meaningful(exc: IntegrityError, what: str, case_id: str | None) -> None:
    code = sqlstate(exc)
    if code == FOREIGN_KEY_VIOLATION:
        raise CaseNotFoundError(f"{what}: no case {case_id}") from exc
    if code == UNIQUE_VIOLATION:
        raise ConcurrencyError(f"{what} already exists") from exc
