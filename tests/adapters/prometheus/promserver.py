"""What the session's Prometheus fixture (conftest.py) hands to the tests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LivePrometheus:
    url: str
    exporter: str  # host:port of the exporter it scrapes (its `instance` label)
