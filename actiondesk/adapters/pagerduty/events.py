"""PagerDutyPager: alert events on the Events API v2 (``POST /v2/enqueue``), keyed by the case.

A trigger carries the routing (integration) key, ``event_action: trigger``, the case id as ``dedup_key`` and a
``payload`` (summary, source, severity, component, group, class, custom_details); a resolve carries only the
key, the action and the ``dedup_key``. PagerDuty folds a trigger with the dedup_key of an open alert into that
alert, and drops a resolve for one that is no longer open, so a retried event does nothing twice.

202 is success. 429, 5xx and network errors may go through later (PageUnavailableError, with Retry-After when
given); 400 (an invalid event) and 401/403/404 (a wrong key or URL) never will (PageRejectedError).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from actiondesk.core.errors import PageRejectedError, PageUnavailableError
from actiondesk.core.paging import PageAction, PageDraft
from actiondesk.core.retry import retry_after_seconds

log = logging.getLogger(__name__)

CLIENT = "ActionDesk"
MAX_SUMMARY = 1024
MAX_DEDUP_KEY = 255


def event(routing_key: str, page: PageDraft, client_url: str | None = None) -> dict[str, Any]:
    """The Events API v2 body for ``page``."""
    body: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": page.action.value,
        "dedup_key": page.dedup_key[:MAX_DEDUP_KEY],
    }
    if page.action is PageAction.TRIGGER:
        payload: dict[str, Any] = {
            "summary": page.summary[:MAX_SUMMARY] or page.dedup_key,
            "source": page.service or "actiondesk",
            "severity": page.severity.value,
            "class": "actiondesk hand-off",
            "custom_details": {**page.details, "reason": page.reason},
        }
        if page.service:
            payload["component"] = page.service
        if page.group:
            payload["group"] = page.group
        body["payload"] = payload
        body["client"] = CLIENT
        if client_url:
            body["client_url"] = client_url
            body["links"] = [{"href": client_url, "text": f"ActionDesk case {page.dedup_key}"}]
    return body


def _why(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    errors = data.get("errors") if isinstance(data, dict) else None
    message = data.get("message") if isinstance(data, dict) else None
    return "; ".join(str(x) for x in [message, *(errors or [])] if x) or response.reason_phrase


class PagerDutyPager:
    name = "pagerduty"

    def __init__(self, base_url: str, routing_key: str, *, timeout: float = 10.0, console_url: str | None = None):
        self._key = routing_key
        self._console = console_url.rstrip("/") if console_url else None
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def _send(self, page: PageDraft) -> None:
        link = f"{self._console}/#case={page.dedup_key}" if self._console else None
        try:
            response = self._http.post("/v2/enqueue", json=event(self._key, page, link))
        except httpx.HTTPError as exc:
            raise PageUnavailableError(f"PagerDuty unreachable: {type(exc).__name__}") from None
        status = response.status_code
        if status == 202 or response.is_success:
            log.info("case %s: PagerDuty %s accepted", page.dedup_key, page.action.value)
            return
        if status == 429 or status >= 500:
            wait = retry_after_seconds(response.headers.get("Retry-After"), time.time())
            raise PageUnavailableError(f"PagerDuty answered {status}: {_why(response)}", wait)
        raise PageRejectedError(f"PagerDuty answered {status}: {_why(response)}")

    def trigger(self, page: PageDraft) -> None:
        self._send(page)

    def resolve(self, page: PageDraft) -> None:
        self._send(page.model_copy(update={"action": PageAction.RESOLVE}))
