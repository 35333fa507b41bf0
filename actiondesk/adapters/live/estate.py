"""LiveEstate: Inventory, Telemetry, Deployer and Configurator over the catalog, the stored change events and the
configured systems (see the package docstring)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypeVar

from actiondesk.adapters.live.history import (
    from_argocd,
    from_rollouts,
    image_tag,
    merged,
    release_version,
    same_commit,
    stored,
)
from actiondesk.adapters.live.logs import read_logs
from actiondesk.adapters.live.rollback import CiCdRollback
from actiondesk.adapters.live.signals import read_series
from actiondesk.core.catalog import CatalogEntry, ChangeEvent, ServiceCatalog
from actiondesk.core.errors import ActionDeskError, ActionFailedError
from actiondesk.core.estate import Change, Deployment, LogLine, PodState, Series, Service, ServicePods
from actiondesk.core.ports import ChangeLog, Clock, Cluster, HttpOperations, LogSearch, Metrics, Releases

log = logging.getLogger(__name__)

UNKNOWN_VERSION = "unknown"
P = TypeVar("P")


@dataclass(frozen=True)
class LiveSystems:
    """The configured systems, each through its core port; None where a system is not configured."""

    metrics: Metrics | None = None
    log_search: LogSearch | None = None
    cluster: Cluster | None = None
    releases: Releases | None = None
    http: HttpOperations | None = None


class LiveEstate:
    """``catalog`` is called for the catalog in force (the loader reloads the file when it changes);
    ``window`` is the range PromQL's rates are taken over (``{window}``)."""

    def __init__(
        self,
        catalog: Callable[[], ServiceCatalog],
        changes: ChangeLog,
        systems: LiveSystems,
        clock: Clock,
        *,
        window: str = "1m",
        cicd_wait_seconds: float = 600.0,
        cicd_poll_seconds: float = 5.0,
    ) -> None:
        self._catalog = catalog
        self._changes = changes
        self._systems = systems
        self._clock = clock
        self._window = window
        self._cicd = CiCdRollback(
            systems.http, changes, clock, wait_seconds=cicd_wait_seconds, poll_seconds=cicd_poll_seconds
        )

    def _entry(self, name: str) -> CatalogEntry:
        return self._catalog().entry(name)  # UnknownServiceError names the catalog

    def _events(self, service: str) -> list[ChangeEvent]:
        return self._changes.recorded_changes(service=service, limit=500)

    # -- Inventory ----------------------------------------------------------------------------------------
    def services(self) -> list[Service]:
        """The catalog's services as declared (their live version is read by ``service``)."""
        return self._catalog().services()

    def service(self, name: str) -> Service:
        """The catalog's service with the version it runs now: Argo CD's synced revision, else the Deployment's
        image tag, else the newest reported deploy; ``unknown`` when the system that knows cannot be read (so a
        rollback's drift check and verification fail closed)."""
        entry = self._entry(name)
        try:
            version = self.live_version(entry)
        except ActionDeskError as exc:
            log.warning("cannot read the version %s runs: %s", name, exc)
            version = UNKNOWN_VERSION
        return replace(entry.service, version=version)

    def live_version(self, entry: CatalogEntry) -> str:
        name = entry.service.name
        if entry.argocd is not None and self._systems.releases is not None:
            app = self._systems.releases.application(entry.argocd.application)
            current = next((r for r in reversed(app.history) if r.revision == app.revision), None)
            events = self._events(name)
            if current is not None:
                return release_version(current, events)
            reported = next((e for e in reversed(events) if same_commit(e.commit or "", app.revision)), None)
            return reported.version if reported is not None and reported.version else app.revision[:12]
        if entry.kubernetes is not None and self._systems.cluster is not None:
            workload = self._systems.cluster.deployment(entry.kubernetes.namespace, entry.kubernetes.deployment)
            return image_tag(workload.images[0]) if workload.images else UNKNOWN_VERSION
        deployed = stored(self._events(name))
        return deployed[-1].version if deployed else entry.service.version or UNKNOWN_VERSION

    # -- Telemetry ----------------------------------------------------------------------------------------
    def _series(self, service: str, signal: str, start: datetime, end: datetime, step: int) -> Series:
        return read_series(self._systems.metrics, self._entry(service), signal, self._window, start, end, step)

    def error_rate(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return self._series(service, "error_rate", start, end, step_seconds)

    def latency_p95(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return self._series(service, "latency_p95", start, end, step_seconds)

    def cpu(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return self._series(service, "cpu", start, end, step_seconds)

    def unready_replicas(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return self._series(service, "unready", start, end, step_seconds)

    def restarts(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return self._series(service, "restarts", start, end, step_seconds)

    def pods(self, service: str, at: datetime) -> ServicePods:
        """The Deployment's pods now (Kubernetes keeps no past); none when the service has no Deployment."""
        entry = self._entry(service)
        ref, cluster = entry.kubernetes, self._systems.cluster
        if ref is None or cluster is None:
            return ServicePods(service=service, at=at, desired=0, pods=())
        try:
            workload = cluster.deployment(ref.namespace, ref.deployment)
            pods = cluster.pods(ref.namespace, ref.deployment)
        except ActionFailedError as exc:
            raise ActionFailedError(f"could not read {service}'s pods from Kubernetes: {exc}") from None
        version = image_tag(workload.images[0]) if workload.images else ""
        return ServicePods(
            service=service,
            at=at,
            desired=workload.replicas,
            pods=tuple(
                PodState(
                    name=p.name,
                    version=version,
                    ready=p.ready,
                    state=p.phase,
                    reason="" if p.ready else p.phase,
                    restarts=p.restarts,
                )
                for p in pods
            ),
        )

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
        self._entry(service)
        return read_logs(self._systems.log_search, service, start, end, trace_id=trace_id, level=level, limit=limit)

    # -- Deployer -----------------------------------------------------------------------------------------
    def deployments(self, service: str, limit: int = 10) -> list[Deployment]:
        """Reported deploys plus Argo CD's and Kubernetes' history, newest first. A configured system that
        cannot be read is an error (the history would be silently short otherwise)."""
        entry = self._entry(service)
        events = self._events(service)
        remembered: list[Deployment] = []
        if entry.argocd is not None and self._systems.releases is not None:
            try:
                app = self._systems.releases.application(entry.argocd.application)
            except ActionFailedError as exc:
                raise ActionFailedError(f"could not read {service}'s history from Argo CD: {exc}") from None
            remembered += from_argocd(service, app, events)
        if entry.kubernetes is not None and self._systems.cluster is not None:
            ref = entry.kubernetes
            try:
                revisions = self._systems.cluster.history(ref.namespace, ref.deployment)
            except ActionFailedError as exc:
                raise ActionFailedError(f"could not read {service}'s rollout history from Kubernetes: {exc}") from None
            remembered += from_rollouts(service, ref, revisions)
        return merged(stored(events), remembered)[: max(0, limit)]

    def changes(self, service: str, start: datetime, end: datetime) -> list[Change]:
        """Reported config changes, feature flags and scalings in the window, oldest first."""
        self._entry(service)
        found = self._changes.recorded_changes(service=service, start=start, end=end, limit=500)
        return [_change(e) for e in found if e.kind != "deploy"]

    def rollback(self, service: str, to_version: str, *, reason: str) -> Deployment:
        """Through Argo CD when the service has an application, else Kubernetes' rollout undo, else a rollback
        requested from the CI/CD system (its workflow, with the version), which is done once the pipeline
        reports the version deployed."""
        entry = self._entry(service)
        events = self._events(service)
        now = self._clock.now()
        if entry.argocd is not None:
            releases = self._need(self._systems.releases, "Argo CD", "ACTIONDESK_ARGOCD_URL", service)
            app = releases.application(entry.argocd.application)
            chosen = [r for r in app.history if release_version(r, events) == to_version]
            if not chosen:
                raise ActionFailedError(
                    f"Argo CD application {app.name} has no release of {service} {to_version} in its history"
                )
            release = max(chosen, key=lambda r: r.id)
            releases.rollback(app.name, release.id)
            log.info("rolled %s back to %s through Argo CD (release %s): %s", service, to_version, release.id, reason)
            return Deployment(service, to_version, release.revision[:12], now, kind="rollback", id=f"argocd:{app.name}")
        if entry.kubernetes is not None:
            ref = entry.kubernetes
            cluster = self._need(self._systems.cluster, "Kubernetes", "ACTIONDESK_KUBERNETES_URL", service)
            revisions = [r for r in cluster.history(ref.namespace, ref.deployment) if r.images]
            chosen_rev = [r for r in revisions if image_tag(r.images[0]) == to_version]
            if not chosen_rev:
                raise ActionFailedError(
                    f"{ref.namespace}/{ref.deployment} has no rollout revision running {to_version}"
                )
            revision = max(chosen_rev, key=lambda r: r.revision)
            cluster.undo(ref.namespace, ref.deployment, revision.revision)
            log.info("rolled %s back to %s (revision %s): %s", service, to_version, revision.revision, reason)
            commit = next((e.commit or "" for e in reversed(events) if e.version == to_version), "")
            return Deployment(service, to_version, commit, now, kind="rollback", id=f"kubernetes:{revision.revision}")
        if entry.cicd is not None:
            return self._cicd.request(service, entry.cicd, to_version, reason)
        raise ActionFailedError(
            f"{service} has no Argo CD application, Kubernetes Deployment or CI/CD workflow in the catalog to roll "
            "back with"
        )

    @staticmethod
    def _need(port: P | None, system: str, setting: str, service: str) -> P:
        if port is None:
            raise ActionFailedError(f"{service} is deployed by {system}, which is not configured ({setting})")
        return port

    # -- Configurator: replicas through Kubernetes; config keys and flags have no live system yet -----------
    def _deployment_ref(self, service: str) -> tuple[Cluster, str, str]:
        entry = self._entry(service)
        if entry.kubernetes is None:
            raise ActionFailedError(f"{service} has no Kubernetes Deployment in the catalog to scale")
        cluster = self._need(self._systems.cluster, "Kubernetes", "ACTIONDESK_KUBERNETES_URL", service)
        return cluster, entry.kubernetes.namespace, entry.kubernetes.deployment

    def config(self, service: str) -> dict[str, str]:
        raise _no_settings(service, "configuration keys")

    def flags(self, service: str) -> dict[str, str]:
        raise _no_settings(service, "feature flags")

    def set_config(self, service: str, key: str, value: str | None, *, reason: str) -> Change:
        raise _no_settings(service, "configuration keys")

    def set_flag(self, service: str, key: str, value: str | None, *, reason: str) -> Change:
        raise _no_settings(service, "feature flags")

    def replicas(self, service: str) -> int:
        cluster, namespace, name = self._deployment_ref(service)
        return cluster.deployment(namespace, name).replicas

    def scale(self, service: str, replicas: int, *, reason: str) -> Change:
        cluster, namespace, name = self._deployment_ref(service)
        before = cluster.deployment(namespace, name).replicas
        after = cluster.scale(namespace, name, replicas)
        log.info("scaled %s from %s to %s replicas: %s", service, before, after.replicas, reason)
        return Change(
            service=service,
            kind="scale",
            at=self._clock.now(),
            detail={"replicas": str(after.replicas), "previous": str(before)},
            id=f"kubernetes:{namespace}/{name}@{after.generation}",
            author="actiondesk",
        )


def _no_settings(service: str, what: str) -> ActionFailedError:
    return ActionFailedError(f"the live estate has no system to read or set {service}'s {what} through")


def _change(event: ChangeEvent) -> Change:
    if event.kind == "scale":
        detail = {"replicas": str(event.replicas)} if event.replicas is not None else {}
        if event.previous_replicas is not None:
            detail["previous"] = str(event.previous_replicas)
    else:
        detail = {"key": event.key or "", "value": event.value or ""}
        if event.previous_value is not None:
            detail["previous"] = event.previous_value
    return Change(service=event.service, kind=event.kind, at=event.at, detail=detail, id=event.id, author=event.author)
