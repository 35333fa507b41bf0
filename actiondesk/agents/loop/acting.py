"""Step execution: each step governed (and asked again right before it runs), approved when it must be, run
through the executor, or stopped and handed to a person."""

from __future__ import annotations

import logging
from datetime import timedelta

from actiondesk.agents.fulfilment.checklist import confirmation, is_request_plan, stopped_report
from actiondesk.agents.llm import LLM_RUNBOOK
from actiondesk.agents.loop.base import LoopBase, confidence, run_key, shown
from actiondesk.agents.record import Note, say
from actiondesk.core.approval import Approval
from actiondesk.core.audit_payloads import ApprovalRequested, CaseEscalated, CaseFailed, DecisionNoted
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.errors import ActionError, StateDriftError, SystemUnavailableError
from actiondesk.core.governance import Outcome
from actiondesk.core.plan import PlanStep, StepStatus

log = logging.getLogger(__name__)


class Acting(LoopBase):
    """Governing, approving, running or stopping a plan's next step."""

    def _govern(self, case: Case) -> Case:
        """Decide the next proposed step and move the case accordingly."""
        assert case.plan is not None
        step = case.plan.next_step()
        now = self.clock.now()
        if step is None and case.plan.runbook == LLM_RUNBOOK and case.status is not CaseStatus.PLANNING:
            return self.recorder.save(case.moved(CaseStatus.PLANNING, now))  # the model refines after each step
        if step is None:
            return self.recorder.save(case.moved(CaseStatus.VERIFYING, now))
        if step.not_before is not None and now < step.not_before:  # decided when its date comes, not before
            return self.recorder.save(
                case.moved(CaseStatus.SCHEDULED, now),
                say(f"{step.call.action} waits until {step.not_before:%Y-%m-%d %H:%M} UTC."),
            )
        decision = self.governance.decide(
            step.call,
            now,
            requester=case.reporter,
            requested=case.kind is CaseKind.REQUEST,
            confidence=confidence(case),
        )
        decided = step.model_copy(update={"decision": decision})
        if any(p.startswith("chaos_day") for p in decision.policy_ids) and "chaos-day" not in case.tags:
            case = case.changed(now, tags=(*case.tags, "chaos-day"))  # chaos-day cases are tagged
        assert case.plan is not None
        note = DecisionNoted.on(step, decision)
        match decision.outcome:
            case Outcome.ALLOW:
                decided = decided.model_copy(update={"status": StepStatus.APPROVED})
                return self.recorder.save(
                    case.moved(CaseStatus.ACTING, now, plan=case.plan.with_step(decided)),
                    note,
                    say(f"Running {step.call.action} on my own: {'; '.join(decision.reasons)}."),
                )
            case Outcome.APPROVE:
                return self._request_approval(case, decided, note)
            case Outcome.SUGGEST:
                decided = decided.model_copy(update={"status": StepStatus.SUGGESTED})
                return self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, now, plan=case.plan.with_step(decided)),
                    note,
                    say(
                        f"Suggested, for a person to run: {shown(step.call)} "
                        f"({'; '.join(decision.reasons)}). Tell me here when it is done."
                    ),
                    CaseEscalated(reason="suggest only"),
                )
            case _:
                decided = decided.model_copy(update={"status": StepStatus.REFUSED})
                return self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, now, plan=case.plan.with_step(decided)),
                    note,
                    say(f"Policy refuses {step.call.action}: {'; '.join(decision.reasons)}."),
                    CaseEscalated(reason="denied by policy"),
                )

    def _request_approval(self, case: Case, step: PlanStep, note: Note) -> Case:
        assert case.plan is not None
        assert step.decision is not None
        decision = step.decision
        now = self.clock.now()
        spec, params = self.executor.catalog.validate(step.call)
        approval = Approval(
            id=self._ids("A"),
            case_id=case.id,
            step_index=step.index,
            call=step.call,
            target=spec.target(params),
            group=decision.approver_group or "",
            quorum=decision.quorum,
            production=decision.production,
            requested_by=case.reporter,
            proposed_by=self.recorder.agent,
            reasons=decision.reasons,
            policy_ids=decision.policy_ids,
            created_at=now,
            expires_at=now + timedelta(seconds=decision.expires_in_seconds or 3600),
        )
        step = step.model_copy(update={"status": StepStatus.AWAITING_APPROVAL, "approval_id": approval.id})
        moved = case.moved(CaseStatus.AWAITING_APPROVAL, now, plan=case.plan.with_step(step))
        with self.store.transaction() as uow:
            uow.add_approval(approval)
            saved = self.recorder.save(
                moved,
                note,
                ApprovalRequested.of(approval),
                say(
                    f"Approval needed from {approval.group} to run {shown(step.call)} on {approval.target}. "
                    f"{'; '.join(decision.reasons)}.",
                    approval_id=approval.id,
                ),
                uow=uow,
            )
        self.recorder.changed(case.id, case.surface)
        return saved

    def _act(self, case: Case) -> Case:
        assert case.plan is not None
        step = case.plan.next_step()
        if step is None:
            return self.recorder.save(case.moved(CaseStatus.VERIFYING, self.clock.now()))
        if step.status is StepStatus.PROPOSED:
            return self._govern(case)
        recheck = self._recheck(case, step)
        if recheck is not None:
            return recheck
        key = step.run_key or run_key(case, step)
        if step.status is not StepStatus.RUNNING:
            step = step.model_copy(update={"status": StepStatus.RUNNING, "run_key": key})
            case = self.recorder.save(case.changed(self.clock.now(), plan=case.plan.with_step(step)))
        try:
            execution = self.executor.execute(step.call, case_id=case.id, key=key)
        except StateDriftError as exc:
            return self._stop_step(case, step, StepStatus.REFUSED, f"aborted: {exc}")
        except SystemUnavailableError as exc:
            return self._stop_step(case, step, StepStatus.FAILED, str(exc), failed=True)
        except ActionError as exc:
            return self._stop_step(case, step, StepStatus.REFUSED, f"refused by the executor: {exc}")
        run = execution.run
        if not execution.replayed:
            self.governance.observe(step.call, run, self.clock.now())  # the circuit breaker's history
        if not execution.succeeded:
            return self._stop_step(case, step, StepStatus.FAILED, run.error or run.status.value, failed=True)
        done = step.model_copy(update={"status": StepStatus.SUCCEEDED, "result": run.result})
        confirmed = confirmation(done)
        assert case.plan is not None
        case = self.recorder.save(
            case.changed(self.clock.now(), plan=case.plan.with_step(done)),
            say(
                f"{step.call.action} succeeded."
                + (f" Confirmation: {confirmed}." if confirmed else "")
                + ("" if not execution.replayed else " (already done earlier)")
            ),
        )
        return self._govern(case)

    def _recheck(self, case: Case, step: PlanStep) -> Case | None:
        """Time of use: policy is asked again right before the call runs (a freeze may have begun)."""
        assert case.plan is not None
        if step.status is StepStatus.RUNNING:
            return None  # already past the check; resuming a claimed run
        now = self.clock.now()
        decision = self.governance.decide(
            step.call,
            now,
            requester=case.reporter,
            requested=case.kind is CaseKind.REQUEST,
            fresh=True,
            confidence=confidence(case),
        )
        before = step.decision
        if decision.outcome is Outcome.ALLOW:
            return None
        if (
            decision.outcome is Outcome.APPROVE
            and before is not None
            and before.outcome is Outcome.APPROVE
            and (before.approver_group == decision.approver_group)
            and before.quorum >= decision.quorum
        ):
            return None
        note = DecisionNoted.on(step, decision, recheck=True)
        if decision.outcome is Outcome.APPROVE:
            fresh = step.model_copy(update={"decision": decision, "approval_id": None})
            return self._request_approval(case, fresh, note)
        return self._stop_step(
            case,
            step.model_copy(update={"decision": decision}),
            StepStatus.REFUSED,
            "policy changed before it ran: " + "; ".join(decision.reasons),
            note=note,
        )

    def _stop_step(
        self,
        case: Case,
        step: PlanStep,
        status: StepStatus,
        why: str,
        *,
        failed: bool = False,
        note: Note | None = None,
    ) -> Case:
        assert case.plan is not None
        stopped = step.model_copy(update={"status": status, "error": why})
        target = CaseStatus.FAILED if failed else CaseStatus.ESCALATED
        kind = CaseFailed if failed else CaseEscalated
        notes: list[Note] = [kind(reason=why, step=step.index)] if note is None else [note, kind(reason=why)]
        plan = case.plan.with_step(stopped)
        report = [say(stopped_report(plan, case.id))] if is_request_plan(plan) else []
        return self.recorder.save(
            case.moved(target, self.clock.now(), plan=plan),
            *notes,
            say(f"{step.call.action} {status.value}: {why}. A person needs to look at this."),
            *report,
        )
