"""A case: an incident or a service request, living in one chat thread, moving through fixed states."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from actiondesk.core.errors import InvalidTransitionError
from actiondesk.core.finding import Finding
from actiondesk.core.plan import Plan


class CaseKind(StrEnum):
    INCIDENT = "incident"
    REQUEST = "request"
    QUESTION = "question"


class CaseStatus(StrEnum):
    OPEN = "open"
    TRIAGING = "triaging"
    WATCHING = "watching"  # an early report: triage re-reads the signals at ``wake_at`` until they tell
    AWAITING_REPLY = "awaiting_reply"  # triage asked the reporter a question; ``wake_at`` is when it gives up
    PLANNING = "planning"
    AWAITING_APPROVAL = "awaiting_approval"
    ACTING = "acting"
    VERIFYING = "verifying"
    SCHEDULED = "scheduled"  # the next step may not run before its date (a start date, a last day)
    RESOLVED = "resolved"
    ESCALATED = "escalated"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({CaseStatus.RESOLVED, CaseStatus.ESCALATED, CaseStatus.FAILED})

_S = CaseStatus
TRANSITIONS: dict[CaseStatus, frozenset[CaseStatus]] = {
    _S.OPEN: frozenset({_S.TRIAGING, _S.ACTING, _S.ESCALATED, _S.FAILED}),  # ACTING: a request's plan is known
    _S.TRIAGING: frozenset({_S.PLANNING, _S.WATCHING, _S.AWAITING_REPLY, _S.ESCALATED, _S.FAILED}),
    _S.WATCHING: frozenset({_S.TRIAGING, _S.ESCALATED, _S.FAILED}),
    _S.AWAITING_REPLY: frozenset({_S.TRIAGING, _S.ESCALATED, _S.FAILED}),
    _S.PLANNING: frozenset({_S.AWAITING_APPROVAL, _S.ACTING, _S.SCHEDULED, _S.ESCALATED, _S.FAILED}),
    _S.AWAITING_APPROVAL: frozenset({_S.ACTING, _S.PLANNING, _S.ESCALATED, _S.FAILED}),
    _S.ACTING: frozenset(
        {_S.PLANNING, _S.AWAITING_APPROVAL, _S.ACTING, _S.VERIFYING, _S.SCHEDULED, _S.ESCALATED, _S.FAILED}
    ),
    _S.SCHEDULED: frozenset({_S.ACTING, _S.ESCALATED, _S.FAILED}),
    _S.VERIFYING: frozenset({_S.RESOLVED, _S.PLANNING, _S.ESCALATED, _S.FAILED}),
    # A human reply on a closed case reopens it for triage.
    _S.RESOLVED: frozenset({_S.TRIAGING}),
    _S.ESCALATED: frozenset({_S.TRIAGING, _S.RESOLVED}),
    _S.FAILED: frozenset({_S.TRIAGING, _S.ESCALATED}),  # ESCALATED: a person takes a failed request over
}


class Case(BaseModel):
    """One case. Persisted; every change is saved with an optimistic ``version`` check."""

    model_config = ConfigDict(frozen=True)

    id: str
    kind: CaseKind
    status: CaseStatus = CaseStatus.OPEN
    title: str
    text: str = Field(description="The reporter's first message, verbatim (untrusted).")
    reporter: str = Field(description="Directory name of the person (or system) that opened the case.")
    surface: str = "console"
    thread: dict[str, str] = Field(default_factory=dict, description="Surface-specific conversation reference.")
    service: str | None = None
    finding: Finding | None = None
    plan: Plan | None = None
    steps_taken: int = 0
    tags: tuple[str, ...] = ()
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None = None
    wake_at: datetime | None = Field(
        default=None, description="When a watching case re-reads its signals, or a question goes unanswered."
    )
    watch_until: datetime | None = Field(default=None, description="When watching an early report ends.")
    reopened: int = 0
    llm_calls: int = 0
    tokens: int = 0
    cost_usd: float = 0.0
    version: int = 0

    def moved(self, status: CaseStatus, at: datetime, **changes: object) -> Case:
        """Return this case in ``status``; raise if the current state does not lead there."""
        if status not in TRANSITIONS[self.status]:
            raise InvalidTransitionError(f"case {self.id}: {self.status} does not lead to {status}")
        update: dict[str, object] = {"status": status, "updated_at": at, **changes}
        if status is CaseStatus.RESOLVED:
            update.setdefault("resolved_at", at)
        if self.status.terminal:
            update["reopened"] = self.reopened + 1
            update.setdefault("resolved_at", None)
        return self.model_copy(update=update)

    def changed(self, at: datetime, **changes: object) -> Case:
        """Return this case with fields changed but the state kept."""
        return self.model_copy(update={"updated_at": at, **changes})
