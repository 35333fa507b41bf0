"""Deploy notifications in: GitHub's ``deployment_status`` event (``POST /webhooks/github``, signed with
ACTIONDESK_GITHUB_WEBHOOK_SECRET) and Argo CD's sync notification (``POST /webhooks/argocd``, with
ACTIONDESK_ARGOCD_WEBHOOK_TOKEN), each recorded once as a deploy through the change intake, as ``changes.py`` does."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from actiondesk.bot.web import jsonbody
from actiondesk.bot.web.appkeys import CHANGES, SERVER
from actiondesk.bot.webhooks.changes import (
    Refusal,
    Url,
    answer,
    canonical_service,
    error,
    problems,
    token_refusal,
)
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.ports import ChangeIntake

log = logging.getLogger(__name__)


# -- POST /webhooks/github --------------------------------------------------------------------------------------


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """GitHub's ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``, compared in constant time."""
    if not header or not header.startswith("sha256="):
        return False
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header.encode(), expected.encode())


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def github_service(
    intake: ChangeIntake, mapping: dict[str, str], repository: str, environment: str, payload: dict[str, Any]
) -> str:
    """The deployment's service: ``payload.service``, else ACTIONDESK_GITHUB_SERVICES by ``repo@environment`` then
    by ``repo``, else the repository's name."""
    named = _text(payload.get("service"))
    if named is None:
        named = mapping.get(f"{repository}@{environment}") or mapping.get(repository) or repository.split("/")[-1]
    return canonical_service(intake, named)


def github_event(intake: ChangeIntake, mapping: dict[str, str], data: dict[str, Any]) -> ChangeEvent | str:
    """The deploy a ``deployment_status`` event reports, or why it is ignored."""
    status, deployment = _dict(data.get("deployment_status")), _dict(data.get("deployment"))
    repository = _dict(data.get("repository"))
    state = status.get("state")
    if state != "success":
        return f"deployment status {state!r} is not a finished deploy"
    deployment_id, repo = deployment.get("id"), _text(repository.get("full_name"))
    if not isinstance(deployment_id, int) or repo is None:
        raise Refusal(422, "a deployment_status event needs deployment.id and repository.full_name")
    payload = deployment.get("payload")
    if isinstance(payload, str):  # GitHub keeps the payload as the creator sent it: an object or a JSON text
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = {}
    payload = _dict(payload)
    environment = _text(deployment.get("environment")) or ""
    service = github_service(intake, mapping, repo, environment, payload)
    sha = _text(deployment.get("sha"))
    at = _parse_time(_text(status.get("created_at")) or _text(status.get("updated_at"))) or intake.now()
    creator = _dict(status.get("creator")) or _dict(deployment.get("creator"))
    return ChangeEvent(
        id=f"github:{repo}:{deployment_id}",
        service=service,
        kind="deploy",
        at=at,
        source="github",
        version=_text(payload.get("version")) or _text(deployment.get("ref")) or sha or str(deployment_id),
        previous_version=_text(payload.get("previous_version")),
        commit=sha,
        author=_text(creator.get("login")) or "",
        url=_text(status.get("log_url"))
        or _text(status.get("target_url"))
        or _text(status.get("environment_url"))
        or "",
    )


def _parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at.astimezone(UTC) if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def github_webhook(request: web.Request) -> web.Response:
    intake, server = request.app[CHANGES], request.app[SERVER]
    secret = server.github_webhook_secret
    if secret is None:
        return error(503, "the GitHub webhook is off: set ACTIONDESK_GITHUB_WEBHOOK_SECRET")
    raw = await request.read()
    if not signature_ok(secret.get_secret_value(), raw, request.headers.get("X-Hub-Signature-256")):
        log.warning("POST /webhooks/github: refused a delivery from %s (bad or missing signature)", request.remote)
        return error(401, "the X-Hub-Signature-256 signature is missing or wrong")
    event = request.headers.get("X-GitHub-Event", "")
    if event == "ping":
        return web.json_response({"pong": True})
    if request.content_type != "application/json":
        return error(415, "set the webhook's content type to application/json")
    if event != "deployment_status":
        return web.json_response({"ignored": f"event {event!r} (only deployment_status is read)"}, status=202)
    data = jsonbody.parse(raw)
    if not isinstance(data, dict):
        return error(400, "the body is not a JSON object")

    def record() -> web.Response:
        found = github_event(intake, server.github_services, data)
        if isinstance(found, str):
            return web.json_response({"ignored": found}, status=202)
        return answer(*intake.record(found, "github"))

    try:
        return await asyncio.to_thread(record)
    except Refusal as exc:
        return error(exc.status, exc.message)


# -- POST /webhooks/argocd --------------------------------------------------------------------------------------


class ArgoCdBody(BaseModel):
    """What the README's Argo CD notification template sends."""

    model_config = ConfigDict(extra="ignore")

    app: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    service: Annotated[str, StringConstraints(max_length=255)] = ""
    phase: str
    revision: Annotated[str, StringConstraints(max_length=255)] = ""
    started_at: Annotated[str, StringConstraints(max_length=64)] = Field(default="", alias="startedAt")
    finished_at: Annotated[str, StringConstraints(max_length=64)] = Field(default="", alias="finishedAt")
    version: Annotated[str, StringConstraints(max_length=500)] = ""
    author: Annotated[str, StringConstraints(max_length=200)] = ""
    url: Url = ""


def argocd_event(intake: ChangeIntake, body: ArgoCdBody) -> ChangeEvent | str:
    if body.phase != "Succeeded":
        return f"sync phase {body.phase!r} is not a finished deploy"
    if not body.revision:
        raise Refusal(422, "revision: a succeeded sync needs the revision it synced to")
    at = _parse_time(body.finished_at or None) or intake.now()
    sync = body.started_at or body.finished_at or at.isoformat()
    commit = body.revision if all(c in "0123456789abcdefABCDEF" for c in body.revision) else None
    return ChangeEvent(
        id=f"argocd:{body.app}:{body.revision}:{sync}"[:255],
        service=canonical_service(intake, body.service or body.app),
        kind="deploy",
        at=at,
        source="argocd",
        version=body.version or body.revision,
        commit=commit,
        author=body.author,
        url=body.url,
    )


async def argocd_webhook(request: web.Request) -> web.Response:
    intake = request.app[CHANGES]
    token = request.app[SERVER].argocd_webhook_token
    refused = token_refusal(request, token, "ACTIONDESK_ARGOCD_WEBHOOK_TOKEN", "the Argo CD webhook is off")
    if refused is not None:
        return refused
    try:
        body = ArgoCdBody.model_validate(await jsonbody.read(request))
    except ValidationError as exc:
        return error(422, problems(exc))

    def record() -> web.Response:
        found = argocd_event(intake, body)
        if isinstance(found, str):
            return web.json_response({"ignored": found}, status=202)
        return answer(*intake.record(found, "argocd"))

    try:
        return await asyncio.to_thread(record)
    except Refusal as exc:
        return error(exc.status, exc.message)


def add_deploy_routes(app: web.Application) -> None:
    app.router.add_post("/webhooks/github", github_webhook)
    app.router.add_post("/webhooks/argocd", argocd_webhook)
