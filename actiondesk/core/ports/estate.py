"""The estate: its services, their signals and logs, deployments, recorded changes and runtime configuration."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.estate import Change, Deployment, LogLine, Series, Service, ServicePods


class Inventory(Protocol):
    """The services of the estate and how they depend on each other."""

    def service(self, name: str) -> Service:
        """Raise UnknownServiceError when there is no such service."""
        ...

    def services(self) -> list[Service]: ...


class Telemetry(Protocol):
    def error_rate(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """Fraction of requests answered 5xx, one point per step."""
        ...

    def latency_p95(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """95th-percentile latency in milliseconds, one point per step."""
        ...

    def cpu(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """CPU use in percent of what the service's pods may use, one point per step."""
        ...

    def pods(self, service: str, at: datetime) -> ServicePods:
        """The service's pods at ``at``: desired count, readiness, state, restarts."""
        ...

    def unready_replicas(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """How many of the pods the service wants were not ready, one point per step."""
        ...

    def restarts(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        """Container restarts of the service's pods (a running total), one point per step."""
        ...

    def logs(
        self,
        service: str,
        start: datetime,
        end: datetime,
        *,
        trace_id: str | None = None,
        level: str | None = None,
        limit: int = 50,
    ) -> list[LogLine]:
        """Log lines, oldest first, at most ``limit`` (the newest ones when there are more)."""
        ...


class Deployer(Protocol):
    def deployments(self, service: str, limit: int = 10) -> list[Deployment]:
        """Newest first."""
        ...

    def changes(self, service: str, start: datetime, end: datetime) -> list[Change]:
        """Configuration, feature-flag, scaling and restart changes in the window, oldest first."""
        ...

    def rollback(self, service: str, to_version: str, *, reason: str) -> Deployment:
        """Deploy ``to_version`` again; raise ActionFailedError if the version was never deployed."""
        ...


class ChangeReader(Protocol):
    """The change events CI/CD systems reported, read back."""

    def recorded_changes(
        self,
        *,
        service: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
    ) -> list[ChangeEvent]:
        """Oldest first; the newest ``limit`` when there are more."""
        ...


class ChangeLog(ChangeReader, Protocol):
    """The change events CI/CD systems reported, stored."""

    def record_change(
        self, event: ChangeEvent, *, actor: str | None = None, received_at: datetime | None = None
    ) -> tuple[ChangeEvent, bool]:
        """Store ``event`` unless its id is known and audit it (as ``actor``, default ``change:<source>``, at
        ``received_at``, default now); return the stored event and whether this call created it."""
        ...


class Configurator(Protocol):
    """A service's runtime configuration: config keys, feature flags and its replica count. Each change is
    recorded as a Change. Raise UnknownServiceError, ActionFailedError; never a vendor error."""

    def config(self, service: str) -> dict[str, str]: ...

    def flags(self, service: str) -> dict[str, str]: ...

    def replicas(self, service: str) -> int: ...

    def set_config(self, service: str, key: str, value: str | None, *, reason: str) -> Change:
        """Set ``key`` to ``value``; None removes the key."""
        ...

    def set_flag(self, service: str, key: str, value: str | None, *, reason: str) -> Change: ...

    def scale(self, service: str, replicas: int, *, reason: str) -> Change: ...
