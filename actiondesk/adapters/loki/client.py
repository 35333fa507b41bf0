"""LokiLogs: /loki/api/v1/query_range with a LogQL stream selector and a line filter for the trace id."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx

from actiondesk.core.errors import ActionFailedError, InvalidParametersError
from actiondesk.core.systems import LogRecord

_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _quoted(value: str) -> str:
    """A LogQL string literal (Go syntax): backslashes and double quotes escaped."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def logql(labels: dict[str, str], trace_id: str | None = None) -> str:
    if not labels:
        raise InvalidParametersError("a Loki query needs at least one label matcher, e.g. service")
    bad = [name for name in labels if not _LABEL.match(name)]
    if bad:
        raise InvalidParametersError(f"not Loki label names: {bad}")
    selector = "{" + ",".join(f"{k}={_quoted(v)}" for k, v in sorted(labels.items())) + "}"
    return selector + (f" |= {_quoted(trace_id)}" if trace_id else "")


def _ns(at: datetime) -> str:
    return str(int(at.timestamp() * 1_000_000_000))


class LokiLogs:
    def __init__(self, url: str, token: str | None = None, *, tenant: str | None = None, timeout: float = 10.0) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if tenant:
            headers["X-Scope-OrgID"] = tenant
        self._client = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def search(
        self, labels: dict[str, str], start: datetime, end: datetime, *, trace_id: str | None = None, limit: int = 100
    ) -> list[LogRecord]:
        params = {
            "query": logql(labels, trace_id),
            "start": _ns(start),
            "end": _ns(end),
            "limit": str(limit),
            "direction": "backward",  # the newest `limit` lines; sorted oldest first below
        }
        data = self._get("/loki/api/v1/query_range", params)
        if data.get("resultType") != "streams":
            raise ActionFailedError(f"Loki answered a {data.get('resultType')} result to a log query")
        records = [
            LogRecord(at=datetime.fromtimestamp(int(ns) / 1e9, UTC), labels=stream.get("stream", {}), line=line)
            for stream in data.get("result", [])
            for ns, line in stream.get("values", [])
        ]
        return sorted(records, key=lambda r: r.at)[-limit:]

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        try:
            response = self._client.get(path, params=params)
        except httpx.HTTPError as exc:
            raise ActionFailedError(f"Loki unreachable: {type(exc).__name__}: {exc}") from None
        if response.status_code == 400:  # Loki explains a bad query in a plain-text body
            raise InvalidParametersError(f"Loki rejected the query: {response.text.strip()[:300]}")
        if not response.is_success:
            raise ActionFailedError(f"Loki answered {response.status_code}: {response.text.strip()[:300]}")
        body = response.json()
        if body.get("status") != "success":
            raise ActionFailedError(f"Loki answered status {body.get('status')}")
        data: dict[str, Any] = body.get("data", {})
        return data
