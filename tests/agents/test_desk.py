"""The front desk every surface goes through: where a message goes, deciding an approval and telling a refusal,
who may roll back or take a case, status. Over the real store and the product's runtime."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from actiondesk.agents.desk import FrontDesk, Refusal
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.audit import AuditKind
from actiondesk.core.audit_payloads import PickedUp
from actiondesk.core.case import CaseKind, CaseStatus
from actiondesk.core.errors import DuplicateDeliveryError, NotAuthorizedError
from actiondesk.core.runs import RunStatus

if TYPE_CHECKING:
    from conftest import Desk


def front(desk: Desk) -> FrontDesk:
    return desk.runtime.front


def waiting(desk: Desk) -> tuple[str, str]:
    """A bad production deploy, reported: the rollback waits for an sre. (case id, approval id)"""
    desk.bad_deploy()
    case = desk.report()
    assert case.status is CaseStatus.AWAITING_APPROVAL
    (approval,) = desk.pending(case.id)
    return case.id, approval.id


def test_a_message_opens_a_case_and_a_reply_reaches_it_once(desk: Desk) -> None:
    case = front(desk).open_case("printer on floor 3 is jammed", "alice", surface="slack", delivery="slack:event:E1")
    assert (case.reporter, case.surface) == ("alice", "slack")

    front(desk).reply(case.id, "alice", "it is the one by the window", delivery="slack:event:E2")
    with pytest.raises(DuplicateDeliveryError):
        front(desk).reply(case.id, "alice", "it is the one by the window", delivery="slack:event:E2")

    said = [e.payload["text"] for e in desk.audit(case.id) if e.kind is AuditKind.MESSAGE and e.actor == "alice"]
    assert said == ["printer on floor 3 is jammed", "it is the one by the window"], "the retry added nothing"


def test_a_thread_reaches_its_case_but_a_chat_of_many_cases_opens_a_new_one_once_closed(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    closed = desk.report("search is returning errors")  # staging: rolled back on its own
    assert closed.status is CaseStatus.RESOLVED
    ongoing = front(desk).open_case("vpn drops every hour", "alice", surface="teams")

    assert front(desk).reaches(closed.id) == closed.id, "a case's own thread always reaches it"
    assert front(desk).reaches(closed.id, carries_many=True) is None, "a personal chat starts a new case"
    assert front(desk).reaches(ongoing.id, carries_many=True) == ongoing.id
    assert front(desk).reaches(None) is None


def test_an_sre_decides_once_and_a_second_click_is_told_it_was_handled(desk: Desk) -> None:
    case_id, approval_id = waiting(desk)

    verdict = front(desk).decide(approval_id, "bob", True)
    again = front(desk).decide(approval_id, "bob", True)

    assert verdict.decided
    assert verdict.approval is not None
    assert verdict.approval.status is ApprovalStatus.APPROVED
    assert (again.decided, again.refused) == (False, Refusal.HANDLED)
    assert again.approval is not None
    assert again.approval.case_id == case_id
    assert again.told() == f"Already handled: approval {approval_id} was already approved by bob."
    assert desk.runtime.loop.run(case_id).status is CaseStatus.RESOLVED


def test_a_person_outside_the_group_is_refused_audited_and_nothing_changes(desk: Desk) -> None:
    case_id, approval_id = waiting(desk)

    checked = front(desk).may_decide(approval_id, "carol")
    verdict = front(desk).decide(approval_id, "carol", True)

    assert checked.refused is Refusal.NOT_ALLOWED
    assert "not in the approver group sre" in checked.why
    assert verdict.refused is Refusal.NOT_ALLOWED
    assert verdict.told() == "You cannot decide this: carol is not in the approver group sre."
    refused = [e.payload for e in desk.audit(case_id) if e.kind is AuditKind.APPROVAL]
    assert [(r["status"], r["by"]) for r in refused] == [("refused", "carol")], "only the decision is audited"
    assert [a.id for a in desk.pending(case_id)] == [approval_id]
    assert front(desk).may_decide(approval_id, "bob").decided


def test_a_late_or_unknown_approval_is_told_not_raised(desk: Desk) -> None:
    _case_id, approval_id = waiting(desk)
    desk.wait(3601)

    late = front(desk).decide(approval_id, "bob", True)
    missing = front(desk).decide("A-nope", "bob", True)

    assert late.refused is Refusal.EXPIRED
    assert late.told().startswith("Too late: approval")
    assert late.approval is not None
    assert late.approval.status is ApprovalStatus.EXPIRED
    assert (missing.refused, missing.approval, missing.told()) == (
        Refusal.MISSING,
        None,
        "That approval does not exist.",
    )
    assert front(desk).may_decide("A-nope", "bob").refused is Refusal.MISSING


def _staging_run(desk: Desk) -> str:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.report("search is returning errors")
    (run,) = desk.store.runs(case.id)
    assert run.status is RunStatus.SUCCEEDED
    return run.key


def test_from_chat_only_people_of_the_directory_may_roll_back(desk: Desk) -> None:
    key = _staging_run(desk)

    with pytest.raises(NotAuthorizedError, match="only people in ActionDesk's directory"):
        front(desk).rollback(key, "slack:U0STRANGER", surface="slack")
    case = front(desk).rollback(key, "carol", surface="slack", thread={"channel": "C1", "thread_ts": "1.0"})

    assert (case.kind, case.reporter, case.surface) == (CaseKind.REQUEST, "carol", "slack")
    assert front(desk).drive(case.id).status is CaseStatus.RESOLVED
    assert desk.estate.service("search").version == "v1.9.0"


def test_the_operator_at_the_command_line_rolls_back_under_their_own_name(desk: Desk) -> None:
    key = _staging_run(desk)

    case = front(desk).rollback(key, "ops-on-the-host")

    assert case.reporter == "ops-on-the-host"
    assert front(desk).run_case(key) is not None


def test_a_person_of_the_directory_takes_a_handed_off_case_and_a_stranger_cannot(desk: Desk) -> None:
    desk.fault("payment-gateway")  # no deploy to blame: the case goes to the owner team's on-call
    desk.wait(120)
    case = desk.report()
    assert case.status is CaseStatus.ESCALATED

    with pytest.raises(NotAuthorizedError, match="directory"):
        front(desk).take(case.id, "slack:U0STRANGER")
    front(desk).take(case.id, "grace")

    picked = front(desk).newest(case.id, PickedUp)
    assert picked is not None
    assert (picked.by, picked.how) == ("grace", "take")


def test_status_shows_a_case_with_its_approvals_and_the_open_cases(desk: Desk) -> None:
    case_id, approval_id = waiting(desk)

    shown = front(desk).status(case_id)

    assert shown.case.id == case_id
    assert [(a.id, a.status) for a in shown.approvals] == [(approval_id, ApprovalStatus.PENDING)]
    assert [c.id for c in front(desk).open_cases()] == [case_id]
    assert front(desk).audit_verifies()


def test_an_alert_opens_one_case_a_resend_adds_nothing_and_its_resolution_reaches_it(desk: Desk) -> None:
    fire = {"firing": True, "delivery": "alert:fp1:t0:firing", "service": "payment-gateway"}

    opened = front(desk).alert("fp1", "HighErrorRate on payment-gateway", **fire)
    again = front(desk).alert("fp1", "HighErrorRate on payment-gateway", **fire)
    resolved = front(desk).alert("fp1", "resolved: HighErrorRate", firing=False, delivery="alert:fp1:t0:resolved")
    nothing = front(desk).alert("fp2", "resolved: DiskFull", firing=False, delivery="alert:fp2:t0:resolved")

    assert opened is not None
    assert again is None
    assert resolved == opened
    assert nothing is None
    case = front(desk).case(opened)
    assert (case.reporter, case.surface, case.kind) == ("alertmanager", "alert", CaseKind.INCIDENT)
    notes = [e.payload["text"] for e in desk.audit(opened) if e.kind is AuditKind.MESSAGE]
    assert notes == ["HighErrorRate on payment-gateway", "resolved: HighErrorRate"]
