"""What the managed systems behind the new ports answer: workloads, metrics, log lines, releases, accounts.

Plain frozen models, so an adapter can build them from whatever its system sends and an action can return
them as output without a vendor type ever crossing the port.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Workload(_Frozen):
    """A Kubernetes Deployment as the actions see it."""

    namespace: str
    name: str
    replicas: int
    ready_replicas: int = 0
    revision: int = 0
    restarted_at: str | None = None
    images: tuple[str, ...] = ()
    generation: int = 0


class RolloutRevision(_Frozen):
    revision: int
    replica_set: str
    images: tuple[str, ...]
    created_at: datetime | None = None
    change_cause: str | None = None


class Pod(_Frozen):
    name: str
    phase: str
    ready: bool
    restarts: int
    node: str | None = None


class ClusterEvent(_Frozen):
    type: str
    reason: str
    message: str
    object: str
    count: int = 1
    last_seen: datetime | None = None


class MetricSample(_Frozen):
    labels: dict[str, str]
    points: tuple[tuple[datetime, float], ...] = Field(description="(time, value), oldest first.")


class LogRecord(_Frozen):
    at: datetime
    labels: dict[str, str]
    line: str


class Release(_Frozen):
    id: int
    revision: str
    deployed_at: datetime | None = None
    target_revision: str = Field(default="", description="What the release asked for (a tag, a branch), if known.")


class Application(_Frozen):
    """An Argo CD application: what it should run, what it runs, and what it ran before."""

    name: str
    sync_status: str
    health: str
    revision: str
    history: tuple[Release, ...] = Field(description="Oldest first, as Argo CD keeps it.")


class Volume(_Frozen):
    host: str
    path: str
    used_pct: float
    size_gb: float


class Account(_Frozen):
    user: str
    locked: bool
    must_change_password: bool
    pending_reset: str | None = Field(default=None, description="Id of an unused reset ticket, if any.")


class HttpResult(_Frozen):
    status: int
    body: JsonValue = None
