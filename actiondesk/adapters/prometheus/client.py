"""PrometheusMetrics: /api/v1/query and /api/v1/query_range, results as MetricSample series."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from actiondesk.core.errors import ActionFailedError, InvalidParametersError
from actiondesk.core.systems import MetricSample


def _point(pair: list[Any]) -> tuple[datetime, float]:
    return datetime.fromtimestamp(float(pair[0]), UTC), float(pair[1])


def _samples(data: dict[str, Any]) -> list[MetricSample]:
    kind, result = data.get("resultType"), data.get("result")
    if kind == "vector":
        return [MetricSample(labels=r.get("metric", {}), points=(_point(r["value"]),)) for r in result or []]
    if kind == "matrix":
        return [
            MetricSample(labels=r.get("metric", {}), points=tuple(_point(v) for v in r.get("values", [])))
            for r in result or []
        ]
    if kind == "scalar" and isinstance(result, list):
        return [MetricSample(labels={}, points=(_point(result),))]
    if kind in ("scalar", "string"):
        return []
    raise ActionFailedError(f"Prometheus answered an unknown result type {kind!r}")


class PrometheusMetrics:
    def __init__(self, url: str, token: str | None = None, *, timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def query(self, expr: str, at: datetime) -> list[MetricSample]:
        return _samples(self._get("/api/v1/query", {"query": expr, "time": f"{at.timestamp():.3f}"}))

    def query_range(self, expr: str, start: datetime, end: datetime, step_seconds: int) -> list[MetricSample]:
        params = {
            "query": expr,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": str(step_seconds),
        }
        return _samples(self._get("/api/v1/query_range", params))

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ActionFailedError(f"Prometheus unreachable: {type(exc).__name__}: {exc}") from None
        try:
            body = response.json()
        except ValueError:
            raise ActionFailedError(f"Prometheus answered {response.status_code}: {response.text[:200]}") from None
        if body.get("status") == "success":
            data: dict[str, Any] = body.get("data", {})
            return data
        error, kind = body.get("error", response.text[:200]), body.get("errorType", "")
        if kind == "bad_data":  # the query itself is wrong: the planner can fix it
            raise InvalidParametersError(f"Prometheus rejected the query: {error}")
        raise ActionFailedError(f"Prometheus answered {response.status_code} ({kind}): {error}")
