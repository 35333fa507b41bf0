"""The circuit breaker: the same action on the same target more than X times in Y minutes without the observed
state changing, or two actions undoing each other, freezes automation for that target, escalates the case and
says so in the thread."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from actiondesk.agents.breaker import CircuitBreaker
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus
from actiondesk.core.governance import Outcome
from actiondesk.core.plan import ActionCall, StepStatus

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk

RESTART = ActionCall(action="rollback_deployment", params={"service": "search", "to_version": "v1.8.2"})


def breaker(desk: Desk, **kwargs: object) -> CircuitBreaker:
    return CircuitBreaker(desk.store, desk.clock, **kwargs)  # type: ignore[arg-type]


def test_more_than_x_same_actions_without_a_state_change_open_it(desk: Desk) -> None:
    b = breaker(desk, max_repeats=3, window_minutes=10)
    now = desk.clock.now()
    for minute in range(3):
        assert not b.check(RESTART, "search", "fp-1", now + timedelta(minutes=minute)).open
        b.record(RESTART, "search", "fp-1", None, now + timedelta(minutes=minute), "C-1")
    verdict = b.check(RESTART, "search", "fp-1", now + timedelta(minutes=3))
    assert verdict.open
    assert verdict.rule == "breaker.repeat"
    assert "3 times" in verdict.reason
    assert not b.check(RESTART, "search", "fp-2", now + timedelta(minutes=3)).open, "the state changed"
    other = ActionCall(action="rollback_deployment", params={"service": "search", "to_version": "v1.7.0"})
    assert not b.check(other, "search", "fp-1", now + timedelta(minutes=3)).open, "a different call"
    assert not b.check(RESTART, "search", "fp-1", now + timedelta(minutes=10, seconds=1)).open, "outside Y minutes"


def test_x_and_y_are_configurable(desk: Desk) -> None:
    b = breaker(desk, max_repeats=1, window_minutes=2)
    now = desk.clock.now()
    b.record(RESTART, "search", "fp", None, now, None)
    assert b.check(RESTART, "search", "fp", now + timedelta(minutes=1)).open
    assert not b.check(RESTART, "search", "fp", now + timedelta(minutes=3)).open


def test_an_action_undoing_a_recent_one_opens_it_unless_a_person_asked_for_it(desk: Desk) -> None:
    b = breaker(desk)
    now = desk.clock.now()
    undo = ActionCall(
        action="rollback_deployment",
        params={"service": "search", "to_version": "v1.9.0", "from_version": "v1.8.2", "reason": "undo"},
    )
    b.record(RESTART, "search", "fp", undo, now, "C-1")
    proposed = ActionCall(
        action="rollback_deployment",
        params={"service": "search", "to_version": "v1.9.0", "from_version": "v1.8.2", "reason": "planner text"},
    )
    verdict = b.check(proposed, "search", "fp", now + timedelta(minutes=2))
    assert verdict.open
    assert verdict.rule == "breaker.undo"
    assert not b.check(proposed, "search", "fp", now + timedelta(minutes=2), undo_rule=False).open


def oscillate(desk: Desk):
    """search breaks, is rolled back alone; the rollback breaks too and the runbook proposes undoing it."""
    start = desk.clock.now()  # the timeline of scenarios/breaker-oscillation.yaml
    desk.deploy("search", "v1.9.0", "3b7e1c4")
    desk.clock.set(start + timedelta(seconds=90))
    desk.fault("search", 0.25)
    desk.clock.set(start + timedelta(seconds=180))
    first = desk.report("search is returning errors")
    assert first.status is CaseStatus.RESOLVED
    desk.clock.set(start + timedelta(seconds=600))
    desk.fault("search", 0.3)
    desk.clock.set(start + timedelta(seconds=720))
    return first, desk.report("search is failing again with errors")


def test_two_oscillating_rollbacks_trip_it_escalate_and_say_so(make_desk: MakeDesk) -> None:
    desk = make_desk(autonomy={"tier:3": 3})
    _, second = oscillate(desk)

    assert second.status is CaseStatus.ESCALATED
    assert second.plan is not None
    (step,) = second.plan.steps
    assert step.status is StepStatus.REFUSED
    assert step.decision is not None
    assert step.decision.outcome is Outcome.DENY
    assert {"breaker.open", "breaker.undo"} <= set(step.decision.policy_ids)
    assert desk.rollbacks("search") == ["v1.8.2"], "only the first rollback ran"
    told = [str(e.payload.get("text")) for e in desk.audit(second.id) if e.kind is AuditKind.MESSAGE]
    assert any("circuit breaker open on search" in t for t in told)
    assert AuditKind.CASE_ESCALATED in desk.kinds(second.id)

    # automation for search stays frozen, whatever the call, until the cooldown ends or a person resets it
    tripped = desk.runtime.governance.breaker.tripped()
    assert "search" in tripped
    any_call = ActionCall(action="rollback_deployment", params={"service": "search", "to_version": "v1.0.0"})
    frozen = desk.runtime.governance.decide(any_call, desk.clock.now())
    assert frozen.outcome is Outcome.DENY
    assert "breaker.tripped" in frozen.policy_ids

    assert desk.runtime.governance.breaker.reset("search", by="bob")
    assert desk.runtime.governance.decide(any_call, desk.clock.now()).outcome is Outcome.ALLOW
    reset = [e for e in desk.store.audit() if e.kind is AuditKind.SETTING_CHANGED]
    assert reset[-1].actor == "bob"
    assert reset[-1].payload["setting"] == "circuit_breaker"


def test_a_tripped_breaker_closes_after_its_cooldown(make_desk: MakeDesk) -> None:
    desk = make_desk(autonomy={"tier:3": 3}, breaker_cooldown_minutes=30)
    oscillate(desk)
    any_call = ActionCall(action="rollback_deployment", params={"service": "search", "to_version": "v1.0.0"})
    assert desk.runtime.governance.decide(any_call, desk.clock.now()).outcome is Outcome.DENY
    desk.wait(31 * 60)
    assert desk.runtime.governance.decide(any_call, desk.clock.now()).outcome is Outcome.ALLOW


def test_a_read_only_breaker_never_trips(make_desk: MakeDesk) -> None:
    desk = make_desk(autonomy={"tier:3": 3})
    desk.runtime.governance.breaker.read_only = True
    oscillate(desk)
    assert desk.runtime.governance.breaker.tripped() == {}
