"""Approvals: a request for named approvers to let one planned call run."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from actiondesk.core.plan import ActionCall


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Approval(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    case_id: str
    step_index: int
    call: ActionCall
    target: str
    group: str
    quorum: int = 1
    production: bool
    status: ApprovalStatus = ApprovalStatus.PENDING
    requested_by: str
    proposed_by: str
    reasons: tuple[str, ...] = ()
    policy_ids: tuple[str, ...] = ()
    created_at: datetime
    expires_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None
