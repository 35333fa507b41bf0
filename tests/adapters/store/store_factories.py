"""Builders for the store tests' cases, approvals, runs and audit drafts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from typing import TypeVar

from sqlalchemy import Engine, text

from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditDraft, AuditEntry, AuditKind
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.finding import Culprit, Evidence, Finding, FindingKind
from actiondesk.core.plan import ActionCall, Plan, PlanStep
from actiondesk.core.ports import Store
from actiondesk.core.runs import ActionRun

T = TypeVar("T")

T0 = datetime(2026, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
CEST = timezone(timedelta(hours=2))


def a_case(case_id: str = "case-1", *, at: datetime = T0, **changes: object) -> Case:
    case = Case(
        id=case_id,
        kind=CaseKind.INCIDENT,
        title="payment-gateway 5xx",
        text="the payment gateway is throwing 500s",
        reporter="jane",
        created_at=at,
        updated_at=at,
    )
    return case.model_copy(update=changes)


def a_finding() -> Finding:
    return Finding(
        kind=FindingKind.BAD_DEPLOY,
        service="payment-gateway",
        summary="5xx began 2 minutes after v2.4.1",
        confidence=0.92,
        abstained=False,
        culprit=Culprit(
            service="payment-gateway",
            version="v2.4.1",
            commit="abc123",
            deployed_at=datetime(2026, 5, 1, 13, 58, tzinfo=CEST),
            previous_version="v2.4.0",
            previous_commit="9f8e7d",
        ),
        onset=T0,
        baseline=0.001,
        peak=0.31,
        evidence=(Evidence(source="get_error_rate", summary="31% at peak", data={"peak": 0.31, "n": [1, 2]}),),
    )


def a_plan() -> Plan:
    call = ActionCall(action="rollback_deployment", params={"service": "payment-gateway", "to": "v2.4.0"})
    step = PlanStep(index=0, call=call, rationale="the 5xx onset follows the deploy")
    return Plan(runbook="bad_deploy", goal="restore payment-gateway", steps=(step,))


def an_approval(approval_id: str = "appr-1", case_id: str = "case-1") -> Approval:
    return Approval(
        id=approval_id,
        case_id=case_id,
        step_index=0,
        call=ActionCall(action="rollback_deployment", params={"service": "payment-gateway"}),
        target="payment-gateway",
        group="sre",
        quorum=1,
        production=True,
        requested_by="actiondesk",
        proposed_by="resolution",
        reasons=("production change",),
        policy_ids=("prod-needs-approval",),
        created_at=T0,
        expires_at=T0 + timedelta(hours=1),
    )


def a_run(key: str = "run-1", case_id: str | None = "case-1", **params: object) -> ActionRun:
    return ActionRun(key=key, case_id=case_id, action="rollback_deployment", params=dict(params), started_at=T0)


def a_draft(n: int = 0, case_id: str | None = None, **payload: object) -> AuditDraft:
    return AuditDraft(
        kind=AuditKind.MESSAGE,
        case_id=case_id,
        actor="jane",
        at=T0 + timedelta(seconds=n),
        payload={"n": n, **payload},
    )


def append_many(store: Store, count: int, case_id: str | None = None) -> list[AuditEntry]:
    with store.transaction() as uow:
        return [uow.append_audit(a_draft(n, case_id)) for n in range(count)]


def race(*calls: Callable[[], T]) -> list[T]:
    """Run ``calls`` on threads of their own, released together; their results in order."""
    start = threading.Barrier(len(calls))

    def released(call: Callable[[], T]) -> T:
        start.wait(timeout=10)
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(released, calls))


def tamper(engine: Engine, *statements: str, **params: object) -> None:
    """Run ``statements`` with PostgreSQL's append-only trigger switched off, as a table owner could."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgres:
            connection.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
        for statement in statements:
            connection.execute(text(statement), params)
        if postgres:
            connection.execute(text("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only"))
