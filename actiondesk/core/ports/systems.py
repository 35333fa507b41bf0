"""The systems the packs act on: Kubernetes, Prometheus, Loki, Argo CD, hosts' volumes, VPN sessions, HTTP APIs."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from pydantic import JsonValue

from actiondesk.core.systems import (
    Application,
    ClusterEvent,
    HttpResult,
    LogRecord,
    MetricSample,
    Pod,
    RolloutRevision,
    Volume,
    Workload,
)


class Cluster(Protocol):
    """Kubernetes Deployments in a namespace. Raise NotFoundError, ActionFailedError; never a vendor error."""

    def deployment(self, namespace: str, name: str) -> Workload: ...

    def restart(self, namespace: str, name: str, at: datetime) -> Workload:
        """What `kubectl rollout restart` does: stamp the pod template's restartedAt annotation."""
        ...

    def scale(self, namespace: str, name: str, replicas: int) -> Workload: ...

    def undo(self, namespace: str, name: str, to_revision: int) -> Workload:
        """What `kubectl rollout undo --to-revision` does: put that ReplicaSet's pod template back."""
        ...

    def history(self, namespace: str, name: str) -> list[RolloutRevision]:
        """Oldest revision first."""
        ...

    def pods(self, namespace: str, name: str) -> list[Pod]: ...

    def events(self, namespace: str, name: str) -> list[ClusterEvent]: ...


class Metrics(Protocol):
    def query(self, expr: str, at: datetime) -> list[MetricSample]: ...

    def query_range(self, expr: str, start: datetime, end: datetime, step_seconds: int) -> list[MetricSample]: ...


class LogSearch(Protocol):
    def search(
        self, labels: dict[str, str], start: datetime, end: datetime, *, trace_id: str | None = None, limit: int = 100
    ) -> list[LogRecord]:
        """Lines matching every label (and containing the trace id), oldest first."""
        ...


class Releases(Protocol):
    """Deployment history with a first-class rollback (Argo CD applications)."""

    def application(self, name: str) -> Application: ...

    def rollback(self, name: str, release_id: int) -> Application: ...


class Volumes(Protocol):
    def volume(self, host: str) -> Volume: ...

    def archive_volume(self, host: str) -> str:
        """Copy the volume's logs to the archive; return where they went."""
        ...

    def clear_volume(self, host: str) -> Volume: ...

    def restore_volume(self, host: str, archive: str, used_pct: float) -> Volume: ...


class VpnSessions(Protocol):
    def vpn_session(self, user: str) -> str:
        """The session's status, active or locked; raise NotFoundError."""
        ...

    def unlock_vpn_session(self, user: str) -> str: ...

    def lock_vpn_session(self, user: str) -> str: ...


class HttpOperations(Protocol):
    """Operations of OpenAPI documents, validated against the document before any request leaves."""

    def call(
        self,
        document: str,
        operation_id: str,
        *,
        path: dict[str, str],
        query: dict[str, str],
        body: JsonValue = None,
    ) -> HttpResult:
        """Raise InvalidParametersError when the request does not validate, ActionFailedError on a failure."""
        ...
