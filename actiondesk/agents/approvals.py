"""Approvals: server-side checks on every click, exactly one decision per request, expiry.

Who may approve comes from the directory, never from anything the click carries besides the clicker's
identity as the surface verified it.
"""

from __future__ import annotations

import logging

from actiondesk.agents.record import Recorder, say
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus
from actiondesk.core.errors import ApprovalConflictError, ApprovalExpiredError, NotAuthorizedError
from actiondesk.core.plan import StepStatus
from actiondesk.core.ports import Directory

log = logging.getLogger(__name__)


class ApprovalDesk:
    def __init__(self, recorder: Recorder, directory: Directory) -> None:
        self.recorder = recorder
        self.store = recorder.store
        self.directory = directory

    def check(self, approval: Approval, person: str) -> None:
        """Raise NotAuthorizedError unless ``person`` may decide ``approval``."""
        if self.directory.person(person) is None:
            raise NotAuthorizedError(f"{person!r} is not in the directory; unmapped people cannot approve")
        members = self.directory.members(approval.group) if approval.group else frozenset()
        if not members:
            raise NotAuthorizedError(f"approver group {approval.group!r} is empty or unknown: nobody can approve")
        if person not in members:
            raise NotAuthorizedError(f"{person} is not in the approver group {approval.group}")
        if person in {approval.proposed_by, self.recorder.agent}:
            raise NotAuthorizedError(f"{person} proposed this change and cannot approve it")
        if approval.production and person == approval.requested_by:
            raise NotAuthorizedError(f"{person} requested this production change and cannot approve it")

    def decide(self, approval_id: str, person: str, approve: bool, reason: str | None = None) -> Approval:
        """Record one decision. Raise NotAuthorizedError, ApprovalExpiredError or ApprovalConflictError."""
        with self.store.transaction() as uow:
            approval = uow.get_approval(approval_id)
        now = self.recorder.clock.now()
        if approval.status is ApprovalStatus.EXPIRED:
            raise ApprovalExpiredError(f"approval {approval.id} expired at {approval.expires_at:%Y-%m-%d %H:%M} UTC")
        if approval.status is not ApprovalStatus.PENDING:
            raise ApprovalConflictError(
                f"approval {approval.id} was already {approval.status.value}"
                + (f" by {approval.decided_by}" if approval.decided_by else "")
            )
        if now >= approval.expires_at:
            self.expire(approval)
            raise ApprovalExpiredError(f"approval {approval.id} expired at {approval.expires_at:%Y-%m-%d %H:%M} UTC")
        try:
            self.check(approval, person)
        except NotAuthorizedError as exc:
            refused = {"approval_id": approval.id, "status": "refused", "by": person, "reason": str(exc)}
            with self.store.transaction() as uow:
                self.recorder.append(uow, approval.case_id, [(AuditKind.APPROVAL, refused)], actor=person)
            raise
        status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
        decided = approval.model_copy(
            update={"status": status, "decided_by": person, "decided_at": now, "reason": reason}
        )
        with self.store.transaction() as uow:
            if not uow.transition_approval(decided, ApprovalStatus.PENDING):
                raise ApprovalConflictError(f"approval {approval.id} was decided by someone else a moment ago")
            case = uow.get_case(approval.case_id)
            assert case.plan is not None
            step = case.plan.steps[approval.step_index]
            note = (
                AuditKind.APPROVAL,
                {
                    "approval_id": approval.id,
                    "status": status.value,
                    "by": person,
                    "reason": reason,
                    "action": approval.call.action,
                },
            )
            if approve:
                step = step.model_copy(update={"status": StepStatus.APPROVED})
                moved = case.moved(CaseStatus.ACTING, now, plan=case.plan.with_step(step))
                self.recorder.append(uow, case.id, [note], actor=person)
                self.recorder.save(moved, say(f"Approved by {person}. Running {approval.call.action}."), uow=uow)
            else:
                step = step.model_copy(update={"status": StepStatus.REFUSED, "error": f"rejected by {person}"})
                moved = case.moved(CaseStatus.ESCALATED, now, plan=case.plan.with_step(step))
                self.recorder.append(uow, case.id, [note], actor=person)
                self.recorder.save(
                    moved,
                    (AuditKind.CASE_ESCALATED, {"reason": f"rejected by {person}"}),
                    say(f"Rejected by {person}" + (f": {reason}" if reason else "") + ". Handing this to a human."),
                    uow=uow,
                )
        self.recorder.changed(approval.case_id)
        log.info("case %s: approval %s %s by %s", approval.case_id, approval.id, status.value, person)
        return decided

    def expire(self, approval: Approval) -> bool:
        """Mark a pending approval expired; its step never runs and the case goes to a human."""
        now = self.recorder.clock.now()
        expired = approval.model_copy(update={"status": ApprovalStatus.EXPIRED, "decided_at": now})
        with self.store.transaction() as uow:
            if not uow.transition_approval(expired, ApprovalStatus.PENDING):
                return False
            case = uow.get_case(approval.case_id)
            if case.plan is not None and case.status is CaseStatus.AWAITING_APPROVAL:
                step = case.plan.steps[approval.step_index].model_copy(
                    update={"status": StepStatus.NOT_RUN, "error": "approval expired"}
                )
                self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, now, plan=case.plan.with_step(step)),
                    (AuditKind.APPROVAL, {"approval_id": approval.id, "status": "expired"}),
                    (AuditKind.CASE_ESCALATED, {"reason": "approval expired"}),
                    say(f"Nobody approved {approval.call.action} in time; the request expired and it will not run."),
                    uow=uow,
                )
        self.recorder.changed(approval.case_id)
        return True

    def expire_due(self) -> int:
        now = self.recorder.clock.now()
        due = [a for a in self.store.approvals(status=ApprovalStatus.PENDING) if a.expires_at <= now]
        return sum(self.expire(a) for a in due)
