"""Signals from Prometheus: one PromQL range query per signal, the catalog's query first, else a default.

error_rate and latency_p95 default to the catalog's DEFAULT_SIGNALS (``http_requests_total`` and
``http_request_duration_seconds_bucket`` by ``service`` label). cpu, restarts and unready default to the
kube-state-metrics / cAdvisor series of the service's Deployment when the catalog names one (``kubernetes:``);
a service with neither a query of its own nor a Deployment has no such signal: an empty series, not an error.
A query must answer one series (wrap it in ``sum``): several are an error that names the query.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType

from actiondesk.core.catalog import DEFAULT_SIGNALS, CatalogEntry
from actiondesk.core.errors import ActionFailedError
from actiondesk.core.estate import Point, Series
from actiondesk.core.ports import Metrics

# ``{namespace}``, ``{deployment}`` and ``{window}`` are substituted. CPU is percent of the pods' CPU limit.
KUBE_SIGNALS: Mapping[str, str] = MappingProxyType(
    {
        "cpu": (
            '100 * sum(rate(container_cpu_usage_seconds_total{namespace="{namespace}",pod=~"{deployment}-.*",'
            'container!=""}[{window}])) / sum(kube_pod_container_resource_limits{namespace="{namespace}",'
            'pod=~"{deployment}-.*",resource="cpu"})'
        ),
        "restarts": ('sum(kube_pod_container_status_restarts_total{namespace="{namespace}",pod=~"{deployment}-.*"})'),
        "unready": (
            'sum(kube_deployment_spec_replicas{namespace="{namespace}",deployment="{deployment}"})'
            ' - sum(kube_deployment_status_replicas_ready{namespace="{namespace}",deployment="{deployment}"})'
        ),
    }
)

# Prometheus measures latency in seconds; the Telemetry port speaks milliseconds.
SCALE = MappingProxyType({"latency_p95": 1000.0})


def query_for(entry: CatalogEntry, signal: str, window: str) -> str | None:
    """The PromQL that reads ``signal`` for ``entry``, or None when the service has no such signal."""
    if entry.signals.get(signal) or signal in DEFAULT_SIGNALS:
        return entry.query(signal, window)
    template = KUBE_SIGNALS.get(signal)
    if template is None or entry.kubernetes is None:
        return None
    ref = entry.kubernetes
    return (
        template.replace("{namespace}", ref.namespace)
        .replace("{deployment}", ref.deployment)
        .replace("{window}", window)
    )


def read_series(
    metrics: Metrics | None,
    entry: CatalogEntry,
    signal: str,
    window: str,
    start: datetime,
    end: datetime,
    step_seconds: int,
) -> Series:
    """One signal over [start, end] at ``step_seconds``; NaN points (0/0: no traffic) are left out."""
    name = entry.service.name
    expr = query_for(entry, signal, window)
    if expr is None:
        return Series(service=name, metric=signal, points=())
    if metrics is None:
        raise ActionFailedError(
            f"{name}'s {signal} needs Prometheus, which is not configured (ACTIONDESK_PROMETHEUS_URL)"
        )
    try:
        samples = metrics.query_range(expr, start, end, step_seconds)
    except ActionFailedError as exc:
        raise ActionFailedError(f"could not read {name}'s {signal} from Prometheus: {exc}") from None
    if len(samples) > 1:
        raise ActionFailedError(
            f"{name}'s {signal} query answered {len(samples)} series, not one (aggregate it with sum): {expr}"
        )
    factor = SCALE.get(signal, 1.0)
    points = tuple(
        Point(at=at, value=value * factor)
        for sample in samples
        for at, value in sample.points
        if not math.isnan(value) and not math.isinf(value)
    )
    return Series(service=name, metric=signal, points=points)
