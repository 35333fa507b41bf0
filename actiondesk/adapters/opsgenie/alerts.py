"""OpsgeniePager: alerts on the Alert API, keyed by the case as the alert's ``alias``.

A trigger is ``POST /v2/alerts`` (message, alias, description, responders: the owner team, tags, details,
entity, source, priority); a resolve is ``POST /v2/alerts/{alias}/close?identifierType=alias``. Both carry
``Authorization: GenieKey <key>`` and are answered 202 (Opsgenie processes them asynchronously). An open alert
with the same alias takes a repeated create as a repeat (its count goes up), so a retried page never makes a
second alert.

429, 5xx and network errors may go through later (PageUnavailableError, with Retry-After when given); 400, 401,
403, 404 and 422 never will (PageRejectedError).
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

import httpx

from actiondesk.core.errors import PageRejectedError, PageUnavailableError
from actiondesk.core.paging import PageDraft, Severity
from actiondesk.core.retry import retry_after_seconds

log = logging.getLogger(__name__)

PRIORITY = {Severity.CRITICAL: "P1", Severity.ERROR: "P2", Severity.WARNING: "P3", Severity.INFO: "P5"}
SOURCE = "ActionDesk"
LIMITS = {"message": 130, "alias": 512, "description": 15000, "entity": 512, "source": 100, "user": 100}


def create_body(page: PageDraft, console_url: str | None = None) -> dict[str, Any]:
    """The create-alert body for ``page``."""
    details = {**page.details, "reason": page.reason}
    if console_url:
        details["console"] = console_url
    lines = [page.summary, f"Reason: {page.reason}"] + [f"{k}: {v}" for k, v in sorted(page.details.items())]
    body: dict[str, Any] = {
        "message": (page.summary or page.dedup_key)[: LIMITS["message"]],
        "alias": page.dedup_key[: LIMITS["alias"]],
        "description": "\n".join(lines)[: LIMITS["description"]],
        "tags": ["actiondesk", *([page.service] if page.service else [])],
        "details": {k: str(v) for k, v in details.items()},
        "source": SOURCE,
        "priority": PRIORITY[page.severity],
    }
    if page.team:
        body["responders"] = [{"name": page.team, "type": "team"}]
    if page.service:
        body["entity"] = page.service[: LIMITS["entity"]]
    return body


def close_body(page: PageDraft) -> dict[str, Any]:
    return {"source": SOURCE, "user": SOURCE, "note": (page.reason or "resolved in ActionDesk")[:25000]}


def _why(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if not isinstance(data, dict):
        return response.reason_phrase
    errors = data.get("errors")
    extra = "; ".join(f"{k}: {v}" for k, v in errors.items()) if isinstance(errors, dict) else ""
    return "; ".join(x for x in (str(data.get("message") or ""), extra) if x) or response.reason_phrase


class OpsgeniePager:
    name = "opsgenie"

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0, console_url: str | None = None):
        self._console = console_url.rstrip("/") if console_url else None
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"Authorization": f"GenieKey {api_key}", "Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def _post(self, path: str, body: dict[str, Any], case_id: str, **params: str) -> None:
        try:
            response = self._http.post(path, json=body, params=params or None)
        except httpx.HTTPError as exc:
            raise PageUnavailableError(f"Opsgenie unreachable: {type(exc).__name__}") from None
        status = response.status_code
        if response.is_success:
            log.info("case %s: Opsgenie took %s", case_id, path)
            return
        if status == 429 or status >= 500:
            wait = retry_after_seconds(response.headers.get("Retry-After"), time.time())
            raise PageUnavailableError(f"Opsgenie answered {status}: {_why(response)}", wait)
        raise PageRejectedError(f"Opsgenie answered {status}: {_why(response)}")

    def trigger(self, page: PageDraft) -> None:
        link = f"{self._console}/#case={page.dedup_key}" if self._console else None
        self._post("/v2/alerts", create_body(page, link), page.dedup_key)

    def resolve(self, page: PageDraft) -> None:
        alias = quote(page.dedup_key[: LIMITS["alias"]], safe="")
        self._post(f"/v2/alerts/{alias}/close", close_body(page), page.dedup_key, identifierType="alias")
