"""What an action is: a typed input model, an output model, a risk class, a scope, and for a mutating
action its observe probe, snapshot, inverse and verification."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, JsonValue

from actiondesk.core.errors import ActionFailedError
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import (
    AccessGroups,
    Accounts,
    Clock,
    Cluster,
    Configurator,
    Deployer,
    HttpOperations,
    Identity,
    Inventory,
    LogSearch,
    Metrics,
    Procurement,
    Releases,
    Telemetry,
    Volumes,
    VpnSessions,
)


@dataclass(frozen=True)
class ActionContext:
    """The typed run context every action receives. It is never shown to a model."""

    inventory: Inventory
    telemetry: Telemetry
    deployer: Deployer
    clock: Clock
    configurator: Configurator | None = None
    cluster: Cluster | None = None
    metrics: Metrics | None = None
    log_search: LogSearch | None = None
    releases: Releases | None = None
    volumes: Volumes | None = None
    vpn: VpnSessions | None = None
    identity: Identity | None = None
    http: HttpOperations | None = None
    accounts: Accounts | None = None
    procurement: Procurement | None = None
    groups: AccessGroups | None = None


P = TypeVar("P")


def need(port: P | None, system: str) -> P:
    """The port an action needs, or a clear failure when this deployment has not configured that system."""
    if port is None:
        raise ActionFailedError(f"{system} is not configured in this deployment")
    return port


class ActionInput(BaseModel):
    """Base of every action's input: unknown fields are errors, not silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ActionOutput(BaseModel):
    model_config = ConfigDict(frozen=True)

    def summary(self) -> str:
        return self.__class__.__name__


In = TypeVar("In", bound=ActionInput)
Out = TypeVar("Out", bound=ActionOutput)


class ActionSpec(ABC, Generic[In, Out]):
    """One catalog action. Subclasses set the class attributes and implement ``run``."""

    # Set on the class by the coded actions, on the instance by the declarative (OpenAPI-bound) ones.
    name: str
    description: str
    pack: str
    scope: str
    risk: Risk
    destructive: bool = False
    target_kind: str = "service"  # what ``target`` names: service, person, host or application
    input_model: type[In]
    output_model: type[Out]

    @property
    def mutating(self) -> bool:
        return self.risk is not Risk.READ

    def target(self, params: In) -> str:
        """The managed object the call acts on (a service, a host, a person)."""
        return str(getattr(params, "service", ""))

    def access_group(self, params: In) -> str | None:
        """The directory group the call grants membership of, if it grants access (governance asks whether that
        group is privileged, and then its owner group approves)."""
        return None

    @abstractmethod
    def run(self, ctx: ActionContext, params: In) -> Out:
        """Do the action through the context's ports; raise an ActionDeskError when the system refuses."""

    # Mutating actions override the hooks below.

    def observe(self, ctx: ActionContext, params: In) -> dict[str, JsonValue]:
        """Read the live state the action depends on; re-run right before the action runs."""
        return {}

    def drift(self, observed: dict[str, JsonValue], params: In) -> str | None:
        """Why the observed state no longer warrants the action, or None when it still does."""
        return None

    def already_done(self, observed: dict[str, JsonValue], params: In) -> bool:
        """Whether the observed state shows the action already took effect (crash reconciliation)."""
        return False

    def snapshot(self, ctx: ActionContext, params: In) -> dict[str, JsonValue]:
        """The prior state the inverse restores."""
        return {}

    def inverse(self, snapshot: dict[str, JsonValue], params: In) -> ActionCall | None:
        return None

    def verify(self, ctx: ActionContext, params: In, output: Out) -> str | None:
        """Why the action did not take effect, or None when it did."""
        return None
