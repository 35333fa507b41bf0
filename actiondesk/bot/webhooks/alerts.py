"""The Alertmanager webhook (`POST /api/alerts`): a firing alert opens a case, or reaches the open case its
fingerprint already has; a resolved alert is noted in that case's thread.

Alertmanager sends ``Authorization: Bearer <token>`` when its webhook_config has ``http_config.authorization``;
with ACTIONDESK_ALERT_TOKEN set every other request is refused, and without it only loopback senders are heard.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import datetime
from ipaddress import ip_address

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actiondesk.agents.desk import FrontDesk
from actiondesk.bot.web import jsonbody
from actiondesk.bot.web.appkeys import FRONT, SERVER, WORKER

log = logging.getLogger(__name__)


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    status: str = Field(pattern="^(firing|resolved)$")
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: datetime = Field(alias="startsAt")
    fingerprint: str | None = None

    @property
    def key(self) -> str:
        if self.fingerprint:
            return self.fingerprint
        labels = json.dumps(self.labels, sort_keys=True).encode()
        return hashlib.sha256(labels).hexdigest()[:16]

    @property
    def text(self) -> str:
        name = self.labels.get("alertname", "alert")
        what = self.annotations.get("summary") or self.annotations.get("description") or name
        return f"[alert {name} {self.status}] {what}"


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    version: str = "4"
    alerts: list[Alert] = Field(min_length=1, max_length=500)


def _allowed(request: web.Request, token: str | None) -> bool:
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    try:
        return ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def receive(request: web.Request) -> web.Response:
    secret = request.app[SERVER].alert_token
    token = secret.get_secret_value() if secret else None
    if not _allowed(request, token):
        log.warning("alert webhook: refused a request from %s", request.remote)
        return web.json_response({"error": "not authorised"}, status=401)
    try:
        payload = Payload.model_validate(await jsonbody.read(request))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return web.json_response({"error": problems}, status=400)
    touched = await asyncio.to_thread(_apply, request.app[FRONT], payload)
    for case_id in touched:
        request.app[WORKER].kick(case_id)
    return web.json_response({"cases": touched})


def _apply(front: FrontDesk, payload: Payload) -> list[str]:
    touched: list[str] = []
    for alert in payload.alerts:
        delivery = f"alert:{alert.key}:{alert.starts_at.isoformat()}:{alert.status}"
        service = alert.labels.get("service") or alert.labels.get("job")
        firing = alert.status == "firing"
        case_id = front.alert(alert.key, alert.text, firing=firing, delivery=delivery, service=service)
        if case_id is not None:
            touched.append(case_id)
    return touched


def add_alert_routes(app: web.Application) -> None:
    app.router.add_post("/api/alerts", receive)
