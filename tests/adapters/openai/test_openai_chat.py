"""The openai adapter against a local endpoint: the real SDK, our bounded retries and circuit, typed turns."""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web

from actiondesk.adapters.openai import OpenAIChatModel, RetryPolicy
from actiondesk.adapters.sandbox import DEFAULT_START
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ModelRejectedError, ModelUnavailableError

TURN = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 0,
    "model": "m-1",
    "choices": [
        {
            "index": 0,
            "finish_reason": "tool_calls",
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "get_logs", "arguments": '{"service":"x"}'}}
                ],
            },
        }
    ],
    "usage": {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16},
}


class Endpoint:
    """Answers from a queue of (status, headers, body); ``hang`` holds a request until the test ends."""

    def __init__(self) -> None:
        self.replies: deque[tuple[int, dict[str, str], Any]] = deque()
        self.bodies: list[dict[str, Any]] = []
        self.port = 0
        self.release: asyncio.Event | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _handle(self, request: web.Request) -> web.Response:
        self.bodies.append(json.loads(await request.read()))
        assert self.replies, "unexpected request"
        status, headers, body = self.replies.popleft()
        if body == "hang":
            assert self.release is not None
            await self.release.wait()
        return web.json_response(body if isinstance(body, dict) else {"error": {}}, status=status, headers=headers)

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self.release = asyncio.Event()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def start(self) -> Endpoint:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def stop(self) -> None:
        assert self._loop is not None
        release = self.release
        assert release is not None
        self._loop.call_soon_threadsafe(release.set)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    server = Endpoint().start()
    yield server
    server.stop()
    assert not server.replies, "a scripted reply was never asked for"


def chat(endpoint: Endpoint, clock: SimulatedClock, timeout: float = 5.0) -> OpenAIChatModel:
    return OpenAIChatModel(
        model="m-1",
        api_key="sk-test-abcdefghijklmnopqrstu",
        base_url=f"http://127.0.0.1:{endpoint.port}/v1",
        timeout_seconds=timeout,
        clock=clock,
        policy=RetryPolicy(open_seconds=300),
    )


MESSAGES = [{"role": "user", "content": "hello"}]


def test_a_turn_comes_back_typed_with_its_usage(endpoint: Endpoint) -> None:
    endpoint.replies.append((200, {}, TURN))
    turn = chat(endpoint, SimulatedClock(DEFAULT_START)).complete(MESSAGES, [{"type": "function"}])

    assert turn.model == "m-1"
    assert [(c.name, c.arguments) for c in turn.tool_calls] == [("get_logs", '{"service":"x"}')]
    assert (turn.usage.prompt_tokens, turn.usage.completion_tokens) == (11, 5)
    (body,) = endpoint.bodies
    assert body["parallel_tool_calls"] is False
    assert body["messages"] == MESSAGES


def test_retry_after_is_honoured_on_429_and_5xx_then_the_call_succeeds(endpoint: Endpoint) -> None:
    clock = SimulatedClock(DEFAULT_START)
    endpoint.replies.extend([(429, {"Retry-After": "12"}, None), (503, {}, None), (200, {}, TURN)])
    turn = chat(endpoint, clock).complete(MESSAGES, [])

    assert turn.tool_calls
    assert (clock.now() - DEFAULT_START).total_seconds() == 12 + 2, "Retry-After, then the doubled backoff"
    assert len(endpoint.bodies) == 3


def test_after_three_retries_the_circuit_opens_and_nothing_more_is_sent(endpoint: Endpoint) -> None:
    clock = SimulatedClock(DEFAULT_START)
    endpoint.replies.extend([(500, {}, None)] * 4)
    model = chat(endpoint, clock)
    with pytest.raises(ModelUnavailableError, match="HTTP 500"):
        model.complete(MESSAGES, [])
    for _ in range(5):
        with pytest.raises(ModelUnavailableError, match="circuit open"):
            model.complete(MESSAGES, [])
    assert len(endpoint.bodies) == 4, "one call and three retries; then the open circuit sends nothing"

    clock.advance(301)
    endpoint.replies.append((200, {}, TURN))
    assert model.complete(MESSAGES, []).tool_calls, "after a while the endpoint is asked again"


def test_a_retry_after_longer_than_we_wait_fails_at_once(endpoint: Endpoint) -> None:
    endpoint.replies.append((429, {"Retry-After": "3600"}, None))
    with pytest.raises(ModelUnavailableError, match="asked to wait 3600"):
        chat(endpoint, SimulatedClock(DEFAULT_START)).complete(MESSAGES, [])


def test_a_rejected_request_is_not_retried(endpoint: Endpoint) -> None:
    endpoint.replies.append((401, {}, None))
    with pytest.raises(ModelRejectedError, match="HTTP 401"):
        chat(endpoint, SimulatedClock(DEFAULT_START)).complete(MESSAGES, [])
    assert len(endpoint.bodies) == 1


def test_a_request_timeout_is_retried_a_bounded_number_of_times(endpoint: Endpoint) -> None:
    endpoint.replies.extend([(200, {}, "hang")] * 4)
    with pytest.raises(ModelUnavailableError, match="APITimeoutError"):
        chat(endpoint, SimulatedClock(DEFAULT_START), timeout=0.2).complete(MESSAGES, [])
    assert len(endpoint.bodies) == 4
