"""What the surfaces (the console, Slack, Teams, the webhooks) are handed besides the front desk: the figures
they show, read only, and the door CI/CD's change events come in by. The composition root builds both; a
surface never holds the store or the runtime."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.case import Case
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.ports.estate import ChangeReader


class Tally(Protocol):
    """Metric rollups summed: per (name, key), a total and a count."""

    def count(self, name: str, key: str = "") -> int: ...

    def total(self, name: str, key: str = "") -> float: ...

    def mean(self, name: str, key: str = "") -> float | None:
        """total / count, or None when nothing was counted."""
        ...

    def keys(self, name: str) -> list[str]:
        """The keys of ``name`` with a nonzero count, sorted."""
        ...


class Reporting(ChangeReader, Protocol):
    """The reads behind the dashboard, /metrics, the weekly report, chat status replies and the change list (the
    change events, read as ``ChangeReader`` reads them). Nothing here writes."""

    def cases_opened(self, start: datetime, end: datetime) -> list[Case]:
        """Cases opened in [start, end), oldest first."""
        ...

    def approvals(self, case_id: str | None = None, status: ApprovalStatus | None = None) -> list[Approval]: ...

    def audit_of_kind(self, kind: AuditKind, since: datetime) -> Iterator[AuditEntry]:
        """Entries of one kind written at or after ``since``, in seq order."""
        ...

    def metric_figures(self, since: datetime) -> tuple[Tally, Tally]:
        """The rollups all-time, and summed over the cases opened from ``since``'s UTC day on."""
        ...

    def outbox_counts(self) -> dict[str, dict[str, int]]:
        """Outbox rows (ticket writes and pages) per system and state."""
        ...


class ChangeIntake(Protocol):
    """Change events in from CI/CD: the service named is checked against the estate, the event is stored once
    (by its id) with no secret in it, and audited in the transaction that stores it."""

    def now(self) -> datetime:
        """The time an event without one happened at (when it arrived)."""
        ...

    def service(self, name: str) -> str:
        """The estate's name of the service ``name`` names (itself or an alias); UnknownServiceError when none,
        its message naming the services known."""
        ...

    def record(self, event: ChangeEvent, actor: str) -> tuple[ChangeEvent, bool]:
        """Store ``event`` (scrubbed) unless its id is known; the stored event and whether this call created it.
        ``actor`` is who the audit entry names (the door it came by)."""
        ...
