"""Approvals, checked on the server against the directory: who may approve, exactly one decision, expiry,
and policy asked again at the time of use."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from actiondesk.adapters.sandbox import DEFAULT_START
from actiondesk.agents.governance import PolicyData, Window
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.errors import ApprovalConflictError, ApprovalExpiredError, NotAuthorizedError
from actiondesk.core.plan import StepStatus

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk


def waiting(desk: Desk, reporter: str = "alice") -> Case:
    """A bad production deploy reported by ``reporter``: the rollback waits for an sre."""
    desk.bad_deploy()
    case = desk.report(user=reporter)
    assert case.status is CaseStatus.AWAITING_APPROVAL
    return case


def refusals(desk: Desk, case_id: str) -> list[dict]:
    return [e.payload for e in desk.audit(case_id) if e.kind is AuditKind.APPROVAL and e.payload["status"] == "refused"]


def assert_refused(desk: Desk, case: Case, person: str) -> None:
    """``person`` clicks Approve: refused, audited under their name, and nothing changed."""
    (approval,) = desk.pending(case.id)
    with pytest.raises(NotAuthorizedError):
        desk.runtime.approvals.decide(approval.id, person, True)
    refused = refusals(desk, case.id)
    assert [r["by"] for r in refused] == [person]
    assert refused[0]["approval_id"] == approval.id
    assert [a.id for a in desk.pending(case.id)] == [approval.id], "the approval is still pending"
    assert desk.runtime.loop.run(case.id).status is CaseStatus.AWAITING_APPROVAL
    assert desk.rollbacks("payment-gateway") == []


def test_requester_in_sre_cannot_approve_their_own_production_change(make_desk: MakeDesk) -> None:
    desk = make_desk(world={"people": {"sam": {"groups": ["sre"]}}})
    case = waiting(desk, reporter="sam")

    assert_refused(desk, case, "sam")
    assert desk.approve(case.id, "bob").status is CaseStatus.RESOLVED, "another sre still can"


def test_person_outside_the_approver_group_is_refused(desk: Desk) -> None:
    case = waiting(desk)
    assert_refused(desk, case, "carol")  # cab, not sre


def test_unmapped_person_is_refused(desk: Desk) -> None:
    case = waiting(desk)
    assert_refused(desk, case, "mallory")


@pytest.mark.parametrize("group", ["", "no-such-group"])
def test_empty_or_unknown_approver_group_means_nobody_can_approve(make_desk: MakeDesk, group: str) -> None:
    desk = make_desk(policy=PolicyData(production_approvers=group))
    case = waiting(desk)
    (approval,) = desk.pending(case.id)
    assert approval.group == group

    for person in ("bob", "dave", "erin", "carol"):
        with pytest.raises(NotAuthorizedError):
            desk.runtime.approvals.decide(approval.id, person, True)
    assert len(refusals(desk, case.id)) == 4
    assert desk.pending(case.id) == [approval]
    assert desk.rollbacks("payment-gateway") == []


def test_the_agents_own_identity_cannot_approve_even_from_the_approver_group(make_desk: MakeDesk) -> None:
    desk = make_desk(world={"people": {"actiondesk": {"groups": ["sre"]}}})
    case = waiting(desk)
    assert_refused(desk, case, "actiondesk")


def test_a_second_click_is_a_conflict_and_the_action_runs_once(desk: Desk) -> None:
    case = waiting(desk)
    (approval,) = desk.pending(case.id)
    desk.runtime.approvals.decide(approval.id, "bob", True)

    for person, approve in (("bob", True), ("dave", True), ("dave", False)):
        with pytest.raises(ApprovalConflictError):
            desk.runtime.approvals.decide(approval.id, person, approve)

    assert desk.runtime.loop.run(case.id).status is CaseStatus.RESOLVED
    assert desk.store.approvals(case.id)[0].decided_by == "bob"
    assert desk.rollbacks("payment-gateway") == ["v2.4.1"]


def test_two_approvers_at_the_same_instant_give_one_decision_and_one_run(desk: Desk) -> None:
    case = waiting(desk)
    (approval,) = desk.pending(case.id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def click(person: str) -> None:
        barrier.wait()
        try:
            desk.runtime.approvals.decide(approval.id, person, True)
        except ApprovalConflictError:
            outcomes[person] = "conflict"
            return
        outcomes[person] = "approved"
        desk.runtime.loop.run(case.id)

    threads = [threading.Thread(target=click, args=(p,)) for p in ("bob", "dave")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["approved", "conflict"]
    winner = next(p for p, o in outcomes.items() if o == "approved")
    (decided,) = desk.store.approvals(case.id)
    assert decided.decided_by == winner
    assert desk.store.get_case(case.id).status is CaseStatus.RESOLVED
    assert len(desk.store.runs(case.id)) == 1
    assert desk.rollbacks("payment-gateway") == ["v2.4.1"]
    assert [e.payload["by"] for e in desk.audit(case.id) if e.kind is AuditKind.APPROVAL] == [winner]


def test_reject_escalates_and_the_action_never_runs(desk: Desk) -> None:
    case = waiting(desk)
    (approval,) = desk.pending(case.id)

    desk.runtime.approvals.decide(approval.id, "bob", False, "not during the sale")
    case = desk.runtime.loop.run(case.id)

    assert case.status is CaseStatus.ESCALATED
    assert case.plan is not None
    assert case.plan.steps[0].status is StepStatus.REFUSED
    assert desk.store.approvals(case.id)[0].status is ApprovalStatus.REJECTED
    assert desk.store.runs(case.id) == []
    assert desk.rollbacks("payment-gateway") == []
    assert AuditKind.ACTION_STARTED not in desk.kinds(case.id)


def test_expired_approval_escalates_and_a_later_click_is_refused(desk: Desk) -> None:
    case = waiting(desk)
    (approval,) = desk.pending(case.id)
    desk.wait(3599)
    assert desk.runtime.approvals.expire_due() == 0, "not due yet"

    desk.wait(1)
    assert desk.runtime.approvals.expire_due() == 1

    (expired,) = desk.store.approvals(case.id)
    assert expired.status is ApprovalStatus.EXPIRED
    case = desk.store.get_case(case.id)
    assert case.status is CaseStatus.ESCALATED
    assert case.plan is not None
    assert case.plan.steps[0].status is StepStatus.NOT_RUN
    with pytest.raises(ApprovalExpiredError):
        desk.runtime.approvals.decide(approval.id, "bob", True)
    assert desk.runtime.loop.run(case.id).status is CaseStatus.ESCALATED
    assert desk.store.runs(case.id) == []
    assert desk.rollbacks("payment-gateway") == []


def test_a_click_after_expiry_before_the_sweep_is_refused_and_expires_it(desk: Desk) -> None:
    case = waiting(desk)
    (approval,) = desk.pending(case.id)
    desk.wait(3600)

    with pytest.raises(ApprovalExpiredError):
        desk.runtime.approvals.decide(approval.id, "bob", True)

    assert desk.store.approvals(case.id)[0].status is ApprovalStatus.EXPIRED
    assert desk.runtime.loop.run(case.id).status is CaseStatus.ESCALATED
    assert desk.rollbacks("payment-gateway") == []


def test_a_freeze_that_starts_between_approval_and_execution_asks_cab(make_desk: MakeDesk) -> None:
    freeze = Window("Sale freeze", DEFAULT_START + timedelta(minutes=10), DEFAULT_START + timedelta(days=1))
    desk = make_desk(policy=PolicyData(freezes=(freeze,)))
    case = waiting(desk)
    (first,) = desk.pending(case.id)
    assert first.group == "sre", "no freeze yet when the approval was asked for"
    desk.runtime.approvals.decide(first.id, "bob", True)

    desk.wait(15 * 60)  # the worker picks the case up only after the freeze began
    case = desk.runtime.loop.run(case.id)

    assert case.status is CaseStatus.AWAITING_APPROVAL
    assert desk.rollbacks("payment-gateway") == []
    assert desk.store.runs(case.id) == []
    (second,) = desk.pending(case.id)
    assert second.id != first.id
    assert second.group == "cab"
    assert any(p.startswith("freeze[") for p in second.policy_ids)
    told = [str(e.payload.get("text")) for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE]
    assert "Sale freeze" in told[-1], "the thread says why it asks again"
    rechecks = [e.payload for e in desk.audit(case.id) if e.kind is AuditKind.DECISION and e.payload.get("recheck")]
    assert len(rechecks) == 1

    with pytest.raises(NotAuthorizedError):
        desk.runtime.approvals.decide(second.id, "bob", True)  # sre is no longer enough
    assert desk.approve(case.id, "carol").status is CaseStatus.RESOLVED
    assert desk.rollbacks("payment-gateway") == ["v2.4.1"]


# Quorum, break-glass, escalation (issue 5)

QUORUM_POLICY = """
@id("tier0.quorum")
@fallback("approve")
@approvers("production")
@quorum("2")
@reason("tier-0 changes need two approvers")
forbid (principal, action == Action::"run", resource)
when { context.tier == 0 };
"""


def quorum_desk(make_desk: MakeDesk, tmp_path) -> Desk:
    import shutil

    from actiondesk.agents.governance.cedar import builtin_dir

    directory = tmp_path / "policies"
    shutil.copytree(builtin_dir(), directory, ignore=shutil.ignore_patterns("__pycache__"))
    (directory / "quorum.cedar").write_text(QUORUM_POLICY)
    return make_desk(policy_dir=directory)


def orders_db_waiting(desk: Desk) -> Case:
    desk.bad_deploy("orders-db", "v15.5", "d41e7b9")
    case = desk.report("the orders database is throwing errors on every write")
    assert case.status is CaseStatus.AWAITING_APPROVAL
    return case


def test_a_quorum_needs_n_different_approvers(make_desk: MakeDesk, tmp_path) -> None:
    desk = quorum_desk(make_desk, tmp_path)
    case = orders_db_waiting(desk)
    (approval,) = desk.pending(case.id)
    assert (approval.group, approval.quorum) == ("sre", 2)
    assert "tier0.quorum" in approval.policy_ids

    desk.runtime.approvals.decide(approval.id, "bob", True)
    assert desk.runtime.loop.run(case.id).status is CaseStatus.AWAITING_APPROVAL, "one vote is not enough"
    assert desk.rollbacks("orders-db") == []
    with pytest.raises(ApprovalConflictError):
        desk.runtime.approvals.decide(approval.id, "bob", True)  # the same person twice is still one vote
    told = [str(e.payload.get("text")) for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE]
    assert "bob approved (1 of 2)" in told[-1]

    decided = desk.runtime.approvals.decide(approval.id, "dave", True)
    assert decided.status is ApprovalStatus.APPROVED
    assert decided.reason == "quorum 2: bob, dave"
    assert desk.runtime.loop.run(case.id).status is CaseStatus.RESOLVED
    assert len(desk.rollbacks("orders-db")) == 1
    votes = [e.payload for e in desk.audit(case.id) if e.kind is AuditKind.APPROVAL]
    assert [(v["status"], v["by"]) for v in votes] == [("vote", "bob"), ("approved", "dave")]
    assert votes[-1]["voters"] == ["bob", "dave"]


def test_one_rejection_decides_a_quorum(make_desk: MakeDesk, tmp_path) -> None:
    desk = quorum_desk(make_desk, tmp_path)
    case = orders_db_waiting(desk)
    (approval,) = desk.pending(case.id)
    desk.runtime.approvals.decide(approval.id, "bob", True)
    desk.runtime.approvals.decide(approval.id, "dave", False, "not now")
    assert desk.runtime.loop.run(case.id).status is CaseStatus.ESCALATED
    assert desk.rollbacks("orders-db") == []


def test_two_votes_at_the_same_instant_meet_a_quorum_of_two_once(make_desk: MakeDesk, tmp_path) -> None:
    desk = quorum_desk(make_desk, tmp_path)
    case = orders_db_waiting(desk)
    (approval,) = desk.pending(case.id)
    barrier = threading.Barrier(2)
    results: dict[str, ApprovalStatus] = {}

    def click(person: str) -> None:
        barrier.wait()
        results[person] = desk.runtime.approvals.decide(approval.id, person, True).status

    threads = [threading.Thread(target=click, args=(p,)) for p in ("bob", "dave")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results.values()) == [ApprovalStatus.APPROVED, ApprovalStatus.PENDING], "neither vote is lost"
    assert desk.store.approvals(case.id)[0].status is ApprovalStatus.APPROVED
    assert desk.runtime.loop.run(case.id).status is CaseStatus.RESOLVED
    assert len(desk.store.runs(case.id)) == 1


def frozen_desk(make_desk: MakeDesk) -> Desk:
    freeze = Window("Sale freeze", DEFAULT_START, DEFAULT_START + timedelta(days=1))
    return make_desk(policy=PolicyData(freezes=(freeze,)), break_glass_minutes=30)


def test_break_glass_approves_a_cab_request_time_boxed_and_flagged_for_review(make_desk: MakeDesk) -> None:
    desk = frozen_desk(make_desk)
    case = waiting(desk)
    (approval,) = desk.pending(case.id)
    assert approval.group == "cab"
    desk_approvals = desk.runtime.approvals

    with pytest.raises(NotAuthorizedError, match="reason"):
        desk_approvals.break_glass(approval.id, "bob", "  ")
    with pytest.raises(NotAuthorizedError, match="break-glass group"):
        desk_approvals.break_glass(approval.id, "carol", "outage")  # cab, not in the break-glass group (sre)
    with pytest.raises(NotAuthorizedError):
        desk_approvals.break_glass(approval.id, "alice", "outage")

    decided = desk_approvals.break_glass(approval.id, "bob", "card payments down, CAB unreachable")
    assert decided.status is ApprovalStatus.APPROVED
    assert desk.runtime.loop.run(case.id).status is CaseStatus.RESOLVED
    assert desk.rollbacks("payment-gateway") == ["v2.4.1"]
    flagged = [e.payload for e in desk.audit(case.id) if e.kind is AuditKind.APPROVAL and e.payload.get("break_glass")]
    assert flagged[-1]["review_required"] is True
    assert flagged[-1]["status"] == "approved"
    assert flagged[-1]["asked_group"] == "cab"
    assert [a.id for a in desk_approvals.break_glass_reviews()] == [approval.id]


def test_a_break_glass_approval_whose_time_box_ends_does_not_run(make_desk: MakeDesk) -> None:
    desk = frozen_desk(make_desk)
    case = waiting(desk)
    (approval,) = desk.pending(case.id)
    desk.runtime.approvals.break_glass(approval.id, "bob", "outage")
    desk.wait(29 * 60)
    assert desk.runtime.approvals.expire_break_glass_due() == 0
    desk.wait(2 * 60)
    assert desk.runtime.approvals.expire_break_glass_due() == 1
    assert desk.runtime.loop.run(case.id).status is CaseStatus.ESCALATED
    assert desk.rollbacks("payment-gateway") == []


def test_break_glass_does_not_override_the_kill_switch(make_desk: MakeDesk) -> None:
    desk = frozen_desk(make_desk)
    case = waiting(desk)
    (approval,) = desk.pending(case.id)
    desk.runtime.approvals.break_glass(approval.id, "bob", "outage")
    desk.runtime.controls.set_kill_switch(True, by="erin", reason="stop all")
    assert desk.runtime.loop.run(case.id).status is CaseStatus.ESCALATED
    assert desk.rollbacks("payment-gateway") == []


def test_a_waiting_approval_is_escalated_once_before_it_expires(make_desk: MakeDesk) -> None:
    desk = make_desk(approval_escalation_group="cab")
    case = waiting(desk)
    approvals = desk.runtime.approvals
    desk.wait(1799)
    assert approvals.escalate_due() == 0
    desk.wait(1)
    assert approvals.escalate_due() == 1
    assert approvals.escalate_due() == 0, "once"
    escalated = [e.payload for e in desk.audit(case.id) if e.kind is AuditKind.APPROVAL]
    assert escalated[-1]["status"] == "escalated"
    assert escalated[-1]["to"] == "cab"
    told = [str(e.payload.get("text")) for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE]
    assert "Escalating to cab" in told[-1]
    desk.wait(1800)
    assert approvals.expire_due() == 1
    assert desk.store.get_case(case.id).status is CaseStatus.ESCALATED
