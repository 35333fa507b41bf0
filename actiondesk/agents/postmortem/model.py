"""The post-mortem as data: every field is a stored fact or computed from stored facts."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Moment(_Frozen):
    """One line of the timeline."""

    at: datetime
    actor: str
    kind: str
    what: str


class Impact(_Frozen):
    service: str | None
    tier: int | None = None
    environment: str | None = None
    started_at: datetime | None = None  # the signal's onset (triage's reading)
    detected_at: datetime  # the case opened: a report or an alert
    detected_by: str
    mitigated_at: datetime | None = None  # the first change that succeeded
    resolved_at: datetime | None = None  # verified back to baseline
    duration_seconds: float | None = None  # onset (else detection) to resolution
    signals: tuple[str, ...] = ()


class RootCause(_Frozen):
    kind: str
    summary: str
    confidence: float
    service: str | None = None
    version: str | None = None
    commit: str | None = None
    previous_version: str | None = None
    deployed_at: datetime | None = None  # when the change was made (any kind; the name is the first kind's)
    deployed_by: str | None = None  # who made it
    change_kind: str | None = None  # deploy, rollback, config_change, flag or scale
    change: str | None = None  # the change as people read it: "cart feature flag cartFailure=true"
    evidence: tuple[str, ...] = ()


class ActionTaken(_Frozen):
    at: datetime
    action: str
    params: str
    target: str | None
    decided: str  # allow / approve / suggest / deny
    level: int | None
    proposed_by: str  # the agent, or a person who asked for exactly this call
    approved_by: tuple[str, ...] = ()
    ran_by: str  # the agent's identity: the executor is the only door
    result: str
    error: str | None = None
    run_key: str | None = None


class ApprovalFact(_Frozen):
    id: str
    action: str
    target: str
    group: str
    requested_at: datetime
    status: str
    decided_by: str | None = None
    decided_at: datetime | None = None
    wait_seconds: float | None = None
    break_glass: bool = False


class FollowUp(_Frozen):
    text: str
    owner: str


class PostMortem(_Frozen):
    case_id: str
    title: str
    reporter: str
    surface: str
    owner_team: str
    owner_group: str
    opened_at: datetime
    resolved_at: datetime | None
    summary: str
    impact: Impact
    root_cause: RootCause | None
    timeline: tuple[Moment, ...]
    actions: tuple[ActionTaken, ...]
    approvals: tuple[ApprovalFact, ...]
    mttr_seconds: float | None
    time_to_detect_seconds: float | None
    time_to_mitigate_seconds: float | None
    approval_wait_seconds: float
    hand_offs: tuple[str, ...] = ()
    earlier: tuple[str, ...] = ()
    follow_ups: tuple[FollowUp, ...] = ()
    written_at: datetime
    model_summary: str | None = None  # a model's paragraph, added afterwards when one is configured
