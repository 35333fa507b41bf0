"""The store: one transaction (UnitOfWork), the reads and leases outside one (Store), and small state blobs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditDraft, AuditEntry, AuditKind, VerifyReport
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.runs import ActionRun
from actiondesk.core.tickets import OutboxDraft


class UnitOfWork(Protocol):
    """One database transaction. Everything written through it commits or rolls back together."""

    def add_case(self, case: Case) -> Case: ...

    def get_case(self, case_id: str) -> Case:
        """Raise CaseNotFoundError."""
        ...

    def save_case(self, case: Case) -> Case:
        """Write ``case`` if the stored version still equals ``case.version``; return it with version + 1.

        Raise ConcurrencyError when the row changed under us.
        """
        ...

    def add_approval(self, approval: Approval) -> None: ...

    def get_approval(self, approval_id: str) -> Approval:
        """Raise ApprovalNotFoundError."""
        ...

    def transition_approval(self, approval: Approval, expected: ApprovalStatus) -> bool:
        """Compare-and-set: store ``approval`` only if the stored status is still ``expected``."""
        ...

    def claim_run(self, run: ActionRun) -> tuple[ActionRun, bool]:
        """Insert ``run`` unless its key exists; return the stored run and whether this call created it."""
        ...

    def save_run(self, run: ActionRun) -> None: ...

    def append_audit(self, draft: AuditDraft) -> AuditEntry:
        """Append to the hash chain; the chain head is serialised across writers."""
        ...

    def remember(self, key: str, source: str, at: datetime) -> bool:
        """Record an inbound delivery key (event id, action id); False if it was already recorded."""
        ...

    def enqueue(self, drafts: Sequence[OutboxDraft], at: datetime) -> None:
        """Add ticket-mirror writes to the outbox, committed with whatever else this transaction writes."""
        ...

    def add_vote(self, approval_id: str, person: str, at: datetime) -> bool:
        """Record a vote to approve (quorum approvals); False if this person had already voted."""
        ...

    def votes(self, approval_id: str) -> list[str]:
        """The people who voted to approve, oldest vote first."""
        ...

    def link_alert(self, fingerprint: str, case_id: str, at: datetime) -> None:
        """Record the case an alert opened; ConcurrencyError if that alert already has one."""
        ...

    def failed_attempts(self, case_id: str) -> int:
        """How many attempts at the case's current step raised (0 when none did)."""
        ...

    def record_attempt(self, case_id: str, attempts: int, next_at: datetime, error: str, at: datetime) -> None:
        """Save the failed-attempt count of a case and when it may run again."""
        ...

    def clear_attempts(self, case_id: str) -> None: ...


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[UnitOfWork]: ...

    def deferred(self, now: datetime) -> set[str]:
        """Cases whose step raised and whose retry backoff has not run out at ``now``."""
        ...

    def failed_attempts(self, case_id: str) -> int:
        """How many times in a row the case's step has raised (0: none recorded), read outside a transaction."""
        ...

    def get_case(self, case_id: str) -> Case: ...

    def list_cases(self, statuses: frozenset[CaseStatus] | None = None, limit: int = 100) -> list[Case]: ...

    def approvals(self, case_id: str | None = None, status: ApprovalStatus | None = None) -> list[Approval]: ...

    def runs(self, case_id: str) -> list[ActionRun]: ...

    def alert_case(self, fingerprint: str) -> str | None:
        """The case the alert with this fingerprint opened (``UnitOfWork.link_alert``); None if it opened none."""
        ...

    def get_run(self, key: str) -> ActionRun:
        """The action run with this idempotency key; raise NotFoundError."""
        ...

    def claim_lease(self, case_id: str, owner: str, now: datetime, seconds: float) -> bool:
        """Take or renew the case's lease unless another owner holds an unexpired one."""
        ...

    def release_lease(self, case_id: str, owner: str) -> None: ...

    def claim_cases(
        self,
        owner: str,
        now: datetime,
        seconds: float,
        limit: int,
        *,
        ready: frozenset[CaseStatus],
        timed: frozenset[CaseStatus],
    ) -> list[str]:
        """Lease up to ``limit`` queued cases (in ``ready``, or in ``timed`` with their ``wake_at`` come; no
        unexpired lease, no retry backoff running) to ``owner``, oldest first, none to two callers at once."""
        ...

    def audit(self, case_id: str | None = None, after_seq: int = 0) -> Iterator[AuditEntry]: ...

    def audit_of_kind(self, kind: AuditKind, since: datetime) -> Iterator[AuditEntry]:
        """Entries of one kind written at or after ``since``, in seq order."""
        ...

    def verify_audit(self, checkpoints: Mapping[int, str] | None = None) -> VerifyReport:
        """Walk the chain; ``checkpoints`` (seq → published hash) catch a chain rewritten with its head."""
        ...

    def audit_head(self) -> tuple[int, str]: ...

    def claim_fire(self, job: str, fire_at: datetime, owner: str, now: datetime) -> bool:
        """Claim one scheduled firing; exactly one caller across replicas gets True."""
        ...


class StateBlobs(Protocol):
    """Named JSON documents kept in the store, for adapters (like the sandbox) that persist their own state."""

    def get_blob(self, name: str) -> str | None: ...

    def put_blob(self, name: str, text: str) -> None: ...
