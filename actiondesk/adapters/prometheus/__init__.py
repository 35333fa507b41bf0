"""Prometheus over its HTTP API (httpx): instant and range queries behind the Metrics port."""

from actiondesk.adapters.prometheus.client import PrometheusMetrics

__all__ = ["PrometheusMetrics"]
