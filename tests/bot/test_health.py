"""/healthz and /readyz as a kubelet reads them, and the start-up check of ACTIONDESK_MIGRATE_ON_START=false."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import text

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore, head_revision, make_engine
from actiondesk.bot.server.app import make_app
from actiondesk.bot.server.health import BACKGROUND, require_current_schema
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.web.serverkeys import SCHEDULER
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.clock import SystemClock
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.settings import Settings

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=1"


def _runtime(store: SqlStore, database_url: str):
    settings = Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]
    clock = SystemClock()
    estate = SandboxEstate(default_estate(clock.now()), clock)
    return build_runtime(settings, store, estate, clock, policy_from_settings(settings))


def _stamp(store: SqlStore, revision: str) -> None:
    with store._engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})


async def test_a_fresh_server_is_alive_and_ready(aiohttp_client, store: SqlStore, database_url: str) -> None:
    client = await aiohttp_client(make_app(_runtime(store, database_url), ChangeFeed()))
    live = await client.get("/healthz")
    assert live.status == 200
    assert await live.json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {
        "status": "ready",
        "database": "ok",
        "migrations": "current",
        "cases": "running",
        "scheduler": "running",
        "background": {},
    }


async def test_an_unreachable_database_fails_readiness_not_liveness(
    aiohttp_client, store: SqlStore, database_url: str
) -> None:
    runtime = replace(_runtime(store, database_url), store=SqlStore(make_engine(UNREACHABLE)))
    client = await aiohttp_client(make_app(runtime, ChangeFeed()))
    live = await client.get("/healthz")
    assert live.status == 200  # the process is alive: restarting it would not bring the database back
    ready = await client.get("/readyz")
    assert ready.status == 503
    body = await ready.json()
    assert body["status"] == "not ready"
    assert body["database"] == "unreachable"


@pytest.mark.parametrize(("revision", "state", "status"), [("0001", "behind", 503), ("9999_future", "ahead", 200)])
async def test_readiness_needs_this_release_schema_or_a_newer_one(
    aiohttp_client, store: SqlStore, database_url: str, revision: str, state: str, status: int
) -> None:
    client = await aiohttp_client(make_app(_runtime(store, database_url), ChangeFeed()))
    _stamp(store, revision)
    ready = await client.get("/readyz")
    assert ready.status == status
    assert (await ready.json())["migrations"] == state
    assert (await client.get("/healthz")).status == 200  # an old schema is no reason to restart the process


async def test_a_stopped_scheduler_or_background_task_is_not_ready(
    aiohttp_client, store: SqlStore, database_url: str
) -> None:
    app = make_app(_runtime(store, database_url), ChangeFeed())
    client = await aiohttp_client(app)

    async def finished() -> None:
        return None

    task = asyncio.get_running_loop().create_task(finished(), name="outbox-delivery")
    await task
    app[BACKGROUND].append(task)
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["background"] == {"outbox-delivery": "stopped"}
    app[BACKGROUND].clear()
    app[SCHEDULER].stop()
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["scheduler"] == "stopped"


def test_serving_without_migrating_refuses_an_old_schema_and_names_the_command(store: SqlStore) -> None:
    require_current_schema(store)  # at head: fine
    _stamp(store, "0002")
    expected = rf"revision 0002 .* needs {head_revision()}: run `actiondesk db upgrade`"
    with pytest.raises(ConfigurationError, match=expected):
        require_current_schema(store)
    _stamp(store, "9999_future")
    require_current_schema(store)  # a newer release migrated it: this one still serves during the rollout
