"""A local OpenAI-compatible endpoint that replays scripted model turns strictly: a request with no turn left,
or a turn left unconsumed, fails the test. Each answer's prompt tokens are the request body's size / 4."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Check = Callable[[dict[str, Any]], None]


@dataclass
class Reply:
    """One scripted answer: a model turn (``body``) or an HTTP failure (``status`` other than 200)."""

    body: dict[str, Any] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    check: Check | None = None
    completion_tokens: int = 20


def call(name: str, arguments: dict[str, Any] | str, *, check: Check | None = None, call_id: str = "") -> Reply:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id or f"call-{name}", "type": "function", "function": {"name": name, "arguments": args}}
        ],
    }
    return Reply(body={"message": message, "finish_reason": "tool_calls"}, check=check)


def say(text: str, *, check: Check | None = None) -> Reply:
    return Reply(body={"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}, check=check)


def fail(status: int, retry_after: str | None = None) -> Reply:
    return Reply(status=status, headers={"Retry-After": retry_after} if retry_after else {})


def last_tool_message(request: dict[str, Any]) -> dict[str, Any]:
    message = request["messages"][-1]
    assert message["role"] == "tool", message
    return json.loads(message["content"])


class ScriptedModel:
    def __init__(self, model: str = "scripted-1") -> None:
        self.model = model
        self.script: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.raw: list[bytes] = []
        self.errors: list[str] = []
        self.respond: Callable[[dict[str, Any]], Reply] | None = None  # answers once the script is used up
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def add(self, *replies: Reply) -> None:
        self.script.extend(replies)

    async def _completions(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.raw.append(raw)
        body = json.loads(raw)
        self.requests.append(body)
        if not self.script and self.respond is not None:
            self.script.append(self.respond(body))
        if not self.script:
            self.errors.append(f"unexpected request #{len(self.requests)}: {raw[:300]!r}")
            return web.json_response({"error": {"message": "no scripted turn left"}}, status=418)
        reply = self.script.popleft()
        if reply.check is not None:
            try:
                reply.check(body)
            except AssertionError as exc:
                self.errors.append(f"request #{len(self.requests)} was not what the script expected: {exc}")
                return web.json_response({"error": {"message": "unexpected request"}}, status=418)
        if reply.status != 200:
            return web.json_response(
                {"error": {"message": "scripted failure"}}, status=reply.status, headers=reply.headers
            )
        assert reply.body is not None
        prompt = len(raw) // 4
        return web.json_response(
            {
                "id": f"chatcmpl-{len(self.requests)}",
                "object": "chat.completion",
                "created": 0,
                "model": self.model,
                "choices": [{"index": 0, **reply.body}],
                "usage": {
                    "prompt_tokens": prompt,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": prompt + reply.completion_tokens,
                },
            }
        )

    def start(self) -> ScriptedModel:
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()
        assert self._ready.wait(10), "the scripted model did not start"
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._completions)
        self._runner = web.AppRunner(app)
        loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def assert_done(self) -> None:
        assert not self.errors, self.errors
        assert not self.script, f"{len(self.script)} scripted turn(s) never asked for"


def closed_port() -> int:
    """A port nothing listens on: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_FINDING = re.compile(r"Triage finding: (\{.*\})\n")


INVESTIGATOR = "You are the investigation agent"


def investigating(request: dict[str, Any]) -> bool:
    return str(request["messages"][0]["content"]).startswith(INVESTIGATOR)


def operator(request: dict[str, Any]) -> Reply:
    """A model that does what an on-call engineer would for the findings the estate knows, and stops after one
    change (or hands off when policy did not let it run). Asked to investigate where triage's rules could not
    conclude, it says it cannot tell either."""
    if investigating(request):
        return say("I cannot tell which change caused this either; a person should look.")
    last = request["messages"][-1]
    if last["role"] == "tool":
        outcome = json.loads(last["content"])
        return say("Done: the change ran." if outcome.get("status") == "succeeded" else "A person must take this.")
    match = _FINDING.search(request["messages"][1]["content"])
    assert match is not None, "the finding is in the first user message"
    facts = json.loads(match.group(1))
    culprit, subject = facts.get("culprit"), facts.get("subject")
    if facts["kind"] == "bad_deploy" and culprit:
        return call(
            "rollback_deployment",
            {
                "service": culprit["service"],
                "to_version": culprit["previous_version"],
                "from_version": culprit["version"],
                "reason": f"onset after {culprit['version']}",
            },
        )
    if facts["kind"] in ("bad_config", "bad_flag") and culprit:
        action = "set_config_value" if facts["kind"] == "bad_config" else "set_feature_flag"
        return call(
            action,
            {
                "service": culprit["service"],
                "key": culprit["key"],
                "value": culprit["previous_value"],
                "expected": culprit["value"],
                "reason": f"onset after {culprit['key']}={culprit['value']}",
            },
        )
    if facts["kind"] == "bad_scale" and culprit:
        return call(
            "scale_service",
            {
                "service": culprit["service"],
                "replicas": culprit["previous_replicas"],
                "expected_replicas": culprit["replicas"],
                "reason": "onset after scaling",
            },
        )
    staples = {"vpn_locked": ("reset_vpn_session", "user"), "password_reset": ("reset_password", "user")}
    staples["disk_full"] = ("clear_log_volume", "host")
    if facts["kind"] in staples and subject:
        action, key = staples[facts["kind"]]
        return call(action, {key: subject})
    return say("I cannot tell what to change; a person should look.")
