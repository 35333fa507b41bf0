"""Deeply nested JSON is a 400 on every JSON endpoint, not a 500 (defect found under attack: 100,000 ``[``
exhausted the parser's recursion on /api/messages, /api/cases, /api/alerts and /api/approvals/*)."""

from __future__ import annotations

import pytest
from aiohttp import web
from authn import bearer

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.web.jsonbody import MAX_DEPTH, depth, parse
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings

NESTED = b"[" * 100_000
JUST_TOO_DEEP = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)


@pytest.fixture
async def served(aiohttp_client, store, database_url):  # type: ignore[no-untyped-def]
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    clock = SystemClock()
    runtime = build_runtime(
        settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
    )
    return await aiohttp_client(make_app(runtime, ChangeFeed())), runtime


@pytest.mark.parametrize("body", [NESTED, JUST_TOO_DEEP], ids=["100,000 levels", f"{MAX_DEPTH + 1} levels"])
@pytest.mark.parametrize(
    "path", ["/api/messages", "/api/cases", "/api/alerts", "/api/approvals/A-1", "/api/cases/C-1/messages"]
)
async def test_deeply_nested_json_is_a_400_everywhere(served, path: str, body: bytes) -> None:
    http, runtime = served
    headers = {**bearer(runtime, "bob"), "Content-Type": "application/json"}
    if path in ("/api/messages", "/api/alerts"):
        headers = {"Content-Type": "application/json"}  # their own credentials: loopback Teams dev mode, alerts
    answer = await http.post(path, data=body, headers=headers)
    assert answer.status == 400, (path, await answer.text())
    assert runtime.store.list_cases() == []


def test_depth_is_measured_without_recursion() -> None:
    assert depth(parse(b'{"a": [1, {"b": []}]}')) == 4  # object, array, object, array
    assert depth(parse(b"7")) == 0
    wide = b"[" + b",".join([b"[]"] * 10_000) + b"]"
    assert depth(parse(wide)) == 2


def test_a_body_at_the_depth_limit_is_read_and_one_level_more_is_refused_however_it_is_padded() -> None:
    at_limit = b"[" * MAX_DEPTH + b"]" * MAX_DEPTH
    assert depth(parse(at_limit)) == MAX_DEPTH
    # brackets inside strings make the body worth walking, but never count towards its depth
    padded = b'{"text": "' + b"[{" * MAX_DEPTH + b'", "v": [[]]}'
    assert depth(parse(padded)) == 3
    with pytest.raises(web.HTTPBadRequest):
        parse(b'{"v": ' + at_limit + b"}")  # one level more than the limit, with no more brackets than levels
