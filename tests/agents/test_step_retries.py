"""A step that raises is retried with backoff a bounded number of times, then the case goes to a human with the
reason; the failed steps count toward the step bound. Found under attack: an Alertmanager alert whose service
label the estate does not know left its case in `triaging` for ever, retried every 15 s with a traceback (triage
now ignores a label it does not know and asks instead); here the raising step is a metrics backend that fails
with an error no adapter translated, the kind of defect the driver must survive."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import event

from actiondesk.adapters.sandbox import SandboxEstate
from actiondesk.agents.retries import RetryPolicy, StepRetries
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.estate import Series

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk


class BrokenMetrics(SandboxEstate):
    """The sandbox, but its error-rate reads fail with a raw error, as a buggy metrics adapter's would."""

    def error_rate(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        raise RuntimeError(f"metrics backend timed out reading {service}")


def _alert_case(desk: Desk) -> Case:
    return desk.runtime.loop.open_case(
        "[alert HighErrorRate firing] payment-gateway 5xx above 5%",
        "alertmanager",
        surface="alert",
        service="payment-gateway",
        kind=CaseKind.INCIDENT,
    )


def test_an_alert_for_an_unknown_service_is_escalated_not_stuck(make_desk: MakeDesk) -> None:
    desk = make_desk()
    case = desk.runtime.loop.open_case(
        "[alert HighErrorRate firing] flux-capacitor 5xx above 5%",
        "alertmanager",
        surface="alert",
        service="flux-capacitor",
        kind=CaseKind.INCIDENT,
    )
    assert desk.runtime.loop.run(case.id).status is CaseStatus.ESCALATED  # nobody can answer Alertmanager


def test_the_loop_itself_raises_when_a_step_raises(make_desk: MakeDesk) -> None:
    desk = make_desk(estate_type=BrokenMetrics)
    case = _alert_case(desk)
    with pytest.raises(RuntimeError, match="metrics backend timed out"):
        desk.runtime.loop.run(case.id)
    assert desk.store.get_case(case.id).status is CaseStatus.TRIAGING  # stuck there, without a driver


def test_a_raising_step_is_retried_with_backoff_then_escalated_with_the_reason(make_desk: MakeDesk) -> None:
    desk = make_desk(estate_type=BrokenMetrics)
    case = _alert_case(desk)
    retries = StepRetries(desk.runtime.loop, RetryPolicy(attempts=4, base_seconds=2.0))

    waits = []
    for _ in range(4):
        waits.append(retries.run(case.id))
        if waits[-1] is not None:
            assert desk.store.deferred(desk.clock.now()) == {case.id}  # the sweep leaves it alone meanwhile
            desk.wait(waits[-1])
    assert waits == [2.0, 4.0, 8.0, None]

    stored = desk.store.get_case(case.id)
    assert stored.status is CaseStatus.ESCALATED
    (escalation,) = [e for e in desk.audit(case.id) if e.kind is AuditKind.CASE_ESCALATED]
    reason = str(escalation.payload["reason"])
    assert "triaging step failed 4 times" in reason
    assert "RuntimeError" in reason
    assert "metrics backend timed out reading payment-gateway" in reason
    assert stored.steps_taken == 1 + 4  # open → triaging, then four failed triage steps, all counted
    assert desk.store.deferred(desk.clock.now()) == set()
    assert retries.run(case.id) is None  # a finished case: nothing more


def test_failed_steps_count_toward_the_step_bound(make_desk: MakeDesk) -> None:
    desk = make_desk(estate_type=BrokenMetrics, max_steps=3)
    case = _alert_case(desk)
    retries = StepRetries(desk.runtime.loop, RetryPolicy(attempts=10, base_seconds=1.0))
    waits = [retries.run(case.id), retries.run(case.id)]
    assert waits == [1.0, None]  # the second failure is the third step: the bound, long before 10 attempts
    stored = desk.store.get_case(case.id)
    assert stored.status is CaseStatus.ESCALATED
    assert stored.steps_taken == 3
    reasons = [str(e.payload["reason"]) for e in desk.audit(case.id) if e.kind is AuditKind.CASE_ESCALATED]
    assert len(reasons) == 1
    assert "step bound reached (3 steps)" in reasons[0]


def test_a_run_that_gets_through_clears_the_count(make_desk: MakeDesk) -> None:
    desk = make_desk()
    desk.bad_deploy()
    case = desk.runtime.loop.open_case("payment gateway is throwing 500s", "alice")
    retries = StepRetries(desk.runtime.loop, RetryPolicy(attempts=3, base_seconds=1.0))
    with desk.store.transaction() as uow:
        uow.record_attempt(case.id, 2, desk.clock.now(), "an earlier failure", desk.clock.now())
    assert retries.run(case.id) is None
    assert desk.store.get_case(case.id).status is CaseStatus.AWAITING_APPROVAL
    with desk.store.transaction() as uow:
        assert uow.failed_attempts(case.id) == 0


def test_a_run_with_no_failures_recorded_writes_nothing_to_clear(make_desk: MakeDesk) -> None:
    """Most runs have no failed attempts: the count is read, not deleted in a write transaction of its own."""
    desk = make_desk()
    desk.bad_deploy()
    case = desk.runtime.loop.open_case("payment gateway is throwing 500s", "alice")
    retries = StepRetries(desk.runtime.loop, RetryPolicy(attempts=3, base_seconds=1.0))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    engine = desk.store._engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert retries.run(case.id) is None
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert desk.store.get_case(case.id).status is CaseStatus.AWAITING_APPROVAL
    assert any("case_attempts" in s for s in statements)  # read
    assert not [s for s in statements if s.startswith("DELETE") and "case_attempts" in s]
