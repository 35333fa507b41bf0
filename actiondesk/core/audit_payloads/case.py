"""The payloads of a case's own work: opened, messages, thoughts, finding, plan, decisions, approvals, actions,
verification, how it stopped, and the settings the breaker and controls change."""

from __future__ import annotations

from pydantic import ConfigDict, Field, JsonValue

from actiondesk.core.audit import AuditKind
from actiondesk.core.audit_payloads.base import Number, Payload
from actiondesk.core.governance import Decision
from actiondesk.core.plan import PlanStep


class CaseOpened(Payload):
    kind = AuditKind.CASE_OPENED
    case_kind: str = Field("", validation_alias="kind", serialization_alias="kind")  # incident or request
    title: str = ""
    surface: str = ""
    reporter: str = ""


class Message(Payload):
    kind = AuditKind.MESSAGE
    text: str = ""
    choices: list[str] | None = None  # the options of a question the agent asked
    approval_id: str | None = None
    reply_to: str | None = None  # whose reply this answers
    postmortem: bool | None = None
    hand_off: bool | None = None
    take: bool | None = None  # a person's Take it
    outbox_id: int | None = None  # a notice about a ticket write or page: its outbox row and system
    system: str | None = None


class Thought(Payload):
    """A step of the LLM's reasoning (``event``): a prompt, a response, a proposal, a correction, a culprit it
    named, or the model being unavailable; each event sets its own fields."""

    model_config = ConfigDict(protected_namespaces=())  # "model_reason" is a stored key
    kind = AuditKind.THOUGHT
    event: str = ""
    turn: int | None = None  # prompt, response: the case's model call
    messages: list[JsonValue] = []  # prompt: the messages new this turn, redacted
    tools: list[str] = []  # prompt: the tools offered
    model: str | None = None  # response
    text: str | None = None
    tool_calls: list[dict[str, JsonValue]] = []
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: Number | None = None
    action: str | None = None  # proposal: the mutating call proposed, with its redacted params
    params: dict[str, JsonValue] = {}
    tool: str | None = None  # correction: the tool the model called wrongly, and why
    error: str | None = None  # correction, model_unavailable
    service: str | None = None  # culprit_proposed: what the model named and what the check found
    change_id: str | None = None
    model_reason: str | None = None
    confirmed: bool | None = None
    check: str | None = None


class FindingNoted(Payload):
    """A ``core.finding.Finding`` as JSON."""

    kind = AuditKind.FINDING
    finding_kind: str | None = Field(None, validation_alias="kind", serialization_alias="kind")
    summary: str = ""
    service: str | None = None
    confidence: Number | None = None
    abstained: bool = False
    evidence: list[dict[str, JsonValue]] = []


class PlanNoted(Payload):
    """A ``core.plan.Plan`` as JSON."""

    kind = AuditKind.PLAN
    runbook: str = ""
    goal: str = ""


class DecisionNoted(Payload):
    """A governance decision on one step: the step, its call and the ``core.governance.Decision`` as JSON."""

    kind = AuditKind.DECISION
    step: int | None = None
    action: str = ""
    params: dict[str, JsonValue] = {}
    recheck: bool = False  # decided again just before the step ran
    outcome: str = ""
    autonomy_level: int | None = None
    policy_ids: list[str] = []

    @classmethod
    def on(cls, step: PlanStep, decision: Decision, *, recheck: bool = False) -> DecisionNoted:
        """The decision on ``step``; ``recheck`` when it was taken again right before the step ran."""
        again: dict[str, JsonValue] = {"recheck": True} if recheck else {}
        return cls.model_validate(
            {
                "step": step.index,
                "action": step.call.action,
                "params": step.call.params,
                **again,
                **decision.model_dump(mode="json"),
            }
        )


class ApprovalRequested(Payload):
    """A ``core.approval.Approval`` as JSON."""

    kind = AuditKind.APPROVAL_REQUESTED
    id: str = ""
    group: str = ""
    target: str | None = None
    call: dict[str, JsonValue] = {}
    reasons: list[str] = []

    @property
    def action(self) -> str | None:
        action = self.call.get("action")
        return action if isinstance(action, str) else None


class ApprovalNoted(Payload):
    """A decision on an approval, or one vote of a quorum."""

    kind = AuditKind.APPROVAL
    approval_id: str = ""
    status: str = ""
    by: str | None = None
    reason: str | None = None
    break_glass: bool = False
    action: str | None = None
    votes: int | None = None  # approvals so far, on a vote of a quorum or an escalation
    quorum: int | None = None
    to: str | None = None  # the group an unanswered approval was escalated to


class ActionStarted(Payload):
    kind = AuditKind.ACTION_STARTED
    action: str = ""
    params: dict[str, JsonValue] = {}
    key: str = ""
    target: str | None = None


class ActionResult(Payload):
    kind = AuditKind.ACTION_RESULT
    action: str = ""
    params: dict[str, JsonValue] = {}  # set when the executor refused the call before it ran
    key: str | None = None  # the run's idempotency key (None: a refused call that had none)
    status: str = ""
    result: JsonValue = None
    error: str | None = None


class Observation(Payload):
    """What a read-only probe returned."""

    kind = AuditKind.OBSERVATION
    action: str = ""
    params: dict[str, JsonValue] = {}
    summary: str = ""
    output: JsonValue = None


class Verification(Payload):
    """One check of the signals after the actions ran (``signal`` "actions" when only the runs were checked)."""

    kind = AuditKind.VERIFICATION
    signal: str | None = None
    service: str | None = None
    baseline: Number | None = None
    current: Number | None = None
    limit: Number | None = None
    ok: bool | None = None
    checks: list[dict[str, JsonValue]] = []  # one per (service, signal) checked; the head one is repeated above


class CaseResolved(Payload):
    kind = AuditKind.CASE_RESOLVED
    runbook: str | None = None


class CaseStopped(Payload):
    """The agent stopped working the case: why, and at which step when a step stopped it."""

    reason: str = ""
    step: int | None = None


class CaseEscalated(CaseStopped):
    kind = AuditKind.CASE_ESCALATED


class CaseFailed(CaseStopped):
    kind = AuditKind.CASE_FAILED


class InjectionSuspected(Payload):
    kind = AuditKind.INJECTION_SUSPECTED
    source: str = ""
    why: str = ""


class SettingChanged(Payload):
    """A governance control changed (kill switch, autonomy, chaos day, freeze; each adds its own keys) or the
    circuit breaker reset by a person."""

    kind = AuditKind.SETTING_CHANGED
    setting: str = ""
    action: str | None = None
    target: str | None = None
    was_open: bool | None = None
