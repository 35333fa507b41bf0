"""The persisted state of the sandbox estate: plain pydantic models, JSON round-trippable.

Every model is frozen; the estate replaces the whole ``EstateState`` on each mutation, so a reader holding
an older state never sees it change under it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted to UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]


class DeployKind(StrEnum):
    DEPLOY = "deploy"
    ROLLBACK = "rollback"


class FaultKind(StrEnum):
    ERROR_RATE = "error_rate"  # value: fraction of requests answered 5xx
    LATENCY = "latency"  # value: milliseconds added to p99
    CRASH_LOOP = "crash_loop"  # value: fraction of requests lost while pods restart
    DISK_FULL = "disk_full"  # the host's log volume is at 100 %
    NETWORK_DELAY = "network_delay"  # value: ms added to the service and everything that depends on it
    ACCOUNT_LOCKED = "account_locked"  # the user's VPN session is locked
    CPU_SATURATION = "cpu_saturation"  # value: CPU percentage points added (latency follows when it saturates)
    IMAGE_PULL = "image_pull"  # value: fraction of requests lost while the new pods cannot pull their image
    UNAVAILABLE = "unavailable"  # a managed system (identity, procurement, directory) answers nothing but errors


class SessionStatus(StrEnum):
    ACTIVE = "active"
    LOCKED = "locked"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OwnerRecord(_Frozen):
    """The team a service belongs to and the directory group on call for it."""

    team: str = Field(min_length=1)
    group: str = Field(min_length=1)


class ServiceRecord(_Frozen):
    name: str
    tier: int = Field(ge=0)
    environment: str
    version: str
    depends_on: tuple[str, ...] = ()
    calls: tuple[str, ...] = Field(
        default=(),
        description="Services it also calls that its catalog entry does not declare (a stale topology): requests "
        "and failures flow along them, but the Inventory does not show them.",
    )
    aliases: tuple[str, ...] = ()
    description: str = ""
    baseline_error_rate: float = Field(default=0.003, ge=0.0, le=1.0)
    baseline_latency_ms: float = Field(default=180.0, gt=0.0, description="p95 latency when healthy.")
    baseline_cpu_pct: float = Field(default=35.0, gt=0.0, le=100.0, description="CPU use at the nominal replicas.")
    replicas: int = Field(default=2, ge=0)
    config: dict[str, str] = Field(default_factory=dict)
    flags: dict[str, str] = Field(default_factory=dict)
    owner: OwnerRecord | None = None


class DeploymentRecord(_Frozen):
    id: str
    service: str
    version: str
    commit: str
    deployed_at: UtcDatetime
    author: str
    kind: DeployKind = DeployKind.DEPLOY
    scripted: bool = Field(default=False, description="True when a scenario event made it, not seeded history.")
    reason: str = ""


class FaultRecord(_Frozen):
    id: str
    service: str | None
    kind: FaultKind
    value: float = 0.0
    start: UtcDatetime
    end: UtcDatetime | None = None
    bound_version: str | None = Field(
        default=None, description="Active only while the service runs this version; None = any version."
    )
    bound_change: str | None = Field(
        default=None,
        description="Active only while the config key, flag or replica count set by this change still holds.",
    )
    user: str | None = None
    host: str | None = None
    system: str | None = None  # for an unavailable fault: identity, procurement or directory


class ChangeKind(StrEnum):
    CONFIG_CHANGE = "config_change"  # detail: key, value, previous (absent when the key was new)
    FLAG = "flag"  # detail: key, value, previous
    SCALE = "scale"  # detail: replicas, previous
    RESTART = "restart"  # detail: replicas


class ChangeRecord(_Frozen):
    id: str
    service: str
    kind: ChangeKind
    at: UtcDatetime
    detail: dict[str, str] = Field(default_factory=dict)
    author: str = ""
    scripted: bool = Field(default=False, description="True when a scenario event made it, not the agent.")


class LogVolume(_Frozen):
    host: str
    path: str
    used_pct: float = Field(ge=0.0, le=100.0)
    size_gb: float = 50.0


class VpnState(_Frozen):
    name: str = "corp-vpn"
    gateway: str = "vpn.example.com"
    sessions: dict[str, SessionStatus] = Field(default_factory=dict)


class PersonRecord(_Frozen):
    email: str
    groups: tuple[str, ...] = ()
    slack_user_id: str | None = None
    teams_aad_object_id: str | None = None


class PurchaseRequest(_Frozen):
    id: str
    requester: str
    item: str
    quantity: int = Field(default=1, ge=1)
    status: str = "submitted"
    created_at: UtcDatetime
    number: str = ""
    reference: str = ""
    kind: str = "order"  # order | return
    requested_for: str = ""


class AccountRecord(_Frozen):
    """An account in the sandbox's identity provider (what a SCIM server would hold)."""

    id: str
    user_name: str
    external_id: str | None = None
    display_name: str = ""
    email: str = ""
    active: bool = True
    manager: str | None = None
    title: str | None = None
    entitlements: tuple[str, ...] = ()


class EstateState(_Frozen):
    """Everything the sandbox knows. ``model_dump_json`` / ``model_validate_json`` round-trip it."""

    schema_version: int = 1
    services: tuple[ServiceRecord, ...] = ()
    deployments: tuple[DeploymentRecord, ...] = ()
    faults: tuple[FaultRecord, ...] = ()
    changes: tuple[ChangeRecord, ...] = ()
    volumes: tuple[LogVolume, ...] = ()
    vpn: VpnState = Field(default_factory=VpnState)
    people: dict[str, PersonRecord] = Field(default_factory=dict)
    erp: tuple[PurchaseRequest, ...] = ()
    accounts: dict[str, AccountRecord] = Field(default_factory=dict)  # by id
    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)  # directory group -> member user names
