"""Approvals: server-side checks on every click, exactly one decision per request, quorums, expiry with
escalation, and break-glass.

Who may approve comes from the directory, never from anything the click carries besides the clicker's
identity as the surface verified it.

- An approval whose policy asks for a quorum of N stays pending until N different authorised people voted to
  approve (``approval_votes``); any one authorised rejection decides it.
- An approval still open after ``escalate_after_seconds`` (default: half its time to live) is escalated once:
  the thread is told and the escalation group is named. At its expiry it is marked expired and never runs.
- Break-glass: in an emergency a member of ``break_glass_group`` may approve any pending request with a reason,
  whatever group and quorum it asked for (separation of duties still holds, and the kill switch and the
  time-of-use policy check still apply). The action must start within ``break_glass_minutes``; the approval
  is flagged for review in the audit trail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from pydantic import JsonValue

from actiondesk.agents.record import Note, Recorder, say
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit_payloads import ApprovalNoted, CaseEscalated
from actiondesk.core.case import CaseStatus
from actiondesk.core.errors import ApprovalConflictError, ApprovalExpiredError, NotAuthorizedError
from actiondesk.core.plan import StepStatus
from actiondesk.core.ports import Directory, UnitOfWork

log = logging.getLogger(__name__)

BREAK_GLASS = "BREAK-GLASS: "


@dataclass(frozen=True)
class ApprovalSettings:
    break_glass_group: str = "sre"
    break_glass_minutes: int = 30
    escalate_after_seconds: int | None = None  # None: half the approval's time to live
    escalation_group: str = ""  # "": the approver group again


def is_break_glass(approval: Approval) -> bool:
    return approval.status is ApprovalStatus.APPROVED and (approval.reason or "").startswith(BREAK_GLASS)


class ApprovalDesk:
    def __init__(self, recorder: Recorder, directory: Directory, settings: ApprovalSettings | None = None) -> None:
        self.recorder = recorder
        self.store = recorder.store
        self.directory = directory
        self.settings = settings or ApprovalSettings()

    # Who may decide

    def _separation(self, approval: Approval, person: str) -> None:
        if person in {approval.proposed_by, self.recorder.agent}:
            raise NotAuthorizedError(f"{person} proposed this change and cannot approve it")
        if approval.production and person == approval.requested_by:
            raise NotAuthorizedError(f"{person} requested this production change and cannot approve it")

    def check(self, approval: Approval, person: str) -> None:
        """Raise NotAuthorizedError unless ``person`` may decide ``approval``."""
        if self.directory.person(person) is None:
            raise NotAuthorizedError(f"{person!r} is not in the directory; unmapped people cannot approve")
        members = self.directory.members(approval.group) if approval.group else frozenset()
        if not members:
            raise NotAuthorizedError(f"approver group {approval.group!r} is empty or unknown: nobody can approve")
        if person not in members:
            raise NotAuthorizedError(f"{person} is not in the approver group {approval.group}")
        self._separation(approval, person)

    def _open(self, approval_id: str) -> Approval:
        """The approval if it can still be decided; raise ApprovalExpiredError or ApprovalConflictError."""
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
        return approval

    def _refused(self, approval: Approval, person: str, exc: NotAuthorizedError, **extra: JsonValue) -> None:
        refused: dict[str, JsonValue] = {
            "approval_id": approval.id,
            "status": "refused",
            "by": person,
            "reason": str(exc),
            **extra,
        }
        with self.store.transaction() as uow:
            self.recorder.append(uow, approval.case_id, [ApprovalNoted.model_validate(refused)], actor=person)

    # Deciding

    def decide(self, approval_id: str, person: str, approve: bool, reason: str | None = None) -> Approval:
        """Record one decision (or one vote of a quorum).

        Raise NotAuthorizedError, ApprovalExpiredError or ApprovalConflictError.
        """
        approval = self._open(approval_id)
        try:
            self.check(approval, person)
        except NotAuthorizedError as exc:
            self._refused(approval, person, exc)
            raise
        now = self.recorder.clock.now()
        if not approve:
            rejected = approval.model_copy(
                update={"status": ApprovalStatus.REJECTED, "decided_by": person, "decided_at": now, "reason": reason}
            )
            with self.store.transaction() as uow:
                if not uow.transition_approval(rejected, ApprovalStatus.PENDING):
                    raise ApprovalConflictError(f"approval {approval.id} was decided by someone else a moment ago")
                self._close(uow, approval, person, reason, approve=False)
            self._decided(approval, rejected, person)
            return rejected
        with self.store.transaction() as uow:
            # Rewriting the pending row first locks it: concurrent votes on it queue up here, so each of them
            # counts the votes committed before it, and the last one needed is the one that decides.
            if not uow.transition_approval(approval, ApprovalStatus.PENDING):
                raise ApprovalConflictError(f"approval {approval.id} was decided by someone else a moment ago")
            if not uow.add_vote(approval.id, person, now):
                raise ApprovalConflictError(f"{person} already approved {approval.id}; it needs other approvers")
            voters = uow.votes(approval.id)
            if len(voters) < approval.quorum:
                self.recorder.append(
                    uow,
                    approval.case_id,
                    [
                        ApprovalNoted(
                            approval_id=approval.id,
                            status="vote",
                            by=person,
                            votes=len(voters),
                            quorum=approval.quorum,
                            action=approval.call.action,
                        )
                    ],
                    actor=person,
                )
                waiting = approval.quorum - len(voters)
                self.recorder.append(
                    uow,
                    approval.case_id,
                    [
                        say(
                            f"{person} approved ({len(voters)} of {approval.quorum}); waiting for {waiting} more "
                            f"from {approval.group}.",
                            approval_id=approval.id,
                        )
                    ],
                )
                decided = approval
            else:
                note = reason
                if approval.quorum > 1:
                    note = f"quorum {approval.quorum}: {', '.join(voters)}" + (f"; {reason}" if reason else "")
                decided = approval.model_copy(
                    update={
                        "status": ApprovalStatus.APPROVED,
                        "decided_by": person,
                        "decided_at": now,
                        "reason": note,
                    }
                )
                if not uow.transition_approval(decided, ApprovalStatus.PENDING):  # pragma: no cover - row is locked
                    raise ApprovalConflictError(f"approval {approval.id} was decided by someone else a moment ago")
                self._close(uow, approval, person, note, approve=True, voters=voters)
        self._decided(approval, decided, person)
        return decided

    def _close(
        self,
        uow: UnitOfWork,
        approval: Approval,
        person: str,
        reason: str | None,
        *,
        approve: bool,
        voters: list[str] | None = None,
        extra: dict[str, JsonValue] | None = None,
        message: str | None = None,
    ) -> None:
        """Move the case on after an approval was decided (inside the deciding transaction)."""
        now = self.recorder.clock.now()
        case = uow.get_case(approval.case_id)
        assert case.plan is not None
        step = case.plan.steps[approval.step_index]
        payload: dict[str, JsonValue] = {
            "approval_id": approval.id,
            "status": "approved" if approve else "rejected",
            "by": person,
            "reason": reason,
            "action": approval.call.action,
        }
        if voters is not None and approval.quorum > 1:
            payload["voters"] = list[JsonValue](voters)
        payload.update(extra or {})
        note: Note = ApprovalNoted.model_validate(payload)
        if approve:
            step = step.model_copy(update={"status": StepStatus.APPROVED})
            moved = case.moved(CaseStatus.ACTING, now, plan=case.plan.with_step(step))
            self.recorder.append(uow, case.id, [note], actor=person)
            self.recorder.save(moved, say(message or f"Approved by {person}. Running {approval.call.action}."), uow=uow)
        else:
            step = step.model_copy(update={"status": StepStatus.REFUSED, "error": f"rejected by {person}"})
            moved = case.moved(CaseStatus.ESCALATED, now, plan=case.plan.with_step(step))
            self.recorder.append(uow, case.id, [note], actor=person)
            self.recorder.save(
                moved,
                CaseEscalated(reason=f"rejected by {person}"),
                say(f"Rejected by {person}" + (f": {reason}" if reason else "") + ". Handing this to a human."),
                uow=uow,
            )

    def _decided(self, approval: Approval, decided: Approval, person: str) -> None:
        self.recorder.changed(approval.case_id)
        log.info("case %s: approval %s %s by %s", approval.case_id, approval.id, decided.status.value, person)

    def break_glass(self, approval_id: str, person: str, reason: str) -> Approval:
        """Emergency approval by a member of the break-glass group, time-boxed and flagged for review."""
        approval = self._open(approval_id)
        reason = (reason or "").strip()
        group = self.settings.break_glass_group
        try:
            if not reason:
                raise NotAuthorizedError("break-glass needs a reason, for the review")
            if self.directory.person(person) is None:
                raise NotAuthorizedError(f"{person!r} is not in the directory; unmapped people cannot break glass")
            members = self.directory.members(group) if group else frozenset()
            if person not in members:
                raise NotAuthorizedError(f"{person} is not in the break-glass group {group!r}")
            self._separation(approval, person)
        except NotAuthorizedError as exc:
            self._refused(approval, person, exc, break_glass=True)
            raise
        now = self.recorder.clock.now()
        until = now + timedelta(minutes=self.settings.break_glass_minutes)
        decided = approval.model_copy(
            update={
                "status": ApprovalStatus.APPROVED,
                "decided_by": person,
                "decided_at": now,
                "reason": BREAK_GLASS + reason,
                "expires_at": until,  # an approved break-glass request's action must start before this
            }
        )
        with self.store.transaction() as uow:
            if not uow.transition_approval(decided, ApprovalStatus.PENDING):
                raise ApprovalConflictError(f"approval {approval.id} was decided by someone else a moment ago")
            self._close(
                uow,
                approval,
                person,
                reason,
                approve=True,
                extra={
                    "break_glass": True,
                    "review_required": True,
                    "asked_group": approval.group,
                    "asked_quorum": approval.quorum,
                    "valid_until": until.isoformat(),
                },
                message=(
                    f"BREAK-GLASS approval by {person}: {reason}. Running {approval.call.action} if it can start "
                    f"before {until:%H:%M} UTC; this change is flagged for review."
                ),
            )
        self._decided(approval, decided, person)
        return decided

    def break_glass_reviews(self) -> list[Approval]:
        """Every break-glass approval, oldest first: what the post-incident review goes through."""
        return [a for a in self.store.approvals(status=ApprovalStatus.APPROVED) if is_break_glass(a)]

    # Time

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
                    ApprovalNoted(approval_id=approval.id, status="expired"),
                    CaseEscalated(reason="approval expired"),
                    say(f"Nobody approved {approval.call.action} in time; the request expired and it will not run."),
                    uow=uow,
                )
        self.recorder.changed(approval.case_id)
        return True

    def expire_due(self) -> int:
        now = self.recorder.clock.now()
        due = [a for a in self.store.approvals(status=ApprovalStatus.PENDING) if a.expires_at <= now]
        return sum(self.expire(a) for a in due)

    def escalate_due(self) -> int:
        """Escalate, once each, the pending approvals that have waited too long. Returns how many."""
        now = self.recorder.clock.now()
        count = 0
        for approval in self.store.approvals(status=ApprovalStatus.PENDING):
            ttl = (approval.expires_at - approval.created_at).total_seconds()
            after = self.settings.escalate_after_seconds or max(1, int(ttl // 2))
            if now < approval.created_at + timedelta(seconds=after) or now >= approval.expires_at:
                continue
            group = self.settings.escalation_group or approval.group
            with self.store.transaction() as uow:
                if not uow.remember(f"approval-escalated:{approval.id}", "scheduler", now):
                    continue  # another replica (or an earlier run) escalated it already
                votes = len(uow.votes(approval.id))
                self.recorder.append(
                    uow,
                    approval.case_id,
                    [
                        ApprovalNoted(
                            approval_id=approval.id, status="escalated", to=group, votes=votes, quorum=approval.quorum
                        ),
                        say(
                            f"Still waiting for {approval.group} to approve {approval.call.action} on "
                            f"{approval.target} ({votes} of {approval.quorum} so far); it expires at "
                            f"{approval.expires_at:%H:%M} UTC. Escalating to {group}.",
                            approval_id=approval.id,
                            escalated_to=group,
                        ),
                    ],
                )
            self.recorder.changed(approval.case_id)
            count += 1
        return count

    def expire_break_glass_due(self) -> int:
        """Close break-glass approvals whose time box ended before their action started. Returns how many."""
        now = self.recorder.clock.now()
        count = 0
        for approval in self.break_glass_reviews():
            if approval.expires_at > now:
                continue
            with self.store.transaction() as uow:
                case = uow.get_case(approval.case_id)
                if case.plan is None or case.status is not CaseStatus.ACTING:
                    continue
                step = case.plan.steps[approval.step_index]
                if step.status is not StepStatus.APPROVED or step.approval_id not in (None, approval.id):
                    continue
                stopped = step.model_copy(update={"status": StepStatus.NOT_RUN, "error": "break-glass window ended"})
                self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, now, plan=case.plan.with_step(stopped)),
                    ApprovalNoted(approval_id=approval.id, status="break_glass_window_ended"),
                    CaseEscalated(reason="break-glass window ended before the action started"),
                    say(
                        f"The break-glass approval for {approval.call.action} ran out at "
                        f"{approval.expires_at:%H:%M} UTC before it could start; it will not run."
                    ),
                    uow=uow,
                )
            self.recorder.changed(approval.case_id)
            count += 1
        return count
