"""One model per audit kind: what an entry's payload holds, written and read through it.

``PAYLOADS`` maps each ``AuditKind`` to its model; the kind lives on the entry, not inside the payload, so the
union is keyed by the entry's kind (``parse``) rather than by a tag in the JSON. The stored JSON keeps its shape:

- ``dump()`` writes exactly the fields a writer set (``exclude_unset``), so a key a writer leaves out stays out
  and the hash chain and ``audit export`` of existing entries are unchanged;
- every field has a default, so rows written before a field existed still parse;
- unknown keys are kept (``extra="allow"``) and written back as they came, so old databases verify unchanged.

Payloads that are the JSON of a core model (a finding, a plan, an approval, a decision) declare the fields their
readers use and carry the rest as extra keys; build them with ``of`` from the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar, Protocol, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from actiondesk.core.audit import AuditDraft, AuditKind
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.governance import Decision
from actiondesk.core.plan import PlanStep

Number = int | float  # kept as written: an int stays an int, so its JSON does not gain a ".0"


class Payload(BaseModel):
    """The payload of one audit kind (``kind``); subclasses add the fields its writers set."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    kind: ClassVar[AuditKind]

    def dump(self) -> dict[str, JsonValue]:
        """The stored JSON: the fields that were set, extra keys included, nothing filled in."""
        return self.model_dump(mode="json", exclude_unset=True, by_alias=True)

    @classmethod
    def of(cls, model: BaseModel) -> Self:
        """The payload that is ``model``'s JSON (for kinds that record a core model whole)."""
        return cls.model_validate(model.model_dump(mode="json"))

    def draft(self, case_id: str | None, actor: str, at: datetime) -> AuditDraft:
        return AuditDraft(kind=self.kind, case_id=case_id, actor=actor, at=at, payload=self.dump())


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


class SignedIn(Payload):
    kind = AuditKind.SIGNED_IN
    via: str = ""  # how: oidc, demo...
    email: str = ""
    client: str = ""  # the client's address


class AccessRefused(Payload):
    kind = AuditKind.ACCESS_REFUSED
    client: str = ""
    method: str = ""
    path: str = ""
    status: int = 0
    reason: str = ""
    suppressed: int = 0  # refusals from this client left out of the trail since the last one written


class TokenCreated(Payload):
    kind = AuditKind.TOKEN_CREATED
    token: str = ""  # the token's id (never its secret)
    scopes: list[str] = []


class TokenRevoked(Payload):
    kind = AuditKind.TOKEN_REVOKED
    token: str = ""


class HandedOff(Payload):
    kind = AuditKind.HANDED_OFF
    reason: str = ""
    team: str | None = None
    group: str | None = None
    source: str | None = None  # where the owner came from (``service:X``, ``staple:K``, ``default``...)
    people: list[str] = []
    assignment_group: str | None = None
    paged: list[str] = []
    mention: bool | None = None  # the thread line mentions the group (no pager was used)


class Page(Payload):
    """A page trigger or resolution; ``page`` is the ``core.paging.PageDraft`` as JSON."""

    kind = AuditKind.PAGE
    action: str = ""
    dedup_key: str | None = None
    systems: list[str] = []
    page: dict[str, JsonValue] = {}


class PickedUp(Payload):
    kind = AuditKind.PICKED_UP
    by: str = ""
    how: str = ""
    handed_off_at: str | None = None
    after_seconds: Number | None = None
    team: str | None = None
    group: str | None = None


class ActedAlone(Payload):
    """An action ran without approval (levels 2-3), announced to its owner."""

    kind = AuditKind.ACTED_ALONE
    step: int | None = None
    action: str = ""
    params: dict[str, JsonValue] = {}
    run_key: str | None = None
    status: str = ""
    error: str | None = None
    level: int | None = None
    confidence: Number | None = None
    threshold: Number | None = None
    policy_ids: list[str] = []
    reasons: list[str] = []
    service: str | None = None
    title: str | None = None
    team: str | None = None
    group: str | None = None


class Postmortem(Payload):
    """The post-mortem document as JSON (``agents.postmortem.model``)."""

    kind = AuditKind.POSTMORTEM
    summary: str = ""


class PostmortemSummary(Payload):
    """The LLM's paragraph for a post-mortem (``postmortem_seq``: the post-mortem entry it summarises)."""

    kind = AuditKind.POSTMORTEM_SUMMARY
    text: str = ""
    model: str | None = None
    tokens: int | None = None
    postmortem_seq: int | None = None


class ChangeRecorded(Payload):
    """A ``core.catalog.ChangeEvent`` received: every field that is set, the time as ISO 8601 (``of_event``)."""

    kind = AuditKind.CHANGE_RECORDED
    change: str = ""  # the event's id
    service: str = ""
    change_kind: str = Field("", validation_alias="kind", serialization_alias="kind")  # deploy, flag, ...
    at: str = ""
    source: str = ""
    version: str | None = None
    previous_version: str | None = None
    commit: str | None = None
    key: str | None = None
    value: str | None = None
    previous_value: str | None = None
    replicas: int | None = None
    previous_replicas: int | None = None
    author: str | None = None
    url: str | None = None

    @classmethod
    def of_event(cls, event: ChangeEvent) -> ChangeRecorded:
        """The entry for ``event``: its optional fields only when they are set (author and url when not empty)."""
        written: dict[str, JsonValue] = {
            "change": event.id,
            "service": event.service,
            "kind": event.kind,
            "at": event.at.isoformat(),
            "source": event.source,
        }
        for name in ("version", "previous_version", "commit", "key", "value", "previous_value"):
            if (text := getattr(event, name)) is not None:
                written[name] = text
        for name in ("replicas", "previous_replicas"):
            if (count := getattr(event, name)) is not None:
                written[name] = count
        for name in ("author", "url"):
            if text := getattr(event, name):
                written[name] = text
        return cls.model_validate(written)


PAYLOADS: Mapping[AuditKind, type[Payload]] = {
    model.kind: model
    for model in (
        CaseOpened,
        Message,
        Thought,
        FindingNoted,
        PlanNoted,
        DecisionNoted,
        ApprovalRequested,
        ApprovalNoted,
        ActionStarted,
        ActionResult,
        Observation,
        Verification,
        CaseResolved,
        CaseEscalated,
        CaseFailed,
        InjectionSuspected,
        SettingChanged,
        SignedIn,
        AccessRefused,
        TokenCreated,
        TokenRevoked,
        HandedOff,
        Page,
        PickedUp,
        ActedAlone,
        Postmortem,
        PostmortemSummary,
        ChangeRecorded,
    )
}

P = TypeVar("P", bound=Payload)


class Entry(Protocol):
    """An audit entry, stored or about to be (``AuditEntry`` and ``AuditDraft`` both are)."""

    @property
    def kind(self) -> AuditKind: ...

    @property
    def payload(self) -> dict[str, JsonValue]: ...


def parse(entry: Entry) -> Payload:
    """The entry's payload as the model of its kind."""
    return PAYLOADS[entry.kind].model_validate(entry.payload)


def read(entry: Entry, model: type[P]) -> P:
    """The entry's payload as ``model``, which must be the model of the entry's kind."""
    if model.kind is not entry.kind:
        raise ValueError(f"a {entry.kind.value} entry does not hold a {model.__name__}")
    return model.model_validate(entry.payload)
