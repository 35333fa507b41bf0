"""The JSM and Jira platform REST APIs over httpx, with email + API token (basic auth).

Failures leave as TicketUnavailableError (unreachable, 5xx, 408, 409, 429 with Retry-After or
X-RateLimit-Reset; a ``jira-per-issue-on-write`` limit pauses only that issue) or TicketRejectedError
(any other 4xx, with the ErrorCollection's messages). No httpx error crosses out.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx

from actiondesk.core.errors import TicketRejectedError, TicketUnavailableError
from actiondesk.core.retry import retry_after_seconds

RETRYABLE = frozenset({408, 409, 429})
PER_ISSUE = "jira-per-issue-on-write"


def retry_after(response: httpx.Response, now: float) -> float | None:
    """Seconds to wait: Retry-After (seconds or HTTP date), else X-RateLimit-Reset (an ISO timestamp)."""
    waited = retry_after_seconds(response.headers.get("Retry-After"), now)
    if waited is not None:
        return waited
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now)
        except ValueError:
            return None
    return None


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
        messages = [*body.get("errorMessages", []), *(f"{k}: {v}" for k, v in (body.get("errors") or {}).items())]
        return "; ".join(messages) or response.reason_phrase
    except (ValueError, AttributeError):
        return response.text[:200] or response.reason_phrase


class JsmClient:
    def __init__(self, base_url: str, email: str, api_token: str, *, timeout: float = 15.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url,
            auth=(email, api_token),
            timeout=timeout,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise TicketUnavailableError(f"Jira unreachable: {type(exc).__name__}") from None
        if response.is_success:
            return response
        status = response.status_code
        if status in RETRYABLE or status >= 500:
            whole = response.headers.get("RateLimit-Reason") != PER_ISSUE
            raise TicketUnavailableError(
                f"Jira answered {status}: {_message(response)}",
                retry_after(response, time.time()),
                whole_system=whole,
            )
        raise TicketRejectedError(f"Jira answered {status}: {_message(response)}")

    def pages(self, path: str, params: dict[str, str], limit: int = 50) -> Iterator[dict[str, Any]]:
        """Every value of a JSM paged list (start, limit, isLastPage)."""
        start = 0
        while True:
            body = self.request("GET", path, params={**params, "start": str(start), "limit": str(limit)}).json()
            values = body.get("values") or []
            yield from values
            if body.get("isLastPage", True) or not values:
                return
            start += len(values)
