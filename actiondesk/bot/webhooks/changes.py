"""Change events in: what CI/CD deployed, reconfigured, flagged or scaled, stored for triage to read.

Three doors, each with its own credential (none of them takes a console session or an API token); this module
holds the first and what all three share (the token check, the answer), ``deploys.py`` the other two. Each door
translates its sender's body into a ChangeEvent and hands it to the change intake (``agents/changes.py``), which
checks the service, scrubs secrets and stores it once:

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
import hmac
import logging
import uuid
from datetime import UTC, timedelta
from typing import Annotated, Literal

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

from actiondesk.bot.console.views import change_json
from actiondesk.bot.web import jsonbody
from actiondesk.bot.web.appkeys import CHANGES, SERVER
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.errors import UnknownServiceError
from actiondesk.core.ports import ChangeIntake

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


def error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


def problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())


def token_refusal(request: web.Request, token: SecretStr | None, setting: str, off: str) -> web.Response | None:
    """503 while the route's token is unset, 401 for a missing or wrong bearer token, else None (go on)."""
    if token is None:
        return error(503, f"{off}: set {setting}")
    if not _bearer_ok(request, token.get_secret_value()):
        log.warning(
            "%s %s: refused a request from %s (no or wrong token)", request.method, request.path, request.remote
        )
        return error(401, f"send Authorization: Bearer <{setting}>", **_CHALLENGE)
    return None


def _bearer_ok(request: web.Request, secret: str) -> bool:
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {secret}".encode())


def canonical_service(intake: ChangeIntake, name: str) -> str:
    """The estate's name of the service ``name`` names (itself or an alias); Refusal 422 when none."""
    try:
        return intake.service(name)
    except UnknownServiceError as exc:
        raise Refusal(422, str(exc)) from None


def answer(stored: ChangeEvent, created: bool) -> web.Response:
    return web.json_response(
        {"id": stored.id, "created": created, "change": change_json(stored)}, status=201 if created else 200
    )


# -- POST /api/changes ------------------------------------------------------------------------------------------


def event_from_body(intake: ChangeIntake, body: ChangeBody) -> ChangeEvent:
    now = intake.now()
    at = body.at.astimezone(UTC) if body.at is not None else now
    if at > now + FUTURE_SLACK:
        raise Refusal(422, f"at: {at.isoformat()} is in the future (now is {now.isoformat()})")
    return ChangeEvent(
        id=body.id or f"chg-{uuid.uuid4().hex}",
        service=canonical_service(intake, body.service),
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
    intake = request.app[CHANGES]
    refused = token_refusal(
        request, request.app[SERVER].changes_token, "ACTIONDESK_CHANGES_TOKEN", "change events are off"
    )
    if refused is not None:
        return refused
    try:
        body = ChangeBody.model_validate(await jsonbody.read(request))
    except ValidationError as exc:
        return error(422, problems(exc))

    def record() -> tuple[ChangeEvent, bool]:
        return intake.record(event_from_body(intake, body), "changes-api")

    try:
        return answer(*await asyncio.to_thread(record))
    except Refusal as exc:
        return error(exc.status, exc.message)


_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="actiondesk-changes"'}


def add_change_routes(app: web.Application) -> None:
    app.router.add_post("/api/changes", post_change)
