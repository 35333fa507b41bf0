"""ArgoCd: GET /api/v1/applications/{name} and POST /api/v1/applications/{name}/rollback."""

from __future__ import annotations

from typing import Any

import httpx

from actiondesk.core.errors import ActionFailedError, NotFoundError
from actiondesk.core.systems import Application, Release


def _application(body: dict[str, Any]) -> Application:
    status = body.get("status", {})
    return Application(
        name=body.get("metadata", {}).get("name", ""),
        sync_status=status.get("sync", {}).get("status", "Unknown"),
        health=status.get("health", {}).get("status", "Unknown"),
        revision=status.get("sync", {}).get("revision", ""),
        history=tuple(
            Release(
                id=int(h["id"]),
                revision=h.get("revision", ""),
                deployed_at=h.get("deployedAt"),
                target_revision=(h.get("source") or {}).get("targetRevision", ""),
            )
            for h in status.get("history", [])
        ),
    )


class ArgoCd:
    def __init__(self, url: str, token: str, *, verify: bool | str = True, timeout: float = 15.0) -> None:
        self._client = httpx.Client(
            base_url=url.rstrip("/"), headers={"Authorization": f"Bearer {token}"}, verify=verify, timeout=timeout
        )

    def close(self) -> None:
        self._client.close()

    def application(self, name: str) -> Application:
        return _application(self._send("GET", f"/api/v1/applications/{name}"))

    def rollback(self, name: str, release_id: int) -> Application:
        body = {"id": release_id, "prune": False, "dryRun": False}
        self._send("POST", f"/api/v1/applications/{name}/rollback", json=body)
        return self.application(name)

    def _send(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ActionFailedError(f"Argo CD unreachable: {type(exc).__name__}: {exc}") from None
        if response.is_success:
            body: dict[str, Any] = response.json()
            return body
        try:  # grpc-gateway errors: {"error": ..., "code": N, "message": ...}
            message = response.json().get("message") or response.text[:200]
        except ValueError:
            message = response.text[:200]
        if response.status_code == 404:
            raise NotFoundError(f"Argo CD: {message}")
        if response.status_code in (401, 403):
            raise ActionFailedError(f"Argo CD refused the service account ({response.status_code}): {message}")
        raise ActionFailedError(f"Argo CD answered {response.status_code}: {message}")
