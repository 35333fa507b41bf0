"""Plans: ordered calls into the action catalog, each decided by governance before it runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from actiondesk.core.governance import Decision


class ActionCall(BaseModel):
    """A proposed call of one catalog action. Parameters are validated by the executor, not trusted."""

    model_config = ConfigDict(frozen=True)

    action: str = Field(description="Stable verb_noun name of a catalog action.")
    params: dict[str, JsonValue] = Field(default_factory=dict)


class StepStatus(StrEnum):
    PROPOSED = "proposed"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUSED = "refused"  # governance denied it, an approver rejected it, or the executor refused it
    SUGGESTED = "suggested"  # shown to a human to run
    NOT_RUN = "not_run"


class PlanStep(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    call: ActionCall
    rationale: str
    status: StepStatus = StepStatus.PROPOSED
    decision: Decision | None = None
    approval_id: str | None = None
    run_key: str | None = None
    result: dict[str, JsonValue] | None = None
    error: str | None = None
    agent: str | None = Field(default=None, description="The agent a request's step belongs to: identity, hardware…")
    not_before: datetime | None = Field(default=None, description="The step does not run before this time.")


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    runbook: str = Field(description="Name of the runbook (or planner) that produced the plan.")
    goal: str
    steps: tuple[PlanStep, ...]

    def with_step(self, step: PlanStep) -> Plan:
        steps = list(self.steps)
        steps[step.index] = step
        return self.model_copy(update={"steps": tuple(steps)})

    def next_step(self) -> PlanStep | None:
        """The first step not yet finished one way or the other."""
        done = {
            StepStatus.SUCCEEDED,
            StepStatus.FAILED,
            StepStatus.REFUSED,
            StepStatus.SUGGESTED,
            StepStatus.NOT_RUN,
        }
        return next((s for s in self.steps if s.status not in done), None)
