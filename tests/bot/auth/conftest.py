"""An in-process server (the loopback demo unless a test passes an AccessConfig) and its runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import DummyCookieJar

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.auth.config import AccessConfig
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.appkeys import WORKER
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import Runtime, build_runtime, policy_from_settings
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings


@dataclass
class Console:
    http: Any  # aiohttp's TestClient
    runtime: Runtime

    @property
    def origin(self) -> str:
        return str(self.http.make_url("/")).rstrip("/")

    async def demo(self, person: str) -> dict[str, str]:
        """Headers of a demo session of ``person`` (cookie by hand: it is Secure) from the console's own origin."""
        answer = await self.http.post("/auth/demo", json={"person": person}, headers={"Origin": self.origin})
        assert answer.status == 200, await answer.text()
        cookie = answer.headers["Set-Cookie"].split(";", 1)[0]
        return {"Cookie": cookie, "Origin": self.origin}


@pytest.fixture
async def console_factory(
    aiohttp_client, store: SqlStore, database_url: str
) -> AsyncIterator[Callable[..., Awaitable[Console]]]:
    made: list[Console] = []

    async def make(access: AccessConfig | None = None, **settings_fields: Any) -> Console:
        settings = Settings(_env_file=None, database_url=database_url, **settings_fields)  # type: ignore[call-arg]
        clock = SystemClock()
        runtime = build_runtime(
            settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
        )
        client = await aiohttp_client(make_app(runtime, ChangeFeed(), access), cookie_jar=DummyCookieJar())
        made.append(Console(client, runtime))
        return made[-1]

    yield make
    for console in made:  # cases the tests opened run in worker threads: let them settle before the schema goes
        await console.http.server.app[WORKER].idle()


@pytest.fixture
async def console(console_factory) -> Console:
    return await console_factory()
