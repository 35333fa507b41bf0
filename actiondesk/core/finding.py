"""What triage found: a cause with its evidence and confidence, or an honest abstention."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, JsonValue


class FindingKind(StrEnum):
    BAD_DEPLOY = "bad_deploy"  # an onset follows a deployment closely
    BAD_CONFIG = "bad_config"  # an onset follows a configuration change closely
    BAD_FLAG = "bad_flag"  # an onset follows a feature-flag change closely
    BAD_SCALE = "bad_scale"  # an onset follows a scaling closely
    UNEXPLAINED_ANOMALY = "unexplained_anomaly"  # the signal is bad but no change precedes it
    NO_ANOMALY = "no_anomaly"  # the telemetry looks healthy
    NO_EVIDENCE = "no_evidence"  # the signals could not be read (their system is down or refuses): no conclusion
    UNKNOWN_SERVICE = "unknown_service"  # the message names no service of the estate (or several could be meant)
    REQUEST = "request"  # a service request: no fault to explain
    VPN_LOCKED = "vpn_locked"  # a person's VPN session is locked
    DISK_FULL = "disk_full"  # a host's log volume is (nearly) full
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a finding kind, not a secret


class Evidence(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: str = Field(description="The read-only action that produced it, e.g. get_error_rate.")
    summary: str
    data: dict[str, JsonValue] = Field(default_factory=dict)


CHANGE_FINDINGS: dict[str, FindingKind] = {
    "deploy": FindingKind.BAD_DEPLOY,
    "rollback": FindingKind.BAD_DEPLOY,
    "config_change": FindingKind.BAD_CONFIG,
    "flag": FindingKind.BAD_FLAG,
    "scale": FindingKind.BAD_SCALE,
}


class Culprit(BaseModel):
    """The change that the evidence points at: a deploy, a config change, a feature flag or a scaling.

    The fields of its kind are set: version, commit and the previous ones for a deploy; key, value and
    previous_value for a config change or a flag; replicas and previous_replicas for a scaling.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    service: str
    kind: str = "deploy"
    at: datetime = Field(validation_alias=AliasChoices("at", "deployed_at"), description="When the change was made.")
    change_id: str | None = None
    author: str | None = None
    version: str | None = None
    commit: str | None = None
    previous_version: str | None = None
    previous_commit: str | None = None
    key: str | None = None
    value: str | None = None
    previous_value: str | None = None
    replicas: int | None = None
    previous_replicas: int | None = None

    @property
    def deployed_at(self) -> datetime:
        return self.at

    def described(self, *, with_previous: bool = False) -> str:
        """As people read it: ``shipping v1.9.0 (5be1c0d)``, ``cart config cartFailure=true`` (with the value before
        it too, when ``with_previous``: ``(was false)``, or ``(new)`` for a key that did not exist)."""
        if self.kind == "deploy":
            return f"{self.service} {self.version} ({self.commit})"
        if self.kind == "rollback":
            return f"the rollback of {self.service} to {self.version} ({self.commit})"
        if self.kind in ("config_change", "flag"):
            what = "config" if self.kind == "config_change" else "feature flag"
            was = "" if not with_previous else f" (was {self.previous_value})" if self.previous_value else " (new)"
            return f"{self.service} {what} {self.key}={self.value}{was}"
        if self.kind == "scale":
            return f"{self.service} scaled from {self.previous_replicas} to {self.replicas} replicas"
        return f"{self.service} {self.kind}"

    def change(self) -> dict[str, JsonValue]:
        """The change's kind and fields (the scenario report's ``root_cause.change``)."""
        fields = {
            "deploy": ("version", "commit", "previous_version"),
            "rollback": ("version", "commit", "previous_version"),
            "config_change": ("key", "value", "previous_value"),
            "flag": ("key", "value", "previous_value"),
            "scale": ("replicas", "previous_replicas"),
        }.get(self.kind, ())
        return {"kind": self.kind, **{name: getattr(self, name) for name in fields}}


class ChainLink(BaseModel):
    """One anomalous service on the way from the reported service to the cause, with its earliest onset."""

    model_config = ConfigDict(frozen=True)

    service: str
    signal: str = Field(description="error_rate, latency, cpu, unready or restarts.")
    onset: datetime
    baseline: float
    peak: float


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
    signal: str | None = Field(
        default=None, description="The symptom ``baseline``/``peak`` describe (error_rate when not set)."
    )
    chain: tuple[ChainLink, ...] = Field(
        default=(), description="The anomalous services from the reported one to the cause, with their onsets."
    )
    services: tuple[str, ...] = Field(default=(), description="The services triage investigated.")
    question: str | None = Field(default=None, description="What triage asks the reporter when it cannot tell.")
    candidates: tuple[str, ...] = Field(default=(), description="The answers it offers (services).")
