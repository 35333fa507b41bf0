"""Local development mode (no MICROSOFT_APP_ID) checks no token, so it answers only requests whose peer address
is this machine, whatever ``serviceUrl`` the body claims."""

from __future__ import annotations

from aiohttp import web
from teams_fakes import mention

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings


async def test_development_mode_refuses_a_peer_that_is_not_loopback(aiohttp_client, store, database_url):
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    clock = SystemClock()
    runtime = build_runtime(
        settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
    )
    app = make_app(runtime, ChangeFeed())

    @web.middleware
    async def from_another_host(request: web.Request, handler):  # type: ignore[no-untyped-def]
        peer = request.headers.get("X-Test-Peer")  # the test's stand-in for a connection from elsewhere
        return await handler(request.clone(remote=peer) if peer else request)

    app.middlewares.insert(0, from_another_host)
    http = await aiohttp_client(app)
    body = mention("http://127.0.0.1:9/", "the payment gateway is throwing 500s")  # a loopback serviceUrl, claimed
    for peer in ("203.0.113.7", "10.0.0.5", "::ffff:198.51.100.1"):
        answer = await http.post("/api/messages", json=body, headers={"X-Test-Peer": peer})
        assert answer.status == 403, peer
        assert "this machine" in (await answer.json())["error"]
    assert runtime.store.list_cases() == []
