"""The request checklist shown in the thread (ticked in place as steps land) and the report of a stopped chain.

Every line is computed from the stored plan: the agent, the call, its state and the confirmation id the
system returned (the SCIM id, the request number, the group's DN), never from a model's words.
"""

from __future__ import annotations

from actiondesk.core.plan import Plan, PlanStep, StepStatus

TICK = {
    StepStatus.SUCCEEDED: "[x]",
    StepStatus.FAILED: "[!]",
    StepStatus.REFUSED: "[!]",
    StepStatus.RUNNING: "[~]",
    StepStatus.AWAITING_APPROVAL: "[?]",
}


def confirmation(step: PlanStep) -> str | None:
    """The id the system confirmed the step with, once it succeeded."""
    result = step.result or {}
    value = result.get("confirmation")
    return str(value) if value else None


def subject(step: PlanStep) -> str:
    params = step.call.params
    for key in ("group", "item", "order", "reference"):
        if key in params:
            return f"{params.get('user', '')} {params[key]}".strip()
    return str(params.get("user", ""))


def line(step: PlanStep) -> str:
    """``[x] Identity · create_account jdoe → 2819c223…`` and the like."""
    agent = (step.agent or "step").title()
    head = f"{TICK.get(step.status, '[ ]')} {agent} · {step.call.action} {subject(step)}"
    done = confirmation(step)
    if done:
        return f"{head} → {done}"
    if step.status in (StepStatus.FAILED, StepStatus.REFUSED) and step.error:
        return f"{head}: {step.error}"
    if step.not_before is not None and step.status is StepStatus.PROPOSED:
        return f"{head} (on {step.not_before:%Y-%m-%d %H:%M} UTC)"
    return head


def checklist(plan: Plan) -> list[str]:
    return [line(s) for s in plan.steps]


def is_request_plan(plan: Plan | None) -> bool:
    return plan is not None and any(s.agent for s in plan.steps)


def stopped_report(plan: Plan, case_id: str) -> str:
    """What a stopped chain leaves behind, with the ids, and what can be done about it."""
    done = [s for s in plan.steps if s.status is StepStatus.SUCCEEDED]
    left = [s for s in plan.steps if s.status is not StepStatus.SUCCEEDED]
    lines = ["The request stopped part-way."]
    if done:
        lines.append(
            "Completed: " + "; ".join(f"{s.call.action} {subject(s)} ({confirmation(s) or 'done'})" for s in done)
        )
    lines.append("Not done: " + "; ".join(f"{s.call.action} {subject(s)}" for s in left))
    if done:
        lines.append(
            f"Undo the completed steps (each through policy) with Compensate, `actiondesk compensate {case_id}` or "
            f"`/actiondesk compensate {case_id}`, or hand it to a person with Hand off "
            f"(`actiondesk handoff {case_id}`); once the cause is fixed, the same request can be sent again: "
            "nothing is created twice."
        )
    return "\n".join(lines)
