"""Each metric computed from recorded cases with known answers, edge cases included."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from actiondesk.agents.metrics import CaseFacts, compute, summarise
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.governance import AutonomyLevel, Decision, Outcome
from actiondesk.core.plan import ActionCall, Plan, PlanStep, StepStatus

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
START, END = T0, T0 + timedelta(days=1)
CALL = ActionCall(action="rollback_deployment", params={"service": "payment-gateway", "to_version": "v2.4.1"})


def plan(runbook: str, outcome: Outcome, level: AutonomyLevel) -> Plan:
    decision = Decision(outcome=outcome, policy_ids=("x",), reasons=("x",), autonomy_level=level)
    step = PlanStep(index=0, call=CALL, rationale="r", status=StepStatus.SUCCEEDED, decision=decision)
    return Plan(runbook=runbook, goal="g", steps=(step,))


def case(
    n: int,
    status: CaseStatus,
    minutes: float | None,
    *,
    runbook: str = "rollback-bad-deploy",
    outcome: Outcome = Outcome.APPROVE,
    level: AutonomyLevel = AutonomyLevel.APPROVE,
    reopened: int = 0,
    llm_calls: int = 0,
    tokens: int = 0,
    cost: float = 0.0,
    service: str = "payment-gateway",
) -> Case:
    opened = T0 + timedelta(hours=n)
    return Case(
        id=f"C-{n}",
        kind=CaseKind.INCIDENT,
        status=status,
        title="t",
        text="t",
        reporter="alice",
        service=service,
        plan=plan(runbook, outcome, level),
        created_at=opened,
        updated_at=opened,
        resolved_at=opened + timedelta(minutes=minutes) if minutes is not None else None,
        reopened=reopened,
        llm_calls=llm_calls,
        tokens=tokens,
        cost_usd=cost,
    )


def approval(case_id: str, opened: datetime, wait_minutes: float) -> Approval:
    return Approval(
        id=f"A-{case_id}",
        case_id=case_id,
        step_index=0,
        call=CALL,
        target="payment-gateway",
        group="sre",
        production=True,
        status=ApprovalStatus.APPROVED,
        requested_by="alice",
        proposed_by="actiondesk",
        created_at=opened,
        expires_at=opened + timedelta(hours=1),
        decided_by="bob",
        decided_at=opened + timedelta(minutes=wait_minutes),
    )


@pytest.fixture
def facts() -> list[CaseFacts]:
    a = case(1, CaseStatus.RESOLVED, 10, llm_calls=2, tokens=1500, cost=0.03)  # approved after 4 min
    b = case(
        2,
        CaseStatus.RESOLVED,
        20,
        runbook="clear-full-log-volume",
        outcome=Outcome.ALLOW,
        level=AutonomyLevel.GUARDED,
        service="worker-1",
    )  # autonomous, no LLM call
    c = case(3, CaseStatus.RESOLVED, 30, reopened=1, cost=0.01)  # reopened once: resolved, but not first contact
    d = case(4, CaseStatus.ESCALATED, None, outcome=Outcome.SUGGEST, level=AutonomyLevel.SUGGEST)
    e = case(5, CaseStatus.AWAITING_APPROVAL, None)  # still open: not in FCR's denominator
    old = case(-30, CaseStatus.RESOLVED, 5)  # opened before the period
    return [
        CaseFacts(a, approvals=(approval("C-1", a.created_at + timedelta(minutes=1), 4),)),
        CaseFacts(b),
        CaseFacts(c, escalations=1),
        CaseFacts(d, escalations=1, breaker_trips=1),
        CaseFacts(e),
        CaseFacts(old),
    ]


def test_mttr_over_resolved_cases_of_the_period(facts):
    report = compute(facts, START, END)
    assert report.cases == 5
    assert report.resolved == 3
    assert report.mttr.mean == pytest.approx(20 * 60)  # (10 + 20 + 30) / 3 minutes
    assert report.mttr.p50 == pytest.approx(20 * 60)
    assert report.mttr_without_approval.mean == pytest.approx((6 + 20 + 30) / 3 * 60)  # minus the 4-minute wait


def test_mttr_per_pattern_and_per_service(facts):
    report = compute(facts, START, END)
    assert report.mttr_by_pattern["rollback-bad-deploy"].mean == pytest.approx(20 * 60)  # 10 and 30
    assert report.mttr_by_pattern["clear-full-log-volume"].mean == pytest.approx(20 * 60)
    assert report.mttr_by_service["worker-1"].count == 1


def test_first_contact_resolution_excludes_reopened_and_escalated_and_ignores_open(facts):
    report = compute(facts, START, END)
    assert report.fcr == pytest.approx(2 / 4)  # a and b of a, b, c, d (e is still open)


def test_cost_per_resolved_request_counts_tokens_and_infrastructure(facts):
    report = compute(facts, START, END, infra_cost_per_hour=0.5)
    assert report.token_cost_usd == pytest.approx(0.04)
    assert report.infrastructure_cost_usd == pytest.approx(12.0)  # 24 h at $0.50
    assert report.cost_per_resolved_usd == pytest.approx((0.04 + 12.0) / 3)
    by_pattern = report.cost_per_resolved_by_pattern
    assert by_pattern["clear-full-log-volume"] == pytest.approx(12.0 / 3)  # its share of infra, no tokens
    assert by_pattern["rollback-bad-deploy"] == pytest.approx((0.04 + 8.0) / 2)


def test_autonomy_mix_approval_wait_escalations_and_breaker(facts):
    report = compute(facts, START, END)
    assert report.outcomes == {"allow": 1, "approve": 3, "suggest": 1}
    assert report.autonomy_levels == {"approve": 3, "guarded": 1, "suggest": 1}
    assert report.approval_wait.mean == pytest.approx(4 * 60)
    assert report.escalated == 1
    assert report.breaker_trips == 1
    assert report.reopened == 1
    assert report.llm_calls == 2
    assert report.tokens == 1500


def test_an_empty_period_has_no_figures_rather_than_zeros():
    report = compute([], START, END)
    assert report.mttr.mean is None
    assert report.fcr is None
    assert report.cost_per_resolved_usd is None


def test_summaries():
    assert summarise([1.0, 2.0, 3.0, 4.0, 100.0]).p90 == 100.0
    assert summarise([]).count == 0


def test_escalations_by_owner_and_the_time_until_a_person_picked_up() -> None:
    a = case(1, CaseStatus.RESOLVED, 30)
    b = case(2, CaseStatus.ESCALATED, None)
    c = case(3, CaseStatus.ESCALATED, None, service="worker-1")
    old = case(-30, CaseStatus.ESCALATED, None)
    r = compute(
        [
            CaseFacts(a, escalations=1, hand_offs=(("payments", 120.0),)),
            CaseFacts(b, escalations=2, hand_offs=(("payments", 600.0), ("payments", None))),  # handed off twice
            CaseFacts(c, escalations=1, hand_offs=(("platform", 60.0),)),
            CaseFacts(old, escalations=1, hand_offs=(("payments", 1.0),)),  # opened before the period
        ],
        START,
        END,
    )
    assert r.escalations_by_owner == {"payments": 3, "platform": 1}
    assert r.waiting_for_pickup == {"payments": 1}
    assert (r.pickup.count, r.pickup.p50, r.pickup.p90) == (3, 120.0, 600.0)
    assert r.pickup_by_owner["payments"].count == 2
    assert r.pickup_by_owner["payments"].mean == 360.0
    assert r.pickup_by_owner["platform"].p50 == 60.0
