"""What triage found: a cause with its evidence and confidence, or an honest abstention."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class FindingKind(StrEnum):
    BAD_DEPLOY = "bad_deploy"  # an error-rate onset follows a deployment closely
    UNEXPLAINED_ANOMALY = "unexplained_anomaly"  # the signal is bad but no change precedes it
    NO_ANOMALY = "no_anomaly"  # the telemetry looks healthy
    UNKNOWN_SERVICE = "unknown_service"  # the message names no service of the estate
    REQUEST = "request"  # a service request: no fault to explain
    VPN_LOCKED = "vpn_locked"  # a person's VPN session is locked
    DISK_FULL = "disk_full"  # a host's log volume is (nearly) full
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a finding kind, not a secret


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str = Field(description="The read-only action that produced it, e.g. get_error_rate.")
    summary: str
    data: dict[str, JsonValue] = Field(default_factory=dict)


class Culprit(BaseModel):
    """The change that the evidence points at."""

    model_config = ConfigDict(frozen=True)

    service: str
    version: str
    commit: str
    deployed_at: datetime
    previous_version: str | None
    previous_commit: str | None


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FindingKind
    service: str | None
    subject: str | None = Field(default=None, description="The person or host a service-desk staple concerns.")
    summary: str
    confidence: float = Field(ge=0.0, le=1.0)
    abstained: bool = Field(description="True when triage says 'I can't tell yet' instead of naming a cause.")
    culprit: Culprit | None = None
    onset: datetime | None = None
    baseline: float | None = None
    peak: float | None = None
    evidence: tuple[Evidence, ...] = ()
