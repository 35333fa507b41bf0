"""Change events in: what CI/CD deployed, reconfigured, flagged or scaled, stored for triage to read.

Three doors, each with its own credential (none of them takes a console session or an API token):

- ``POST /api/changes`` — any pipeline: ``Authorization: Bearer <ACTIONDESK_CHANGES_TOKEN>`` and a JSON body
  ``{"id"?, "service", "kind": "deploy|config_change|flag|scale", "at"? (RFC 3339, default now), "version",
  "previous_version", "commit", "key", "value", "previous_value", "replicas", "previous_replicas", "author",
  "url"}``, fields by kind. 201 with the change's id; a resend with a known ``id`` is 200 with the same id and
  changes nothing.
- ``POST /webhooks/github`` — GitHub's ``deployment_status`` event, signed with ``X-Hub-Signature-256`` (HMAC-SHA256
  of the raw body with ACTIONDESK_GITHUB_WEBHOOK_SECRET). ``ping`` is answered; a status whose state is
  ``success`` is recorded as a deploy, once per deployment id; other events and states are acknowledged (202) and
  ignored.
- ``POST /webhooks/argocd`` — an Argo CD notifications webhook (the template is in the README) with
  ``Authorization: Bearer <ACTIONDESK_ARGOCD_WEBHOOK_TOKEN>``; a sync whose phase is ``Succeeded`` is a deploy of
  its revision, once per application and sync.

A route whose secret is unset answers 503 (the feature is off; nothing else is refused at start). A change for a
service the estate does not know is 422 naming it; an alias is taken for the service it names. Every change
stored is audited (``change_recorded``) in the transaction that stores it. ``GET /api/changes`` (behind the
console's sign-in) lists the recent ones.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from actiondesk.bot import jsonbody
from actiondesk.bot.app import Runtime
from actiondesk.bot.appkeys import RUNTIME
from actiondesk.bot.console.views import change_json
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.redact import REDACTED, redact_text, secret_name

log = logging.getLogger(__name__)

FUTURE_SLACK = timedelta(minutes=5)  # a sender's clock may run a little ahead; more is a mistake
ChangeId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/@+-]{0,199}$")]
Short = Annotated[str, StringConstraints(max_length=500)]
Url = Annotated[str, StringConstraints(pattern=r"^(https?://\S{1,2000})?$")]

# The optional fields each kind may carry, and the one it must.
FIELDS: dict[str, tuple[frozenset[str], str]] = {
    "deploy": (frozenset({"version", "previous_version", "commit"}), "version"),
    "config_change": (frozenset({"key", "value", "previous_value"}), "key"),
    "flag": (frozenset({"key", "value", "previous_value"}), "key"),
    "scale": (frozenset({"replicas", "previous_replicas"}), "replicas"),
}
KIND_FIELDS = frozenset().union(*(fields for fields, _ in FIELDS.values()))


class ChangeBody(BaseModel):
    """The body of ``POST /api/changes``."""

    model_config = ConfigDict(extra="forbid")

    id: ChangeId | None = None
    service: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    kind: Literal["deploy", "config_change", "flag", "scale"]
    at: AwareDatetime | None = None
    version: Short | None = None
    previous_version: Short | None = None
    commit: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{4,64}$")] | None = None
    key: Short | None = None
    value: Annotated[str, StringConstraints(max_length=4000)] | None = None
    previous_value: Annotated[str, StringConstraints(max_length=4000)] | None = None
    replicas: int | None = Field(default=None, ge=0, le=100_000)
    previous_replicas: int | None = Field(default=None, ge=0, le=100_000)
    author: Annotated[str, StringConstraints(max_length=200)] = ""
    url: Url = ""

    @model_validator(mode="after")
    def _fields_by_kind(self) -> ChangeBody:
        allowed, required = FIELDS[self.kind]
        given = {name for name in KIND_FIELDS if getattr(self, name) is not None}
        wrong = sorted(given - allowed)
        if wrong:
            raise ValueError(f"a {self.kind} change has no {', '.join(wrong)} (it takes {', '.join(sorted(allowed))})")
        if getattr(self, required) is None or getattr(self, required) == "":
            raise ValueError(f"a {self.kind} change needs {required}")
        return self


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())


def _token_refusal(request: web.Request, token: SecretStr | None, setting: str, off: str) -> web.Response | None:
    """503 while the route's token is unset, 401 for a missing or wrong bearer token, else None (go on)."""
    if token is None:
        return _error(503, f"{off}: set {setting}")
    if not _bearer_ok(request, token.get_secret_value()):
        log.warning(
            "%s %s: refused a request from %s (no or wrong token)", request.method, request.path, request.remote
        )
        return _error(401, f"send Authorization: Bearer <{setting}>", **_CHALLENGE)
    return None


def _bearer_ok(request: web.Request, secret: str) -> bool:
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {secret}".encode())


def canonical_service(runtime: Runtime, name: str) -> str:
    """The estate's name of the service ``name`` names (itself or an alias); Refusal 422 when none."""
    services = (runtime.world.inventory if runtime.world is not None else runtime.estate).services()
    for service in services:
        if service.name == name:
            return name
    for service in services:
        if name in service.aliases:
            return service.name
    raise Refusal(422, f"service {name!r} is not in the estate (known: {', '.join(s.name for s in services)})")


def scrubbed(event: ChangeEvent) -> ChangeEvent:
    """The event with no secret in it: the value of a secret-looking key (``DB_PASSWORD``, ``api_token``) is
    never stored, only that it changed; tokens and ``password=...`` in any text are redacted."""

    def clean(text: str | None) -> str | None:
        return None if text is None else redact_text(text)

    value, previous = clean(event.value), clean(event.previous_value)
    if event.key is not None and secret_name(event.key):
        value = None if value is None else REDACTED
        previous = None if previous is None else REDACTED
    return replace(
        event,
        version=clean(event.version),
        previous_version=clean(event.previous_version),
        value=value,
        previous_value=previous,
        author=redact_text(event.author),
        url=redact_text(event.url),
    )


def _store(runtime: Runtime, event: ChangeEvent, actor: str) -> tuple[ChangeEvent, bool]:
    event = scrubbed(event)
    stored, created = runtime.store.record_change(event, actor=actor, received_at=runtime.clock.now())
    if created:
        log.info("change %s: %s of %s recorded from %s", stored.id, stored.kind, stored.service, stored.source)
    return stored, created


def _answer(stored: ChangeEvent, created: bool) -> web.Response:
    return web.json_response(
        {"id": stored.id, "created": created, "change": change_json(stored)}, status=201 if created else 200
    )


# -- POST /api/changes ------------------------------------------------------------------------------------------


def event_from_body(runtime: Runtime, body: ChangeBody) -> ChangeEvent:
    now = runtime.clock.now()
    at = body.at.astimezone(UTC) if body.at is not None else now
    if at > now + FUTURE_SLACK:
        raise Refusal(422, f"at: {at.isoformat()} is in the future (now is {now.isoformat()})")
    return ChangeEvent(
        id=body.id or f"chg-{uuid.uuid4().hex}",
        service=canonical_service(runtime, body.service),
        kind=body.kind,
        at=at,
        source="api",
        version=body.version,
        previous_version=body.previous_version,
        commit=body.commit,
        key=body.key,
        value=body.value,
        previous_value=body.previous_value,
        replicas=body.replicas,
        previous_replicas=body.previous_replicas,
        author=body.author,
        url=body.url,
    )


async def post_change(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    refused = _token_refusal(
        request, runtime.settings.changes_token, "ACTIONDESK_CHANGES_TOKEN", "change events are off"
    )
    if refused is not None:
        return refused
    try:
        body = ChangeBody.model_validate(await jsonbody.read(request))
    except ValidationError as exc:
        return _error(422, _problems(exc))

    def store() -> tuple[ChangeEvent, bool]:
        return _store(runtime, event_from_body(runtime, body), "changes-api")

    try:
        return _answer(*await asyncio.to_thread(store))
    except Refusal as exc:
        return _error(exc.status, exc.message)


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="actiondesk-changes"'}


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


def github_service(runtime: Runtime, repository: str, environment: str, payload: dict[str, Any]) -> str:
    """The deployment's service: ``payload.service``, else ACTIONDESK_GITHUB_SERVICES by ``repo@environment`` then
    by ``repo``, else the repository's name."""
    named = _text(payload.get("service"))
    if named is None:
        mapping = runtime.settings.github_services
        named = mapping.get(f"{repository}@{environment}") or mapping.get(repository) or repository.split("/")[-1]
    return canonical_service(runtime, named)


def github_event(runtime: Runtime, data: dict[str, Any]) -> ChangeEvent | str:
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
    service = github_service(runtime, repo, environment, payload)
    sha = _text(deployment.get("sha"))
    at = _parse_time(_text(status.get("created_at")) or _text(status.get("updated_at"))) or runtime.clock.now()
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
    runtime = request.app[RUNTIME]
    secret = runtime.settings.github_webhook_secret
    if secret is None:
        return _error(503, "the GitHub webhook is off: set ACTIONDESK_GITHUB_WEBHOOK_SECRET")
    raw = await request.read()
    if not signature_ok(secret.get_secret_value(), raw, request.headers.get("X-Hub-Signature-256")):
        log.warning("POST /webhooks/github: refused a delivery from %s (bad or missing signature)", request.remote)
        return _error(401, "the X-Hub-Signature-256 signature is missing or wrong")
    event = request.headers.get("X-GitHub-Event", "")
    if event == "ping":
        return web.json_response({"pong": True})
    if request.content_type != "application/json":
        return _error(415, "set the webhook's content type to application/json")
    if event != "deployment_status":
        return web.json_response({"ignored": f"event {event!r} (only deployment_status is read)"}, status=202)
    data = jsonbody.parse(raw)
    if not isinstance(data, dict):
        return _error(400, "the body is not a JSON object")

    def store() -> web.Response:
        found = github_event(runtime, data)
        if isinstance(found, str):
            return web.json_response({"ignored": found}, status=202)
        return _answer(*_store(runtime, found, "github"))

    try:
        return await asyncio.to_thread(store)
    except Refusal as exc:
        return _error(exc.status, exc.message)


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


def argocd_event(runtime: Runtime, body: ArgoCdBody) -> ChangeEvent | str:
    if body.phase != "Succeeded":
        return f"sync phase {body.phase!r} is not a finished deploy"
    if not body.revision:
        raise Refusal(422, "revision: a succeeded sync needs the revision it synced to")
    at = _parse_time(body.finished_at or None) or runtime.clock.now()
    sync = body.started_at or body.finished_at or at.isoformat()
    commit = body.revision if all(c in "0123456789abcdefABCDEF" for c in body.revision) else None
    return ChangeEvent(
        id=f"argocd:{body.app}:{body.revision}:{sync}"[:255],
        service=canonical_service(runtime, body.service or body.app),
        kind="deploy",
        at=at,
        source="argocd",
        version=body.version or body.revision,
        commit=commit,
        author=body.author,
        url=body.url,
    )


async def argocd_webhook(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    token = runtime.settings.argocd_webhook_token
    refused = _token_refusal(request, token, "ACTIONDESK_ARGOCD_WEBHOOK_TOKEN", "the Argo CD webhook is off")
    if refused is not None:
        return refused
    try:
        body = ArgoCdBody.model_validate(await jsonbody.read(request))
    except ValidationError as exc:
        return _error(422, _problems(exc))

    def store() -> web.Response:
        found = argocd_event(runtime, body)
        if isinstance(found, str):
            return web.json_response({"ignored": found}, status=202)
        return _answer(*_store(runtime, found, "argocd"))

    try:
        return await asyncio.to_thread(store)
    except Refusal as exc:
        return _error(exc.status, exc.message)


def add_change_routes(app: web.Application) -> None:
    app.router.add_post("/api/changes", post_change)
    app.router.add_post("/webhooks/github", github_webhook)
    app.router.add_post("/webhooks/argocd", argocd_webhook)
