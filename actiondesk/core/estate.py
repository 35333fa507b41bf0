"""What the managed estate looks like through the ports: services, deployments, telemetry, people."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Owner:
    """Who a service, a request type or a staple belongs to: a team (as people name it) and the group whose
    members are on call for it. The group is a directory group, and the ticket's assignment group."""

    team: str
    group: str


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    tier: int
    environment: str
    version: str
    depends_on: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    description: str = ""
    owner: Owner | None = None

    @property
    def production(self) -> bool:
        return self.environment == "production"


@dataclass(frozen=True, slots=True)
class Deployment:
    service: str
    version: str
    commit: str
    deployed_at: datetime
    author: str = ""
    kind: str = "deploy"  # deploy | rollback
    id: str = ""
    previous_version: str = ""  # the version it replaced, when whoever deployed it said so


@dataclass(frozen=True, slots=True)
class Point:
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    service: str
    metric: str
    points: tuple[Point, ...]


@dataclass(frozen=True, slots=True)
class LogLine:
    at: datetime
    service: str
    level: str
    message: str
    trace_id: str
    version: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    """A change other than a deployment (configuration, feature flag, scaling, restart) that triage may correlate.

    ``detail`` by kind: config_change and flag: key, value, previous (absent when the key was new); scale:
    replicas, previous; restart: replicas.
    """

    service: str
    kind: str
    at: datetime
    detail: dict[str, str] = field(default_factory=dict)
    id: str = ""
    author: str = ""


@dataclass(frozen=True, slots=True)
class PodState:
    name: str
    version: str
    ready: bool
    state: str  # Running, CrashLoopBackOff, ImagePullBackOff, Pending
    reason: str
    restarts: int


@dataclass(frozen=True, slots=True)
class ServicePods:
    """A service's pods at one instant."""

    service: str
    at: datetime
    desired: int
    pods: tuple[PodState, ...]

    @property
    def ready(self) -> int:
        return sum(1 for p in self.pods if p.ready)

    @property
    def restarts(self) -> int:
        return sum(p.restarts for p in self.pods)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    groups: frozenset[str]
    slack_user_id: str | None = None
    teams_aad_object_id: str | None = None
