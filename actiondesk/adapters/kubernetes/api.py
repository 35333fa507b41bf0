"""The HTTP edge: bearer-token requests to the API server, its Status errors turned into ours."""

from __future__ import annotations

import logging
from typing import Any

import httpx

from actiondesk.core.errors import ActionFailedError, NotFoundError

log = logging.getLogger(__name__)

STRATEGIC_MERGE = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class ApiServer:
    def __init__(self, url: str, token: str, *, verify: bool | str = True, timeout: float = 10.0) -> None:
        self._client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            verify=verify,
            timeout=timeout,
        )

    def close(self) -> None:
        self._client.close()

    def get(self, path: str, **params: str) -> dict[str, Any]:
        return self._send("GET", path, params=params)

    def patch(self, path: str, body: object, content_type: str) -> dict[str, Any]:
        return self._send("PATCH", path, json=body, headers={"Content-Type": content_type})

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ActionFailedError(f"Kubernetes API unreachable: {type(exc).__name__}: {exc}") from None
        if response.is_success:
            body: dict[str, Any] = response.json()
            return body
        message = _status_message(response)
        if response.status_code == 404:
            raise NotFoundError(f"Kubernetes: {message}")
        if response.status_code in (401, 403):
            raise ActionFailedError(f"Kubernetes refused the service account ({response.status_code}): {message}")
        raise ActionFailedError(f"Kubernetes answered {response.status_code}: {message}")


def _status_message(response: httpx.Response) -> str:
    """The message of a metav1.Status body, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, str):
        return message
    return response.text[:200]
