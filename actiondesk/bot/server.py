"""The one aiohttp server: the console, its API, health, and the background jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from actiondesk.bot.app import Runtime
from actiondesk.bot.console.routes import FEED, RUNTIME, WORKER, add_routes
from actiondesk.bot.events import ChangeFeed
from actiondesk.bot.worker import CaseWorker

log = logging.getLogger(__name__)

EXPIRY_INTERVAL_SECONDS = 15.0
EXPIRY = web.AppKey("expiry", asyncio.Task)


async def _expire_approvals(app: web.Application) -> None:
    runtime = app[RUNTIME]
    while True:
        await asyncio.sleep(EXPIRY_INTERVAL_SECONDS)
        try:
            expired = await asyncio.to_thread(runtime.approvals.expire_due)
        except Exception:  # the edge of a scheduled job: log and try again next tick
            log.exception("approval expiry job failed")
            continue
        if expired:
            log.info("expired %d approvals", expired)


def make_app(runtime: Runtime, feed: ChangeFeed) -> web.Application:
    app = web.Application(client_max_size=256 * 1024)
    app[RUNTIME] = runtime
    app[FEED] = feed
    app[WORKER] = CaseWorker(runtime.loop)
    add_routes(app)

    async def startup(app: web.Application) -> None:
        feed.bind(asyncio.get_running_loop())
        resumed = await app[WORKER].resume()
        if resumed:
            log.info("resumed %d cases", resumed)
        app[EXPIRY] = asyncio.get_running_loop().create_task(_expire_approvals(app))

    async def cleanup(app: web.Application) -> None:
        app[EXPIRY].cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app[EXPIRY]
        await app[WORKER].close()

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
    return app
