"""SqlStore: the Store and StateBlobs ports over one SQLAlchemy engine (SQLite or PostgreSQL).

Thread-safe: the engine is shared, every call or transaction takes its own pooled connection.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, exists, func, or_, select, update

from actiondesk.adapters.store import blobs, ledger, rollup, unit
from actiondesk.adapters.store.access import SqlAccess
from actiondesk.adapters.store.changes import SqlChangeLog
from actiondesk.adapters.store.dialect import insert_ignoring_conflict, upsert_target
from actiondesk.adapters.store.engine import reading, reading_once, writing
from actiondesk.adapters.store.errors import translated
from actiondesk.adapters.store.mapping import approval_from, case_from, run_from
from actiondesk.adapters.store.migrate import revision_of
from actiondesk.adapters.store.outbox import SqlOutbox
from actiondesk.adapters.store.tables import (
    action_runs,
    alert_cases,
    approvals,
    case_attempts,
    cases,
    job_fires,
    metric_rollups,
    state_blobs,
)
from actiondesk.adapters.store.unit import SqlUnitOfWork
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditEntry, AuditKind, VerifyReport
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.errors import CaseNotFoundError, NotFoundError
from actiondesk.core.runs import ActionRun


class SqlStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def schema_revision(self) -> str | None:
        """The alembic revision the database is at (None: never migrated)."""
        return revision_of(self._engine)

    @property
    def outbox(self) -> SqlOutbox:
        """The ticket-mirror outbox on the same database."""
        return SqlOutbox(self._engine)

    def outbox_counts(self) -> dict[str, dict[str, int]]:
        """Outbox rows per system and state (the Reporting port's)."""
        return self.outbox.counts()

    @property
    def access(self) -> SqlAccess:
        """Console sessions, pending sign-ins and API tokens on the same database."""
        return SqlAccess(self._engine)

    def record_change(
        self, event: ChangeEvent, *, actor: str | None = None, received_at: datetime | None = None
    ) -> tuple[ChangeEvent, bool]:
        """The ChangeLog port: store ``event`` unless its id is known (a resend, or a racing one, is a no-op) and
        audit it in the same transaction; return the stored event and whether this call created it."""
        return SqlChangeLog(self._engine).record_change(event, actor=actor, received_at=received_at)

    def recorded_changes(
        self,
        *,
        service: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[ChangeEvent]:
        """Oldest first; the newest ``limit`` when there are more. ``start`` inclusive, ``end`` exclusive."""
        return SqlChangeLog(self._engine).recorded_changes(service=service, start=start, end=end, limit=limit)

    def change(self, change_id: str) -> ChangeEvent | None:
        """The stored change with this id, if any."""
        return SqlChangeLog(self._engine).change(change_id)

    @contextmanager
    def transaction(self) -> Iterator[SqlUnitOfWork]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with translated(), writing(self._engine) as connection:
            uow = SqlUnitOfWork(connection)
            yield uow
            uow.close()

    def get_case(self, case_id: str) -> Case:
        with translated(), reading(self._engine) as connection:
            row = connection.execute(select(cases).where(cases.c.id == case_id)).mappings().one_or_none()
        if row is None:
            raise CaseNotFoundError(f"no case {case_id}")
        return case_from(row)

    def list_cases(self, statuses: frozenset[CaseStatus] | None = None, limit: int = 100) -> list[Case]:
        """Newest first."""
        query = select(cases).order_by(cases.c.created_at.desc(), cases.c.id.desc()).limit(limit)
        if statuses is not None:
            query = query.where(cases.c.status.in_(sorted(s.value for s in statuses)))
        with translated(), reading(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [case_from(row) for row in rows]

    def cases_opened(self, start: datetime, end: datetime) -> list[Case]:
        """Cases opened in [start, end), oldest first."""
        query = (
            select(cases)
            .where(cases.c.created_at >= start, cases.c.created_at < end)
            .order_by(cases.c.created_at, cases.c.id)
        )
        with translated(), reading(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [case_from(row) for row in rows]

    def approvals(self, case_id: str | None = None, status: ApprovalStatus | None = None) -> list[Approval]:
        """Oldest first."""
        query = select(approvals).order_by(approvals.c.created_at, approvals.c.id)
        if case_id is not None:
            query = query.where(approvals.c.case_id == case_id)
        if status is not None:
            query = query.where(approvals.c.status == status.value)
        with translated(), reading(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [approval_from(row) for row in rows]

    def runs(self, case_id: str) -> list[ActionRun]:
        """Oldest first."""
        query = (
            select(action_runs)
            .where(action_runs.c.case_id == case_id)
            .order_by(action_runs.c.started_at, action_runs.c.key)
        )
        with translated(), reading(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [run_from(row) for row in rows]

    def get_run(self, key: str) -> ActionRun:
        with translated(), reading(self._engine) as connection:
            row = connection.execute(select(action_runs).where(action_runs.c.key == key)).mappings().one_or_none()
        if row is None:
            raise NotFoundError(f"no action run {key}")
        return run_from(row)

    def claim_lease(self, case_id: str, owner: str, now: datetime, seconds: float) -> bool:
        """Take or renew the lease unless another owner holds an unexpired one. Leaves ``version`` alone."""
        free = or_(cases.c.lease_owner.is_(None), cases.c.lease_owner == owner, cases.c.lease_until < now)
        query = (
            update(cases)
            .where(and_(cases.c.id == case_id, free))
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
        )
        with translated(), writing(self._engine) as connection:
            if connection.execute(query).rowcount == 1:
                return True
            exists = connection.execute(select(cases.c.id).where(cases.c.id == case_id)).first()
        if exists is None:
            raise CaseNotFoundError(f"no case {case_id}")
        return False

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
        """Lease up to ``limit`` queued cases to ``owner``, oldest first; their ids.

        Queued: in a ``ready`` status, or in a ``timed`` one whose ``wake_at`` has come; no unexpired lease
        (another replica's work, or a crashed one's until it runs out); no step backoff still running
        (``case_attempts``). One statement: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)`` on
        PostgreSQL, so replicas claiming at once skip each other's rows instead of waiting or taking them twice;
        on SQLite the writer's ``BEGIN IMMEDIATE`` holds the one write lock while the same statement picks and
        leases, so two processes can never pick the same case either.
        """
        if limit <= 0:
            return []
        c = cases.c
        free = or_(c.lease_owner.is_(None), c.lease_until < now)
        backing_off = exists().where(case_attempts.c.case_id == c.id, case_attempts.c.next_attempt_at > now)
        due = or_(
            c.status.in_(sorted(s.value for s in ready)),
            and_(c.status.in_(sorted(s.value for s in timed)), c.wake_at <= now),
        )
        with translated(), writing(self._engine) as connection:
            pick = select(c.id).where(due, free, ~backing_off).order_by(c.created_at, c.id).limit(limit)
            if connection.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True, of=cases)
            query = (
                update(cases)
                .where(c.id.in_(pick.scalar_subquery()), free)
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
                .returning(c.id, c.created_at)
            )
            rows = connection.execute(query).all()
        return [str(row.id) for row in sorted(rows, key=lambda row: (row.created_at, row.id))]

    def release_lease(self, case_id: str, owner: str) -> None:
        query = (
            update(cases)
            .where(cases.c.id == case_id, cases.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
        with translated(), writing(self._engine) as connection:
            connection.execute(query)

    def audit_of_kind(self, kind: AuditKind, since: datetime) -> Iterator[AuditEntry]:
        """Entries of one kind written at or after ``since``, in seq order."""
        return ledger.entries_of_kind(self._engine, kind.value, since)

    def audit_counts(self, kinds: frozenset[AuditKind]) -> dict[AuditKind, int]:
        """Entries of each kind in the whole chain."""
        counts = ledger.kind_counts(self._engine, (k.value for k in kinds))
        return {AuditKind(kind): count for kind, count in counts.items()}

    def audit(self, case_id: str | None = None, after_seq: int = 0) -> Iterator[AuditEntry]:
        """Entries in seq order, streamed in batches."""
        return ledger.entries(self._engine, case_id, after_seq)

    def verify_audit(self, checkpoints: Mapping[int, str] | None = None) -> VerifyReport:
        return ledger.verify(self._engine, checkpoints)

    def audit_head(self) -> tuple[int, str]:
        """(seq, hash) of the newest entry, as recorded in the head row."""
        return ledger.head(self._engine)

    def metric_figures(self, since: datetime) -> tuple[rollup.Figures, rollup.Figures]:
        """The rollups all-time, and summed over the cases opened from ``since``'s UTC day on: two reads whose
        cost depends on the days and keys, not on the cases stored."""
        r = metric_rollups.c
        window = (
            select(r.name, r.key, func.sum(r.total), func.sum(r.count))
            .where(r.day >= rollup.day_of(since), r.day != rollup.ALL_TIME)
            .group_by(r.name, r.key)
        )
        with translated(), reading(self._engine) as connection:
            everything = connection.execute(
                select(r.name, r.key, r.total, r.count).where(r.day == rollup.ALL_TIME)
            ).all()
            recent = connection.execute(window).all()
        return rollup.figures(tuple(row) for row in everything), rollup.figures(tuple(row) for row in recent)

    def claim_fire(self, job: str, fire_at: datetime, owner: str, now: datetime) -> bool:
        """Exactly one caller across replicas gets True for each (job, fire_at)."""
        with translated(), writing(self._engine) as connection:
            query = (
                insert_ignoring_conflict(connection, job_fires, ["job", "fire_at"])
                .values(job=job, fire_at=fire_at, owner=owner, claimed_at=now)
                .returning(job_fires.c.job)
            )
            return connection.execute(query).first() is not None

    def deferred(self, now: datetime) -> set[str]:
        """Cases whose last attempt raised and whose backoff has not run out yet."""
        query = select(case_attempts.c.case_id).where(case_attempts.c.next_attempt_at > now)
        with translated(), reading(self._engine) as connection:
            return set(connection.execute(query).scalars())

    def failed_attempts(self, case_id: str) -> int:
        """How many times in a row the case's step has raised (0: none recorded). One statement (reading_once):
        every case run that gets through asks."""
        with translated(), reading_once(self._engine) as connection:
            return unit.failed_attempts(connection, case_id)

    def alert_case(self, fingerprint: str) -> str | None:
        """The case the alert with this fingerprint opened, if any."""
        query = select(alert_cases.c.case_id).where(alert_cases.c.fingerprint == fingerprint)
        with translated(), reading(self._engine) as connection:
            return connection.execute(query).scalar_one_or_none()

    def blob_version(self, name: str) -> int | None:
        """The version of a blob changed through ``locked_blob`` (None: no such blob)."""
        return blobs.version(self._engine, name)

    def versioned_blob(self, name: str) -> tuple[int, str] | None:
        return blobs.read(self._engine, name)

    def locked_blob(self, name: str) -> AbstractContextManager[blobs.LockedBlob]:
        """Hold the blob's row for one transaction: re-read it, change it, write ``version + 1``."""
        return blobs.locked(self._engine, name)

    def get_blob(self, name: str) -> str | None:
        query = select(state_blobs.c.text).where(state_blobs.c.name == name)
        with translated(), reading(self._engine) as connection:
            return connection.execute(query).scalar_one_or_none()

    def put_blob(self, name: str, text: str) -> None:
        now = datetime.now(UTC)
        with translated(), writing(self._engine) as connection:
            query = upsert_target(connection, state_blobs).values(name=name, text=text, updated_at=now)
            connection.execute(
                query.on_conflict_do_update(
                    index_elements=["name"], set_={"text": query.excluded.text, "updated_at": now}
                )
            )
