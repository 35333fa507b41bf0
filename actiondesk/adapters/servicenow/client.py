"""The Table API over httpx: authentication (basic, OAuth client credentials, API key), paging, errors.

Every failure leaves as TicketUnavailableError (unreachable, 5xx, 408, 409, 429: with the instance's
Retry-After or X-RateLimit-Reset hint) or TicketRejectedError (any other 4xx, with the error JSON's message
and detail). No httpx error crosses out.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from actiondesk.core.errors import TicketRejectedError, TicketUnavailableError
from actiondesk.core.retry import retry_after_seconds

log = logging.getLogger(__name__)

RETRYABLE = frozenset({408, 409, 429})


@dataclass(frozen=True)
class BasicAuth:
    username: str
    password: str


@dataclass(frozen=True)
class ApiKey:
    """A ServiceNow API key, sent as the x-sn-apikey header."""

    key: str


@dataclass(frozen=True)
class ClientCredentials:
    """OAuth 2.0 client credentials, exchanged at /oauth_token.do for a bearer token."""

    client_id: str
    client_secret: str


def retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds to wait: Retry-After (seconds or an HTTP date), else X-RateLimit-Reset (a UNIX time)."""
    waited = retry_after_seconds(response.headers.get("Retry-After"), now)
    if waited is not None:
        return waited
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)
        except ValueError:
            return None
    return None


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error") or {}
        return f"{error.get('message') or 'error'}: {error.get('detail') or 'no detail'}"
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase


class ServiceNowClient:
    def __init__(
        self,
        instance_url: str,
        auth: BasicAuth | ClientCredentials | ApiKey,
        *,
        timeout: float = 15.0,
        verify: bool = True,
    ) -> None:
        self.base_url = instance_url.rstrip("/")
        self._credentials = auth
        self._token: tuple[str, float] | None = None
        basic = (auth.username, auth.password) if isinstance(auth, BasicAuth) else None
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=basic,
            timeout=timeout,
            verify=verify,
            headers={"Accept": "application/json"} | ({"x-sn-apikey": auth.key} if isinstance(auth, ApiKey) else {}),
        )

    def close(self) -> None:
        self._http.close()

    def _bearer(self, fresh: bool = False) -> dict[str, str]:
        if not isinstance(self._credentials, ClientCredentials):
            return {}
        if fresh or self._token is None or self._token[1] <= time.monotonic():
            form = {
                "grant_type": "client_credentials",
                "client_id": self._credentials.client_id,
                "client_secret": self._credentials.client_secret,
            }
            response = self._send("POST", "/oauth_token.do", {"data": form})
            body = response.json()
            expires = float(body.get("expires_in", 1800))
            self._token = (str(body["access_token"]), time.monotonic() + max(expires - 30.0, 1.0))
        return {"Authorization": f"Bearer {self._token[0]}"}

    def _send(self, method: str, path: str, kwargs: dict[str, Any]) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TicketUnavailableError(f"ServiceNow unreachable: {type(exc).__name__}") from None
        if response.is_success:
            return response
        status = response.status_code
        if status in RETRYABLE or status >= 500:
            raise TicketUnavailableError(
                f"ServiceNow answered {status}: {_message(response)}", retry_after(response, time.time())
            )
        raise TicketRejectedError(f"ServiceNow answered {status}: {_message(response)}")

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One Table API call; with OAuth, a 401 gets one fresh token and one more try."""
        try:
            return self._send(method, path, {**kwargs, "headers": {**kwargs.get("headers", {}), **self._bearer()}})
        except TicketRejectedError as exc:
            if not isinstance(self._credentials, ClientCredentials) or "answered 401" not in str(exc):
                raise
            headers = {**kwargs.get("headers", {}), **self._bearer(fresh=True)}
            return self._send(method, path, {**kwargs, "headers": headers})

    def result(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        body = self.request(method, path, **kwargs).json()
        return body.get("result") or {}

    def records(self, table: str, params: dict[str, str], page: int = 100) -> Iterator[dict[str, Any]]:
        """Every record of a query, page by page, following the Link header's rel="next"."""
        offset = 0
        while True:
            query = {**params, "sysparm_limit": str(page), "sysparm_offset": str(offset)}
            response = self.request("GET", f"/api/now/table/{table}", params=query)
            rows = response.json().get("result") or []
            yield from rows
            if not rows or "next" not in response.links:
                return
            offset += len(rows)
