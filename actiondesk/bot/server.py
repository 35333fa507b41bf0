"""The one aiohttp server: the console, its API, health, and the background jobs."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from actiondesk.bot.app import Runtime
from actiondesk.bot.console.routes import FEED, RUNTIME, WORKER, add_routes
from actiondesk.bot.events import ChangeFeed
from actiondesk.bot.slack import mount_slack
from actiondesk.bot.teams.routes import mount_teams
from actiondesk.bot.worker import CaseWorker

log = logging.getLogger(__name__)

SWEEPER = web.AppKey("sweeper", asyncio.Task)


def sweep_interval(runtime: Runtime) -> float:
    """Often enough to take over a dead replica's case soon after its lease runs out."""
    return max(0.5, min(runtime.settings.lease_seconds / 2, 15.0))


async def _sweep(app: web.Application) -> None:
    """Expire overdue approvals and pick up cases nobody is working on (a crashed replica's, say)."""
    runtime = app[RUNTIME]
    interval = sweep_interval(runtime)
    while True:
        await asyncio.sleep(interval)
        try:
            expired = await asyncio.to_thread(runtime.approvals.expire_due)
            if expired:
                log.info("expired %d approvals", expired)
            await app[WORKER].resume()
        except Exception:  # the edge of a scheduled job: log and try again next tick
            log.exception("sweep failed")


def make_app(runtime: Runtime, feed: ChangeFeed) -> web.Application:
    app = web.Application(client_max_size=256 * 1024)
    app[RUNTIME] = runtime
    app[FEED] = feed
    app[WORKER] = CaseWorker(runtime.loop)
    add_routes(app)
    mount_slack(app)  # only when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set
    mount_teams(app)  # /api/messages; without MICROSOFT_APP_ID in local development mode only

    async def startup(app: web.Application) -> None:
        feed.bind(asyncio.get_running_loop())
        resumed = await app[WORKER].resume()
        if resumed:
            log.info("resuming %d cases", resumed)
        app[SWEEPER] = asyncio.get_running_loop().create_task(_sweep(app))

    async def cleanup(app: web.Application) -> None:
        app[SWEEPER].cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app[SWEEPER]
        await app[WORKER].close()

    async def shutdown(app: web.Application) -> None:
        feed.close()  # live views end now, so a graceful stop does not wait for their keep-alives

    app.on_startup.append(startup)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app
