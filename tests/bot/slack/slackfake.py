"""A local Slack: a Web API server that records every call (and can answer 429 with Retry-After), a
response_url endpoint, request signing, and the ActionDesk server started in-process on port 0."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, web
from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret"
BOT_USER = "UBOTACTIONDESK"
BOT_ID = "BBOTACTIONDESK"
TEAM = "T0TEAM"


def fixture(path: Path) -> Any:
    """A Slack fixture file (tests/data/slack, or the shared one it is cross-checked with): JSON, or text."""
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else text


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    at: float
    answer: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakeSlack:
    """Plays the Slack Web API at ``url`` (a WebClient's base_url) and response_url at ``url + 'respond'``."""

    calls: list[Call] = field(default_factory=list)
    responses: list[dict[str, Any]] = field(default_factory=list)
    emails: dict[str, str] = field(default_factory=dict)
    limits: dict[str, list[int]] = field(default_factory=dict)
    url: str = ""
    port: int = 0
    _changed: asyncio.Condition | None = None
    _ts: int = 0
    _runner: web.AppRunner | None = None
    envelopes: list[dict[str, Any]] = field(default_factory=list)
    slow: dict[str, float] = field(default_factory=dict, metadata={"doc": "method -> seconds before answering"})
    socket_acks: list[dict[str, Any]] = field(default_factory=list)

    async def start(self, port: int = 0) -> FakeSlack:
        """Listen on ``port`` (0: any free one); a stopped fake starts again on its old port to play Slack back."""
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/api/respond/{hook}", self._respond)
        app.router.add_get("/socket", self._socket)
        app.router.add_route("*", "/api/{method}", self._method)
        # a stop does not wait out a call held by ``slow`` (its caller has gone)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        host, self.port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{self.port}/api/"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def rate_limit(self, method: str, retry_after: int, times: int = 1, channel: str | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``channel``, if given) with 429 Retry-After."""
        self.limits[f"{method}/{channel}" if channel else method] = [retry_after] * times

    async def _args(self, request: web.Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(request.query)
        raw = await request.text()
        if raw:
            if request.content_type == "application/json":
                args.update(json.loads(raw))
            else:
                args.update(dict(urllib.parse.parse_qsl(raw, keep_blank_values=True)))
        return args

    async def _record(self, call: Call) -> None:
        assert self._changed is not None
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def _method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._args(request)
        limit = next((k for k in (f"{method}/{args.get('channel')}", method) if self.limits.get(k)), None)
        if limit is not None:
            retry = self.limits[limit].pop(0)
            await self._record(Call(method + "#429", args, time.monotonic()))
            limited = {"ok": False, "error": "ratelimited"}
            return web.json_response(limited, status=429, headers={"Retry-After": str(retry)})
        if method in self.slow:
            await asyncio.sleep(self.slow[method])  # plays a slow Slack, so the handler outlives Slack's 3 s
        answer = self._answer(method, args)
        await self._record(Call(method, args, time.monotonic(), answer))
        return web.json_response(answer)

    def _answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        match method:
            case "auth.test":
                return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": TEAM, "user": "actiondesk"}
            case "chat.postMessage":
                self._ts += 1
                ts = f"1700000000.{self._ts:06d}"
                return {"ok": True, "channel": args.get("channel"), "ts": ts, "message": {"ts": ts, "bot_id": BOT_ID}}
            case "chat.update":
                return {"ok": True, "channel": args.get("channel"), "ts": args.get("ts")}
            case "chat.postEphemeral":
                return {"ok": True, "message_ts": "1700000000.999999"}
            case "views.open":
                if str(args.get("trigger_id", "")).startswith("expired"):
                    return {"ok": False, "error": "expired_trigger_id"}
                return {"ok": True, "view": {"id": "V1"}}
            case "apps.connections.open":
                return {"ok": True, "url": self.url.replace("http://", "ws://").replace("/api/", "/socket")}
            case "users.info":
                user = str(args.get("user"))
                email = self.emails.get(user)
                return {"ok": True, "user": {"id": user, "profile": {"email": email} if email else {}}}
        return {"ok": False, "error": "unknown_method"}

    async def _respond(self, request: web.Request) -> web.Response:
        body = json.loads(await request.text())
        await self._record(Call("response_url", {"hook": request.match_info["hook"], **body}, time.monotonic()))
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, send the queued envelopes, record the client's acks."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}})
        for envelope in self.envelopes:
            await ws.send_json(envelope)
        async for message in ws:
            if message.type.name == "TEXT":
                await self._record(Call("socket_ack", json.loads(message.data), time.monotonic()))
        return ws

    def named(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, what: Callable[[FakeSlack], Any], timeout: float = 20.0) -> Any:
        """Wait until ``what(self)`` is truthy (re-checked on every recorded call) and return it."""
        assert self._changed is not None

        async def until() -> Any:
            async with self._changed:
                while not (value := what(self)):
                    await self._changed.wait()
                return value

        return await asyncio.wait_for(until(), timeout)


def signed(body: str, *, secret: str = SECRET, at: float | None = None, content_type: str) -> dict[str, str]:
    timestamp = str(int(at if at is not None else time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature, "Content-Type": content_type}


def event_body(event: dict[str, Any], event_id: str) -> str:
    envelope = {
        "token": "verification_token",
        "team_id": TEAM,
        "api_app_id": "A0ACTIONDESK",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}],
    }
    return json.dumps(envelope)


def action_body(action_id: str, value: str, user: str, trigger: str, channel: str = "C0OPS") -> str:
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A0ACTIONDESK",
        "token": "verification_token",
        "container": {"type": "message", "message_ts": "1700000000.000002", "channel_id": channel},
        "trigger_id": trigger,
        "team": {"id": TEAM, "domain": "acme"},
        "channel": {"id": channel, "name": "ops"},
        "response_url": "http://127.0.0.1:9/unused",
        "actions": [
            {
                "action_id": action_id,
                "block_id": "decision",
                "text": {"type": "plain_text", "text": action_id},
                "value": value,
                "type": "button",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def command_body(text: str, user: str, response_url: str, trigger: str) -> str:
    return urllib.parse.urlencode(
        {
            "token": "verification_token",
            "team_id": TEAM,
            "team_domain": "acme",
            "channel_id": "C0OPS",
            "channel_name": "ops",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/actiondesk",
            "text": text,
            "api_app_id": "A0ACTIONDESK",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger,
        }
    )


async def post(session: ClientSession, url: str, body: str, headers: dict[str, str]) -> tuple[int, str, float]:
    """POST and return status, body and the seconds until the answer came."""
    started = time.monotonic()
    async with session.post(url, data=body.encode(), headers=headers) as response:
        text = await response.text()
        return response.status, text, time.monotonic() - started
