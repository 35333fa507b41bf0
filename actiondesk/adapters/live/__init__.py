"""The live estate: the service catalog, the stored change events and the company's own systems (Prometheus,
Loki, Kubernetes, Argo CD, a CI/CD system's API) behind the same ports the sandbox implements.

``LiveEstate`` serves Inventory, Telemetry, Deployer and Configurator. It reaches each system only through a core
port (Metrics, LogSearch, Cluster, Releases, HttpOperations, ChangeLog) that the composition root hands it, so
this package imports nothing but core. A system that is not configured reads as no data (an empty series, no
history); a system that is configured but fails raises a clear ActionFailedError, which triage counts as missing
evidence.
"""

from __future__ import annotations

from actiondesk.adapters.live.estate import LiveEstate, LiveSystems
from actiondesk.adapters.live.signals import KUBE_SIGNALS

__all__ = ["KUBE_SIGNALS", "LiveEstate", "LiveSystems"]
