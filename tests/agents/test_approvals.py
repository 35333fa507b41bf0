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
