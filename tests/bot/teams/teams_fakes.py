"""The other side of the Bot Framework, on local ports: a token service (OpenID metadata, JWKS with real RSA
keys generated here, client-credentials tokens) and a Bot Connector that records every call the bot makes.
Also: an in-process ActionDesk server built like `serve` builds it, and real activities to POST to it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from actiondesk.bot.scenario.runner import scenario_policy
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.boot import serve_estate
from actiondesk.bot.wiring.root import build_runtime, open_store
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings

ISSUER = "https://api.botframework.com"
APP_ID = "11111111-2222-3333-4444-555555555555"
APP_PASSWORD = "test-client-secret"
BOT_TOKEN = "bot-outbound-token-0001"
AAD = {
    "alice": "00000000-0000-0000-0000-00000000a11c",
    "bob": "00000000-0000-0000-0000-000000000b0b",
    "dave": "00000000-0000-0000-0000-00000000da7e",
    "erin": "00000000-0000-0000-0000-0000000e0e0e",
}
DIRECTORY = """
people:
  alice: {{email: alice@example.com, groups: [support], teams_aad_object_id: "{alice}"}}
  bob: {{email: bob@example.com, groups: [sre], teams_aad_object_id: "{bob}"}}
  dave: {{email: dave@example.com, groups: [support], teams_aad_object_id: "{dave}"}}
  erin: {{email: erin@example.com, groups: [sre]}}
""".format(**AAD)


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@dataclass
class Key:
    kid: str
    private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def jwk(self) -> dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
            "endorsements": ["msteams", "emulator"],
        }


@dataclass(eq=False)  # compared by identity: a retried call has the same fields
class Call:
    method: str
    path: str
    authorization: str | None
    body: Any


class Recorder:
    """A local HTTP server that records calls and lets a test wait for one."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.url = ""
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None

    async def record(self, request: web.Request) -> Call:
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            if request.content_type == "application/json":
                body = json.loads(raw)
            else:
                body = dict(await request.post()) if raw else None
        call = Call(request.method, request.path, request.headers.get("Authorization"), body)
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        return call

    async def wait_for(self, check: Callable[[list[Call]], Any], timeout: float = 20.0) -> Any:
        async def until() -> Any:
            async with self._changed:
                while not (found := check(self.calls)):
                    await self._changed.wait()
                return found

        return await asyncio.wait_for(until(), timeout)

    async def start(self, app: web.Application) -> str:
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


class TokenService(Recorder):
    """OpenID metadata + JWKS (the channel's signing keys) and the bot's client-credentials endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self.key = Key(kid="test-key-1")
        self.keys = [self.key]
        self.down = False

    async def start_service(self) -> str:
        app = web.Application()
        app.router.add_get("/openid", self._openid)
        app.router.add_get("/keys", self._keys)
        app.router.add_post("/token", self._token)
        return await self.start(app)

    async def _openid(self, request: web.Request) -> web.Response:
        await self.record(request)
        if self.down:
            return web.json_response({"error": "unavailable"}, status=503)
        return web.json_response(
            {"issuer": ISSUER, "jwks_uri": f"{self.url}/keys", "id_token_signing_alg_values_supported": ["RS256"]}
        )

    async def _keys(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"keys": [k.jwk() for k in self.keys]})

    async def _token(self, request: web.Request) -> web.Response:
        call = await self.record(request)
        form = call.body or {}
        if form.get("client_id") != APP_ID or form.get("client_secret") != APP_PASSWORD:
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": BOT_TOKEN, "expires_in": 3600, "token_type": "Bearer"})

    def mint(self, service_url: str, *, key: Key | None = None, alg: str = "RS256", **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": ISSUER,
            "aud": APP_ID,
            "serviceurl": service_url,
            "nbf": now - 10,
            "iat": now - 10,
            "exp": now + 600,
        }
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        key = key or self.key
        return jwt.encode(payload, key.private, algorithm=alg, headers={"kid": key.kid})


class Connector(Recorder):
    """The Bot Connector REST API at the activity's serviceUrl (`/v3/conversations/...`)."""

    def __init__(self) -> None:
        super().__init__()
        self.members: dict[str, dict[str, Any]] = {}
        self.throttle: list[int] = []  # statuses to answer the next sends with, before succeeding
        self.ids: dict[int, str] = {}  # index of a POST in calls -> the activity id it was given

    async def start_connector(self) -> str:
        app = web.Application()
        app.router.add_post("/v3/conversations/{conversation}/activities", self._send)
        app.router.add_post("/v3/conversations/{conversation}/activities/{activity}", self._send)
        app.router.add_put("/v3/conversations/{conversation}/activities/{activity}", self._update)
        app.router.add_get("/v3/conversations/{conversation}/members/{member}", self._member)
        return await self.start(app)

    async def _send(self, request: web.Request) -> web.Response:
        new_id = f"bot-{uuid.uuid4().hex[:12]}"
        call = await self.record(request)
        if self.throttle:
            status = self.throttle.pop(0)
            return web.json_response({"error": {"code": "Throttled"}}, status=status, headers={"Retry-After": "0"})
        self.ids[self.calls.index(call)] = new_id
        return web.json_response({"id": new_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        await self.record(request)
        return web.json_response({"id": request.match_info["activity"]})

    async def _member(self, request: web.Request) -> web.Response:
        await self.record(request)
        member = self.members.get(request.match_info["member"])
        if member is None:
            return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)
        return web.json_response(member)

    def sent(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and "/activities" in c.path]

    def updates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "PUT"]


def cards(call: Call) -> list[dict[str, Any]]:
    return [
        a["content"]
        for a in (call.body or {}).get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def card_text(card: dict[str, Any]) -> str:
    return json.dumps(card)


def replay(path: Path, key: str) -> dict[str, Any]:
    """A recorded activity: our own file is the activity itself; a shared replay file holds it under ``key``."""
    data = json.loads(path.read_text())
    return data.get(key, data)


def spoken(activity: dict[str, Any]) -> str:
    """The activity's text without the <at>…</at> mention of the bot (what a case is opened with)."""
    return re.sub(r"<at>[^<]*</at>", "", activity["text"]).strip()


def activity(
    kind: str, service_url: str, *, user: str = "alice", text: str = "", conversation: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A Teams activity shaped like the recorded ones (fixtures/teams), with our own ids."""
    conversation = conversation or f"19:{uuid.uuid4().hex}@thread.tacv2;messageid={int(time.time() * 1000)}"
    body: dict[str, Any] = {
        "type": kind,
        "id": extra.pop("id", f"{int(time.time() * 1000)}{uuid.uuid4().int % 1000:03d}"),
        "timestamp": "2026-11-25T10:00:00.000Z",
        "channelId": "msteams",
        "serviceUrl": service_url,
        "from": {
            "id": f"29:{user}-teams-id",
            "name": user.capitalize(),
            "aadObjectId": AAD.get(user, "ffffffff-0000-0000-0000-00000000ffff"),
        },
        "conversation": {"isGroup": True, "conversationType": "channel", "tenantId": "tenant-1", "id": conversation},
        "recipient": {"id": f"28:{APP_ID}", "name": "ActionDesk"},
        "channelData": {"tenant": {"id": "tenant-1"}},
        "locale": "en-US",
    }
    if text:
        body["text"] = text
    body.update(extra)
    return body


def mention(service_url: str, text: str, **kw: Any) -> dict[str, Any]:
    body = activity("message", service_url, text=f"<at>ActionDesk</at> {text}", textFormat="plain", **kw)
    body["entities"] = [
        {"type": "mention", "mentioned": {"id": f"28:{APP_ID}", "name": "ActionDesk"}, "text": "<at>ActionDesk</at>"}
    ]
    return body


def invoke(service_url: str, verb: str, data: dict[str, Any], *, user: str, conversation: str) -> dict[str, Any]:
    """An Action.Execute click: the adaptiveCard/action invoke with the button's verb and data."""
    value = {"action": {"type": "Action.Execute", "id": verb, "verb": verb, "data": data}, "trigger": "manual"}
    return activity(
        "invoke", service_url, user=user, conversation=conversation, name="adaptiveCard/action", value=value
    )


def execute(
    service_url: str, approval_id: str, verb: str, *, user: str, conversation: str, **data: Any
) -> dict[str, Any]:
    return invoke(service_url, verb, {"approval_id": approval_id, **data}, user=user, conversation=conversation)


async def post_signed(http: Any, url: str, tokens: TokenService, body: dict[str, Any]) -> Any:
    """POST an activity to ActionDesk's /api/messages with a token the local token service minted for it."""
    token = tokens.mint(body["serviceUrl"])
    return await http.post(f"{url}/api/messages", json=body, headers={"Authorization": f"Bearer {token}"})


def settings_for(tmp: Path, token_service: TokenService | None, **extra: Any) -> Settings:
    directory = tmp / "directory.yaml"
    directory.write_text(DIRECTORY)
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp / 'actiondesk.db'}",
        "directory_file": directory,
        "verify_interval_seconds": 0.2,
        "verify_timeout_seconds": 20,
    }
    if token_service is not None:
        values.update(
            microsoft_app_id=APP_ID,
            microsoft_app_password=SecretStr(APP_PASSWORD),
            teams_openid_metadata_url=f"{token_service.url}/openid",
            teams_oauth_url=f"{token_service.url}/token",
        )
    values.update(extra)
    defaults = {name: f.get_default(call_default_factory=True) for name, f in Settings.model_fields.items()}
    return Settings.model_construct(**{**defaults, **values})


@dataclass
class Desk:
    url: str
    runner: web.AppRunner
    runtime: Any


async def start_desk(settings: Settings) -> Desk:
    clock = SystemClock()
    store = await asyncio.to_thread(open_store, settings)
    estate, scenario = await asyncio.to_thread(serve_estate, settings, store, clock)
    feed = ChangeFeed()
    runtime = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings), notify=feed.publish)
    runner = web.AppRunner(make_app(runtime, feed), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return Desk(f"http://{host}:{port}", runner, runtime)


@dataclass
class World:
    """The server, its token service and Bot Connector, and a client that posts signed activities to it."""

    desk: Desk
    tokens: TokenService
    connector: Connector
    http: httpx.AsyncClient

    async def post(self, body: dict[str, Any]) -> httpx.Response:
        token = self.tokens.mint(body["serviceUrl"])
        return await self.http.post(
            f"{self.desk.url}/api/messages", json=body, headers={"Authorization": f"Bearer {token}"}
        )

    async def approval_card(self) -> tuple[str, str]:
        """Wait for the approval card; return (approval id, its activity id)."""

        def found(calls: list) -> tuple[str, str] | None:
            for call in calls:
                for card in cards(call):
                    for action in card.get("actions", []):
                        if action.get("type") == "Action.Execute" and action.get("verb") == "approve":
                            return action["data"]["approval_id"], call
            return None

        approval_id, call = await self.connector.wait_for(found)
        index = self.connector.calls.index(call)
        return approval_id, self.connector.ids[index]


@asynccontextmanager
async def started_world(tmp: Path, **settings: Any) -> AsyncIterator[World]:
    """A World on fresh local servers; ``settings`` overrides fields of the server's Settings."""
    tokens, connector = TokenService(), Connector()
    await tokens.start_service()
    await connector.start_connector()
    desk = await start_desk(settings_for(tmp, tokens, **settings))
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            yield World(desk, tokens, connector, http)
    finally:
        await desk.runner.cleanup()
        await connector.stop()
        await tokens.stop()
