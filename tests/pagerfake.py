"""Local PagerDuty (Events API v2) and Opsgenie (Alert API) services for the tests, following the documented
request shapes and deduplication rules, strict about what they accept so that a wrong field fails a test.

PagerDuty, ``POST /v2/enqueue`` (developer.pagerduty.com, "Send an Alert Event"):
- ``routing_key`` (the integration key) and ``event_action`` (trigger | acknowledge | resolve) are required;
  ``dedup_key`` at most 255 characters (required to acknowledge or resolve); a trigger needs ``payload.summary``
  (at most 1024), ``payload.source`` and ``payload.severity`` (critical | error | warning | info); ``component``,
  ``group``, ``class``, ``timestamp``, ``custom_details`` (an object), ``links``/``images``, ``client`` and
  ``client_url`` are optional. Anything else is refused here (the real service would ignore a typo).
- A trigger with the dedup_key of an open alert is added to it; once resolved, the same key opens a new alert.
  A resolve of an alert that is not open is dropped. 202 ``{"status": "success", "message": "Event
  processed", "dedup_key": ...}``; 400 ``{"status": "invalid event", "message": "Event object is invalid",
  "errors": [...]}``.

Opsgenie (docs.opsgenie.com, Alert API), every request with ``Authorization: GenieKey <key>`` (else 401):
- ``POST /v2/alerts``: ``message`` required (at most 130), ``alias`` (512), ``description`` (15000),
  ``responders`` ([{type: team|user|escalation|schedule, name|id}]), ``tags`` (at most 20), ``details``
  (string to string), ``entity`` (512), ``source`` (100), ``priority`` (P1-P5), ``user``, ``note``, ``actions``,
  ``visibleTo``; anything else, or a bad value, is 422. An open alert with the same alias takes the create as a
  repeat (its count goes up).
- ``POST /v2/alerts/{identifier}/close?identifierType=id|tiny|alias`` with optional ``user``, ``source``,
  ``note``. Both answer 202 ``{"result": "Request will be processed", "took": ..., "requestId": ...}``.

Faults: ``fail(status, headers, times)`` answers the next requests so; ``server.down()`` refuses connections.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from ticketfake_http import ThreadedServer, serving

ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345"  # 32 characters, like an integration key
GENIE_KEY = "6a1c2f0e-0000-4000-8000-0a5ce9e1e000"
SEVERITIES = {"critical", "error", "warning", "info"}
PD_TOP = {"routing_key", "event_action", "dedup_key", "payload", "images", "links", "client", "client_url"}
PD_PAYLOAD = {"summary", "source", "severity", "timestamp", "component", "group", "class", "custom_details"}
OG_CREATE = {
    "message", "alias", "description", "responders", "visibleTo", "actions", "tags", "details", "entity",
    "source", "priority", "user", "note",
}  # fmt: skip
OG_LIMITS = {"message": 130, "alias": 512, "description": 15000, "entity": 512, "source": 100, "user": 100}
OG_CLOSE = {"user", "source", "note"}


@dataclass
class Alert:
    key: str
    status: str  # triggered | resolved (PagerDuty) / open | closed (Opsgenie)
    events: list[dict[str, Any]] = field(default_factory=list)
    count: int = 1


@dataclass
class FakePager:
    """What one fake service received, and the alerts it holds."""

    kind: str  # pagerduty | opsgenie
    requests: list[tuple[str, str, dict[str, str], dict[str, str], Any]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)  # every alert ever opened, oldest first
    faults: deque[tuple[int, dict[str, str]]] = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, status: int, headers: dict[str, str] | None = None, times: int = 1) -> None:
        for _ in range(times):
            self.faults.append((status, headers or {}))

    def open(self, key: str) -> Alert | None:
        return next((a for a in reversed(self.alerts) if a.key == key and a.status in ("triggered", "open")), None)

    def accepted(self) -> list[Any]:
        """Bodies of the requests that were taken (202)."""
        return [body for _, _, _, _, body in self.requests if body is not None and not isinstance(body, str)]

    # HTTP

    async def handle(self, request: web.Request) -> web.StreamResponse:
        text = await request.text()
        with self.lock:
            try:
                body = json.loads(text) if text else {}
            except json.JSONDecodeError:
                body = text
            self.requests.append((request.method, request.path, dict(request.query), dict(request.headers), body))
            if self.faults:
                status, headers = self.faults.popleft()
                self.requests[-1] = (*self.requests[-1][:4], None)  # not taken
                return web.json_response({"message": "fault injected by the test"}, status=status, headers=headers)
            answer = self._pagerduty(request, body) if self.kind == "pagerduty" else self._opsgenie(request, body)
            if answer.status != 202:
                self.requests[-1] = (*self.requests[-1][:4], None)
            return answer

    def _pagerduty(self, request: web.Request, body: Any) -> web.Response:
        if (request.method, request.path) != ("POST", "/v2/enqueue"):
            return web.json_response({"status": "not found"}, status=404)
        problems = _pd_problems(body)
        if problems:
            return web.json_response(
                {"status": "invalid event", "message": "Event object is invalid", "errors": problems}, status=400
            )
        action, key = body["event_action"], body.get("dedup_key") or uuid.uuid4().hex
        alert = self.open(key)
        if action == "trigger":
            if alert is None:
                alert = Alert(key, "triggered")
                self.alerts.append(alert)
            else:
                alert.count += 1
            alert.events.append(body)
        elif alert is not None:  # acknowledge / resolve an open alert; otherwise the event is dropped
            alert.events.append(body)
            if action == "resolve":
                alert.status = "resolved"
        return web.json_response({"status": "success", "message": "Event processed", "dedup_key": key}, status=202)

    def _opsgenie(self, request: web.Request, body: Any) -> web.Response:
        request_id = str(uuid.uuid4())
        if request.headers.get("Authorization") != f"GenieKey {GENIE_KEY}":
            return web.json_response(
                {"message": "Could not authenticate", "took": 0.0, "requestId": request_id}, status=401
            )
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and parts == ["v2", "alerts"]:
            errors = _og_create_problems(body)
            if errors:
                return _unprocessable(errors, request_id)
            alias = body.get("alias") or body["message"]
            alert = self.open(alias)
            if alert is None:
                alert = Alert(alias, "open")
                self.alerts.append(alert)
            else:
                alert.count += 1
            alert.events.append(body)
        elif request.method == "POST" and len(parts) == 4 and parts[:2] == ["v2", "alerts"] and parts[3] == "close":
            kind = request.query.get("identifierType", "id")
            if kind not in ("id", "tiny", "alias"):
                return _unprocessable({"identifierType": f"Invalid identifier type [{kind}]"}, request_id)
            if not isinstance(body, dict) or set(body) - OG_CLOSE:
                return _unprocessable({"body": f"unknown fields {sorted(set(body) - OG_CLOSE)}"}, request_id)
            alert = self.open(parts[2]) if kind == "alias" else None
            if alert is not None:  # processed asynchronously: a close of no open alert fails later, quietly
                alert.events.append(body)
                alert.status = "closed"
        else:
            return web.json_response({"message": "Not found", "took": 0.0, "requestId": request_id}, status=404)
        return web.json_response(
            {"result": "Request will be processed", "took": 0.011, "requestId": request_id}, status=202
        )


def _unprocessable(errors: dict[str, str], request_id: str) -> web.Response:
    body = {
        "message": "Request body is not processable. Please check the errors.",
        "errors": errors,
        "took": 0.0,
        "requestId": request_id,
    }
    return web.json_response(body, status=422)


def _pd_problems(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    problems = [f"'{k}' is not a field of an event" for k in sorted(set(body) - PD_TOP)]
    if body.get("routing_key") != ROUTING_KEY:
        problems.append("'routing_key' is invalid")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("'event_action' is missing or invalid")
    key = body.get("dedup_key")
    if key is not None and (not isinstance(key, str) or len(key) > 255):
        problems.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not key:
        problems.append("'dedup_key' is required to acknowledge or resolve")
    if action == "trigger":
        payload = body.get("payload")
        if not isinstance(payload, dict):
            return [*problems, "'payload' is missing"]
        problems += [f"'payload.{k}' is not a field of a payload" for k in sorted(set(payload) - PD_PAYLOAD)]
        summary = payload.get("summary")
        if not isinstance(summary, str) or not summary.strip() or len(summary) > 1024:
            problems.append("'payload.summary' is missing or blank, or longer than 1024")
        if not isinstance(payload.get("source"), str) or not payload["source"]:
            problems.append("'payload.source' is missing or blank")
        if payload.get("severity") not in SEVERITIES:
            problems.append("'payload.severity' must be one of critical, error, warning, info")
        if "custom_details" in payload and not isinstance(payload["custom_details"], dict):
            problems.append("'payload.custom_details' must be an object")
        for link in body.get("links") or []:
            if not isinstance(link, dict) or not link.get("href"):
                problems.append("every link needs an 'href'")
    return problems


def _og_create_problems(body: Any) -> dict[str, str]:
    if not isinstance(body, dict):
        return {"body": "must be a JSON object"}
    errors = {k: "unknown field" for k in sorted(set(body) - OG_CREATE)}
    if not isinstance(body.get("message"), str) or not body["message"].strip():
        errors["message"] = "Message can not be empty."
    for name, limit in OG_LIMITS.items():
        if name in body and (not isinstance(body[name], str) or len(body[name]) > limit):
            errors[name] = f"must be a string of at most {limit} characters"
    if "priority" in body and body["priority"] not in ("P1", "P2", "P3", "P4", "P5"):
        errors["priority"] = "must be one of P1, P2, P3, P4, P5"
    tags = body.get("tags", [])
    if not isinstance(tags, list) or len(tags) > 20 or not all(isinstance(t, str) and len(t) <= 50 for t in tags):
        errors["tags"] = "at most 20 tags of at most 50 characters"
    details = body.get("details", {})
    if not isinstance(details, dict) or not all(isinstance(v, str) for v in details.values()):
        errors["details"] = "must map strings to strings"
    for responder in body.get("responders", []):
        if (
            not isinstance(responder, dict)
            or responder.get("type") not in ("team", "user", "escalation", "schedule")
            or not (responder.get("name") or responder.get("id") or responder.get("username"))
        ):
            errors["responders"] = "each responder needs a type and a name, id or username"
    return errors


@contextmanager
def fake_pager(kind: str) -> Iterator[tuple[ThreadedServer, FakePager]]:
    fake = FakePager(kind)
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", fake.handle)
    with serving(app) as server:
        yield server, fake
