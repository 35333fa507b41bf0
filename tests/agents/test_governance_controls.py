"""Runtime controls: the kill switch, autonomy changes, chaos days and freezes set by people, persisted,
audited under the person's name, authorised through the directory, and read by governance on every decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from actiondesk.agents.controls import ControlError, Controls
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus
from actiondesk.core.errors import ConfigurationError, GovernanceError, NotAuthorizedError
from actiondesk.core.governance import Outcome
from actiondesk.core.plan import ActionCall, StepStatus

if TYPE_CHECKING:
    from conftest import Desk

ROLLBACK = ActionCall(action="rollback_deployment", params={"service": "search", "to_version": "v1.0.0"})


def settings_changes(desk: Desk) -> list:
    return [e for e in desk.store.audit() if e.kind is AuditKind.SETTING_CHANGED]


def test_kill_switch_turns_allow_into_suggest_and_is_audited(desk: Desk) -> None:
    gov = desk.runtime.governance
    now = desk.clock.now()
    assert gov.decide(ROLLBACK, now).outcome is Outcome.ALLOW  # staging, guarded

    state = desk.runtime.controls.set_kill_switch(True, by="bob", reason="incident bridge asked")
    assert state.kill_switch
    assert state.kill_reason == "incident bridge asked"
    decision = gov.decide(ROLLBACK, now)
    assert decision.outcome is Outcome.SUGGEST
    assert "kill_switch" in decision.policy_ids

    (entry,) = settings_changes(desk)
    assert entry.actor == "bob"
    assert entry.payload["setting"] == "kill_switch"
    assert entry.payload["on"] is True

    desk.runtime.controls.set_kill_switch(False, by="carol", reason="")
    assert gov.decide(ROLLBACK, now).outcome is Outcome.ALLOW


def test_kill_switch_stops_an_approved_action_that_is_queued(desk: Desk) -> None:
    desk.bad_deploy()
    case = desk.report()
    assert case.status is CaseStatus.AWAITING_APPROVAL
    (approval,) = desk.pending(case.id)
    desk.runtime.approvals.decide(approval.id, "bob", True)
    desk.runtime.controls.set_kill_switch(True, by="erin", reason="stop everything")

    case = desk.runtime.loop.run(case.id)
    assert case.status is CaseStatus.ESCALATED
    assert case.plan is not None
    assert case.plan.steps[0].status is StepStatus.REFUSED
    assert desk.rollbacks("payment-gateway") == []


def test_autonomy_change_applies_and_records_the_previous_level(desk: Desk) -> None:
    controls = desk.runtime.controls
    controls.set_autonomy("search", 0, by="bob")
    assert desk.runtime.governance.decide(ROLLBACK, desk.clock.now()).outcome is Outcome.SUGGEST
    controls.set_autonomy("search", 3, by="bob")
    assert controls.state().autonomy == {"search": 3}
    last = settings_changes(desk)[-1]
    assert last.payload == {"setting": "autonomy", "key": "search", "level": 3, "previous": 0}


def test_chaos_and_freeze_windows_through_controls(desk: Desk) -> None:
    controls = desk.runtime.controls
    now = desk.clock.now()
    controls.start_chaos("search", now + timedelta(hours=2), by="bob")
    assert desk.runtime.governance.decide(ROLLBACK, now).outcome is Outcome.SUGGEST
    controls.stop_chaos("search", by="bob")
    assert controls.state().chaos == ()

    pg = ActionCall(action="rollback_deployment", params={"service": "payment-gateway", "to_version": "v2.4.1"})
    controls.add_freeze("black-friday", now, now + timedelta(days=1), ("payment-gateway",), by="carol")
    decision = desk.runtime.governance.decide(pg, now)
    assert decision.outcome is Outcome.APPROVE
    assert decision.approver_group == "cab"
    controls.end_freeze("black-friday", by="carol")
    assert desk.runtime.governance.decide(pg, now).approver_group == "sre"
    assert [e.actor for e in settings_changes(desk)] == ["bob", "bob", "carol", "carol"]


def test_controls_persist_across_instances(desk: Desk) -> None:
    desk.runtime.controls.set_kill_switch(True, by="bob", reason="drill")
    other = Controls(desk.store, desk.clock, "actiondesk")
    assert other.state().kill_switch


@pytest.mark.parametrize("person", ["alice", "mallory", "actiondesk"])
def test_only_sre_or_cab_members_change_controls(desk: Desk, person: str) -> None:
    with pytest.raises(NotAuthorizedError):
        desk.runtime.controls.set_kill_switch(True, by=person, reason="x")
    assert not desk.runtime.controls.state().kill_switch
    assert settings_changes(desk) == []


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("set_autonomy", ("search", 4)),
        ("set_autonomy", ("search", -1)),
        ("set_autonomy", ("search", True)),
        ("set_autonomy", ("tier:x", 1)),
        ("set_autonomy", ("", 1)),
        ("set_autonomy", ("bad name!", 1)),
        ("start_chaos", ("search", datetime(2000, 1, 1, tzinfo=UTC))),
        ("start_chaos", ("search", datetime(2099, 1, 1))),  # naive
        ("stop_chaos", ("search",)),
        ("end_freeze", ("nothing",)),
        ("add_freeze", ("f", datetime(2099, 1, 2, tzinfo=UTC), datetime(2099, 1, 1, tzinfo=UTC), ())),
        ("set_kill_switch", (True,)),  # no reason
    ],
)
def test_bad_input_raises_a_governance_error_not_a_value_error(desk: Desk, call: str, args: tuple) -> None:
    method = getattr(desk.runtime.controls, call)
    kwargs = {"by": "bob", "reason": ""} if call == "set_kill_switch" else {"by": "bob"}
    with pytest.raises(ControlError) as raised:
        method(*args, **kwargs)
    assert isinstance(raised.value, GovernanceError)
    assert not isinstance(raised.value, ConfigurationError)
    assert settings_changes(desk) == []


def test_the_kill_switch_stops_every_queued_action(make_desk) -> None:
    """TESTPLAN 22: five approved actions wait for a worker; the kill switch goes on; none of them runs."""
    desk = make_desk()
    desk.bad_deploy()
    cases = []
    for i in range(5):
        case = desk.runtime.loop.open_case(f"payment gateway is throwing 500s ({i})", "alice")
        case = desk.runtime.loop.run(case.id)
        (approval,) = desk.pending(case.id)
        desk.runtime.approvals.decide(approval.id, "bob", True)
        cases.append(case.id)
    desk.runtime.controls.set_kill_switch(True, by="carol", reason="agents misbehaving")
    for case_id in cases:
        assert desk.runtime.loop.run(case_id).status is CaseStatus.ESCALATED
    assert desk.rollbacks("payment-gateway") == []
    assert all(desk.store.runs(c) == [] for c in cases)


def test_a_chaos_day_case_is_tagged(make_desk) -> None:
    desk = make_desk(autonomy={"tier:3": 3})
    desk.runtime.controls.start_chaos("payment-gateway", desk.clock.now() + timedelta(hours=8), by="bob")
    desk.bad_deploy()
    case = desk.report()
    assert case.status is CaseStatus.ESCALATED
    assert "chaos-day" in case.tags
    assert case.plan is not None
    assert case.plan.steps[0].status is StepStatus.SUGGESTED


def test_autonomy_per_risk_is_more_specific_than_the_plain_key(desk: Desk) -> None:
    controls = desk.runtime.controls
    controls.set_autonomy("search", 3, by="bob")
    controls.set_autonomy("search@staging/medium", 0, by="bob")  # rollback_deployment is a medium-risk action
    decision = desk.runtime.governance.decide(ROLLBACK, desk.clock.now())
    assert decision.outcome is Outcome.SUGGEST
    assert decision.policy_ids[0] == "autonomy.override[search@staging/medium]"
    with pytest.raises(ControlError):
        controls.set_autonomy("search/extreme", 1, by="bob")
