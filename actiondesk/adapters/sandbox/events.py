"""Scenario events: what happens to the world (deploy, config_change, flag, scale, fault) and what people say
and click (message, reply, alert, approve, reject).

World events are applied by ``SandboxEstate.apply``; conversation events are played by the scenario runner.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from actiondesk.adapters.sandbox.world import FaultKind, UtcDatetime

# Default size of a fault when the scenario gives no ``value``.
DEFAULT_FAULT_VALUE: dict[FaultKind, float] = {
    FaultKind.ERROR_RATE: 0.3,
    FaultKind.LATENCY: 800.0,
    FaultKind.CRASH_LOOP: 0.5,
    FaultKind.NETWORK_DELAY: 300.0,
    FaultKind.DISK_FULL: 100.0,
    FaultKind.ACCOUNT_LOCKED: 0.0,
    FaultKind.CPU_SATURATION: 55.0,
    FaultKind.IMAGE_PULL: 1.0,
    FaultKind.UNAVAILABLE: 0.0,
}
SERVICE_FAULTS = frozenset(
    {
        FaultKind.ERROR_RATE,
        FaultKind.LATENCY,
        FaultKind.CRASH_LOOP,
        FaultKind.NETWORK_DELAY,
        FaultKind.CPU_SATURATION,
        FaultKind.IMAGE_PULL,
    }
)
FRACTION_FAULTS = frozenset({FaultKind.ERROR_RATE, FaultKind.CRASH_LOOP, FaultKind.IMAGE_PULL})
STATE_FAULTS = frozenset({FaultKind.DISK_FULL, FaultKind.ACCOUNT_LOCKED})


def _scalar_text(value: object) -> object:
    """YAML scalars become text (``true`` -> ``"true"``); anything else is left for pydantic to refuse."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


ScalarText = Annotated[str, BeforeValidator(_scalar_text)]


def _commit(value: str) -> str:
    if not re.fullmatch(r"[0-9a-f]{7,40}", value):
        raise ValueError(f"a commit is 7 to 40 lowercase hex digits, like 9f3c2ab (got {value!r})")
    return value


Commit = Annotated[str, BeforeValidator(_scalar_text), AfterValidator(_commit)]  # YAML reads 1234567 as a number


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DeployEvent(_Event):
    service: str
    version: str = Field(min_length=1)
    commit: Commit
    author: str = "deploy-bot"


class ConfigChangeEvent(_Event):
    service: str
    key: str = Field(min_length=1)
    value: ScalarText
    author: str = "deploy-bot"


class FlagEvent(_Event):
    """A feature flag switched for a service (like an OpenFeature flag in the astronomy-shop demo)."""

    service: str
    key: str = Field(min_length=1)
    value: ScalarText
    author: str = "deploy-bot"


class ScaleEvent(_Event):
    service: str
    replicas: int = Field(ge=0)
    author: str = "deploy-bot"


class FaultEvent(_Event):
    service: str | None = None
    kind: FaultKind
    value: float | None = Field(default=None, ge=0.0)
    duration: float | None = Field(default=None, gt=0.0, description="Seconds after which the fault ends.")
    user: str | None = None
    host: str | None = None
    independent: bool = Field(
        default=False,
        description="True: no change caused it (it is not bound to the service's newest change; no revert ends it).",
    )
    system: Literal["identity", "procurement", "directory"] | None = Field(
        default=None, description="The managed system an unavailable fault takes down."
    )

    @model_validator(mode="after")
    def _fits_kind(self) -> FaultEvent:
        if (self.kind is FaultKind.UNAVAILABLE) != (self.system is not None):
            raise ValueError("an unavailable fault names a system (identity, procurement, directory), and only it")
        if self.kind in SERVICE_FAULTS and self.service is None:
            raise ValueError(f"a {self.kind} fault needs a service")
        if self.kind in FRACTION_FAULTS and self.value is not None and self.value > 1.0:
            raise ValueError(f"a {self.kind} value is a fraction of requests, at most 1.0")
        if self.kind is FaultKind.ACCOUNT_LOCKED and self.user is None:
            raise ValueError("an account_locked fault needs a user")
        if self.kind in STATE_FAULTS and self.duration is not None:
            raise ValueError(f"a {self.kind} fault lasts until it is remediated; it takes no duration")
        return self

    @property
    def size(self) -> float:
        return self.value if self.value is not None else DEFAULT_FAULT_VALUE[self.kind]


class MessageEvent(_Event):
    user: str
    text: ScalarText = Field(min_length=1)


class ReplyEvent(_Event):
    """A message in the thread of the case opened last (an answer to a question, a correction)."""

    user: str
    text: ScalarText = Field(min_length=1)


class AlertEvent(_Event):
    """One alert as Alertmanager's webhook sends it (``alerts[]`` of the payload)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    status: Literal["firing", "resolved"] = "firing"
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: UtcDatetime | None = Field(default=None, alias="startsAt")
    ends_at: UtcDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str | None = Field(default=None, alias="generatorURL")
    fingerprint: str | None = None

    @model_validator(mode="after")
    def _named(self) -> AlertEvent:
        if "alertname" not in self.labels:
            raise ValueError("an alert's labels need an alertname")
        return self


class ApproveEvent(_Event):
    user: str
    delay: float | None = Field(
        default=None,
        ge=0.0,
        description="Seconds between the click and a worker running the case (a busy queue): policy is asked "
        "again at that later time.",
    )


class RejectEvent(_Event):
    user: str
    reason: ScalarText | None = None


class WaitEvent(_Event):
    """Time passes (to ``until``, or to the event's ``at``): scheduled steps whose date has come run."""

    until: UtcDatetime | None = None


WorldEvent = DeployEvent | ConfigChangeEvent | FlagEvent | ScaleEvent | FaultEvent
ConversationEvent = MessageEvent | ReplyEvent | AlertEvent | ApproveEvent | RejectEvent | WaitEvent
EVENT_KINDS: tuple[str, ...] = (
    "deploy",
    "config_change",
    "flag",
    "scale",
    "fault",
    "message",
    "reply",
    "alert",
    "approve",
    "reject",
    "wait",
)
WORLD_KINDS = frozenset({"deploy", "config_change", "flag", "scale", "fault"})


class ScenarioEvent(_Event):
    """One entry of ``events``: an optional ``at`` (simulated seconds) and exactly one kind."""

    at: float | None = Field(default=None, ge=0.0)
    deploy: DeployEvent | None = None
    config_change: ConfigChangeEvent | None = None
    flag: FlagEvent | None = None
    scale: ScaleEvent | None = None
    fault: FaultEvent | None = None
    message: MessageEvent | None = None
    reply: ReplyEvent | None = None
    alert: AlertEvent | None = None
    approve: ApproveEvent | None = None
    reject: RejectEvent | None = None
    wait: WaitEvent | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScenarioEvent:
        kinds = [k for k in EVENT_KINDS if getattr(self, k) is not None]
        if not kinds:
            raise ValueError(f"an event needs one kind: {', '.join(EVENT_KINDS)}")
        if len(kinds) > 1:
            raise ValueError(f"an event has exactly one kind, this one has {len(kinds)}: {', '.join(kinds)}")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in EVENT_KINDS if getattr(self, k) is not None)

    @property
    def payload(self) -> WorldEvent | ConversationEvent:
        value: WorldEvent | ConversationEvent = getattr(self, self.kind)
        return value

    @property
    def world_event(self) -> WorldEvent | None:
        """The payload when the estate applies it (deploy, config_change, flag, scale, fault), else None."""
        payload = self.payload
        if isinstance(payload, DeployEvent | ConfigChangeEvent | FlagEvent | ScaleEvent | FaultEvent):
            return payload
        return None
