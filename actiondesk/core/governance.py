"""Governance vocabulary: the trust ladder, risk classes and decisions."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from pydantic import BaseModel, ConfigDict, Field


class AutonomyLevel(IntEnum):
    SUGGEST = 0  # show the exact call; a human runs it
    APPROVE = 1  # prepare the call; an authorised approver clicks Approve
    GUARDED = 2  # run and notify, except high-risk and production changes, which ask
    AUTONOMOUS = 3  # run and log


class Risk(StrEnum):
    READ = "read"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Outcome(StrEnum):
    ALLOW = "allow"
    APPROVE = "approve"
    SUGGEST = "suggest"
    DENY = "deny"


class Decision(BaseModel):
    """What governance decided for one proposed call, and why. Computed from policy data only."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    policy_ids: tuple[str, ...] = Field(description="Ids of the policy rules that decided.")
    reasons: tuple[str, ...]
    autonomy_level: AutonomyLevel
    approver_group: str | None = None
    quorum: int = 1
    expires_in_seconds: int | None = None
    production: bool = False
    policy_hash: str = ""
    confidence: float | None = Field(default=None, description="The diagnosis' confidence the policies saw.")
    confidence_threshold: float | None = Field(default=None, description="The target's threshold for level 3.")
