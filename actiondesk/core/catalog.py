"""The live estate's service catalog and the change events that CI/CD systems report.

The catalog says, for each service, what people call it, what it depends on, who owns it, which PromQL reads
its signals and where its workload and release live. Change events are what a pipeline, GitHub or Argo CD told
us was deployed, reconfigured, flagged or scaled; triage reads them beside the clusters' own history.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from actiondesk.core.errors import UnknownServiceError
from actiondesk.core.estate import Service

# A signal the catalog does not spell out is read with these; ``{service}`` and ``{window}`` are substituted.
DEFAULT_SIGNALS: Mapping[str, str] = MappingProxyType(
    {
        "error_rate": (
            'sum(rate(http_requests_total{service="{service}",code=~"5.."}[{window}]))'
            ' / sum(rate(http_requests_total{service="{service}"}[{window}]))'
        ),
        "latency_p95": (
            "histogram_quantile(0.95, sum by (le) "
            '(rate(http_request_duration_seconds_bucket{service="{service}"}[{window}])))'
        ),
    }
)

CHANGE_KINDS = ("deploy", "config_change", "flag", "scale")


@dataclass(frozen=True, slots=True)
class KubernetesRef:
    namespace: str
    deployment: str


@dataclass(frozen=True, slots=True)
class ArgoCdRef:
    application: str


@dataclass(frozen=True, slots=True)
class CiCdRef:
    """Where a rollback is requested when a service has neither Argo CD nor Kubernetes: a GitHub Actions
    workflow run by ``workflow_dispatch`` on ``ref`` with the version to go back to as an input."""

    repository: str
    workflow: str
    ref: str = "main"
    version_input: str = "version"


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    service: Service
    signals: Mapping[str, str] = field(default_factory=lambda: DEFAULT_SIGNALS)
    kubernetes: KubernetesRef | None = None
    argocd: ArgoCdRef | None = None
    cicd: CiCdRef | None = None

    def query(self, signal: str, window: str) -> str:
        """The PromQL for ``signal`` with the service and the window filled in (a catalog query first, else the
        default). Plain replacement, not ``str.format``: PromQL is full of braces."""
        template = self.signals.get(signal) or DEFAULT_SIGNALS.get(signal)
        if template is None:
            raise KeyError(f"no query for signal {signal!r}")
        return template.replace("{service}", self.service.name).replace("{window}", window)


@dataclass(frozen=True, slots=True)
class ServiceCatalog:
    entries: Mapping[str, CatalogEntry]
    source: str = ""

    def entry(self, name: str) -> CatalogEntry:
        try:
            return self.entries[name]
        except KeyError:
            raise UnknownServiceError(f"no service {name!r} in the catalog {self.source}".rstrip()) from None

    def services(self) -> list[Service]:
        return [entry.service for entry in self.entries.values()]


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    """One reported change. ``id`` is the sender's idempotency key (generated when it gave none): a resend with a
    known id changes nothing. Fields by kind: deploy — version, previous_version, commit; config_change and
    flag — key, value, previous_value; scale — replicas, previous_replicas. ``source`` is api, github or argocd."""

    id: str
    service: str
    kind: str
    at: datetime
    source: str = "api"
    version: str | None = None
    previous_version: str | None = None
    commit: str | None = None
    key: str | None = None
    value: str | None = None
    previous_value: str | None = None
    replicas: int | None = None
    previous_replicas: int | None = None
    author: str = ""
    url: str = ""
