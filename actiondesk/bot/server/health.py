"""Liveness and readiness, as an orchestrator asks for them.

``GET /healthz`` (liveness): the process and its event loop answer; it touches no database and no thread pool,
so neither a slow database nor a burst of case work makes an orchestrator restart a healthy process.
``GET /readyz`` (readiness): the database answers, its schema is the one this release needs (or a newer
release's), and the case worker, the scheduler and the background tasks (ticket mirroring) are running; a
failure here means send it no traffic yet. It answers JSON naming each check, 200 or 503. Its database read runs
on the requests' executor (the event loop's default), never behind case steps, which have a pool of their own.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from actiondesk.adapters.store import SqlStore, head_revision, schema_state
from actiondesk.bot.web.appkeys import WORKER
from actiondesk.bot.web.serverkeys import RUNTIME, SCHEDULER
from actiondesk.core.errors import ConfigurationError

log = logging.getLogger(__name__)

BACKGROUND = web.AppKey("background", list[asyncio.Task[None]])
PROBE_TIMEOUT_SECONDS = 3.0
SERVING_SCHEMAS = frozenset({"current", "ahead"})  # ahead: a newer release migrated it during a rolling upgrade


def require_current_schema(store: SqlStore) -> None:
    """Refuse to serve on a database this release cannot use (ACTIONDESK_MIGRATE_ON_START=false)."""
    revision = store.schema_revision()
    state = schema_state(revision)
    if state not in SERVING_SCHEMAS:
        raise ConfigurationError(
            f"the database is at revision {revision or '(none)'} and this release needs {head_revision()}: "
            "run `actiondesk db upgrade` first, or set ACTIONDESK_MIGRATE_ON_START=true"
        )


async def _revision(store: SqlStore) -> str | None:
    return await asyncio.wait_for(asyncio.to_thread(store.schema_revision), PROBE_TIMEOUT_SECONDS)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    app = request.app
    checks: dict[str, object] = {}
    try:
        checks["migrations"] = schema_state(await _revision(app[RUNTIME].store))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
        log.warning("readiness: database unreachable: %s", type(exc).__name__)
        checks["database"], checks["migrations"] = "unreachable", "unknown"
    checks["cases"] = "running" if app[WORKER].running else "stopped"
    checks["scheduler"] = "running" if app[SCHEDULER].running else "stopped"
    checks["background"] = {task.get_name(): "stopped" if task.done() else "running" for task in app[BACKGROUND]}
    ready = (
        checks["database"] == "ok"
        and checks["migrations"] in SERVING_SCHEMAS
        and checks["cases"] == checks["scheduler"] == "running"
        and all(task.done() is False for task in app[BACKGROUND])
    )
    return web.json_response({"status": "ready" if ready else "not ready", **checks}, status=200 if ready else 503)


def add_health_routes(app: web.Application) -> None:
    app[BACKGROUND] = []
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
