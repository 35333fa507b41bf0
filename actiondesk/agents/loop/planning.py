"""The planning stage: a runbook's plan, or the model planner's next step, each handed to governance."""

from __future__ import annotations

from actiondesk.agents.llm import LLM_RUNBOOK, LlmOutcome
from actiondesk.agents.loop.acting import Acting
from actiondesk.agents.loop.base import shown
from actiondesk.agents.record import say
from actiondesk.core.audit_payloads import CaseEscalated, PlanNoted
from actiondesk.core.case import Case, CaseStatus


class Planning(Acting):
    """Turning a finding into a plan (a runbook's or the model's)."""

    def _plan(self, case: Case) -> Case:
        assert case.finding is not None
        if self.planning == "llm" or (case.plan is not None and case.plan.runbook == LLM_RUNBOOK):
            return self._plan_llm(case)
        plan = self.planner.plan(case, case.finding)
        if plan is None and self.planning == "auto":
            return self._plan_llm(case)
        if plan is None:
            return self._escalate(case, "no runbook fits this finding")
        steps = "; ".join(shown(s.call) for s in plan.steps)
        case = self.recorder.save(
            case.changed(self.clock.now(), plan=plan),
            PlanNoted.of(plan),
            say(f"Plan ({plan.runbook}): {plan.goal}. Steps: {steps}"),
        )
        return self._govern(case)

    def _plan_llm(self, case: Case) -> Case:
        """One pass of the model planner: a proposed step the loop governs, the model's final word, or a hand-off."""
        assert self.llm is not None
        assert case.finding is not None
        out: LlmOutcome = self.llm.next(case, self.thread(case))
        now = self.clock.now()
        case = case.changed(
            now,
            llm_calls=case.llm_calls + out.calls,
            tokens=case.tokens + out.tokens,
            cost_usd=case.cost_usd + out.cost_usd,
        )
        if out.unavailable is not None:
            fallback = None if case.plan is not None or case.finding is None else self.planner.plan(case, case.finding)
            if fallback is None:
                return self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, now),
                    *out.notes,
                    CaseEscalated(reason=f"model unavailable: {out.unavailable}"),
                    say(f"Handing this to a human: the model is unavailable ({out.unavailable})."),
                )
            case = self.recorder.save(
                case.changed(now, plan=fallback),
                *out.notes,
                PlanNoted.of(fallback),
                say(f"The model is unavailable; following runbook {fallback.runbook}: {fallback.goal}."),
            )
            return self._govern(case)
        if out.plan is None:
            why = out.escalate or "the model gave no plan"
            return self.recorder.save(
                case.moved(CaseStatus.ESCALATED, now),
                *out.notes,
                CaseEscalated(reason=why),
                say(f"Handing this to a human: {why}"),
            )
        plan = out.plan
        proposed = plan.next_step()
        line = f"Next step: {shown(proposed.call)}" if proposed is not None else f"Done: {plan.goal}"
        planned = case.changed(now, plan=plan) if proposed else case.moved(CaseStatus.ACTING, now, plan=plan)
        case = self.recorder.save(planned, *out.notes, PlanNoted.of(plan), say(line))
        return self._govern(case)
