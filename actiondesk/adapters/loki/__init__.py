"""Grafana Loki over its HTTP API (httpx): log queries by label and trace id behind the LogSearch port."""

from actiondesk.adapters.loki.client import LokiLogs, logql

__all__ = ["LokiLogs", "logql"]
