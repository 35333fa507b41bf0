"""Narrow views of the store for the surfaces: the Reporting port (reads only) and the StateBlobs port (the
chat surfaces' thread bookkeeping). A surface is handed one of these, never the SqlStore itself, so the only
things it can do to the database are the ones its port names."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from actiondesk.adapters.store.rollup import Figures
from actiondesk.adapters.store.store import SqlStore
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.case import Case
from actiondesk.core.catalog import ChangeEvent


class StoreReports:
    """The Reporting port over the store: what the dashboard, /metrics, reports and status replies read."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def cases_opened(self, start: datetime, end: datetime) -> list[Case]:
        return self._store.cases_opened(start, end)

    def approvals(self, case_id: str | None = None, status: ApprovalStatus | None = None) -> list[Approval]:
        return self._store.approvals(case_id, status)

    def audit_of_kind(self, kind: AuditKind, since: datetime) -> Iterator[AuditEntry]:
        return self._store.audit_of_kind(kind, since)

    def metric_figures(self, since: datetime) -> tuple[Figures, Figures]:
        return self._store.metric_figures(since)

    def outbox_counts(self) -> dict[str, dict[str, int]]:
        return self._store.outbox_counts()

    def recorded_changes(
        self,
        *,
        service: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[ChangeEvent]:
        return self._store.recorded_changes(service=service, start=start, end=end, limit=limit)


class StoreBlobs:
    """The StateBlobs port over the store: named JSON documents, and nothing else of the database."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store

    def get_blob(self, name: str) -> str | None:
        return self._store.get_blob(name)

    def put_blob(self, name: str, text: str) -> None:
        self._store.put_blob(name, text)
