"""The one aiohttp server: the console, its API, health, and the background jobs."""

from __future__ import annotations

import asyncio
import gc
import logging

from aiohttp import web

from actiondesk.agents.retries import RetryPolicy
from actiondesk.bot.auth.config import AccessConfig
from actiondesk.bot.auth.routes import add_auth
from actiondesk.bot.console.routes import add_routes
from actiondesk.bot.jobs.scheduler import Scheduler, sweep_interval
from actiondesk.bot.jobs.worker import DEFAULT_POLL_SECONDS, CaseWorker
from actiondesk.bot.server.health import add_health_routes
from actiondesk.bot.slack import mount_slack
from actiondesk.bot.teams.routes import mount_teams
from actiondesk.bot.web.appkeys import (
    BLOBS,
    CHANGES,
    CHAT,
    CLOCK,
    FEED,
    FRONT,
    PAGING,
    REPORT_POSTERS,
    REPORTING,
    REPORTS,
    SERVER,
    WORKER,
)
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.web.inflight import counting
from actiondesk.bot.web.serverkeys import RUNTIME, SCHEDULER
from actiondesk.bot.webhooks.alerts import add_alert_routes
from actiondesk.bot.webhooks.changes import add_change_routes
from actiondesk.bot.webhooks.deploys import add_deploy_routes
from actiondesk.bot.wiring.root import Runtime
from actiondesk.bot.wiring.telemetry import trace_requests

log = logging.getLogger(__name__)


def make_app(runtime: Runtime, feed: ChangeFeed, access: AccessConfig | None = None) -> web.Application:
    app = web.Application(client_max_size=256 * 1024)
    app[RUNTIME] = runtime  # the server's own: its health checks, sign-in and jobs
    # what the surfaces get: the front desk and narrow ports, never the runtime or the store
    app[FRONT] = runtime.front
    app[REPORTS] = runtime.reports
    app[CHANGES] = runtime.changes
    app[BLOBS] = runtime.blobs
    app[CLOCK] = runtime.clock
    settings = runtime.settings
    app[CHAT], app[PAGING], app[REPORTING], app[SERVER] = settings, settings, settings, settings
    # who may call: OIDC sessions or the loopback demo, API tokens; CSRF, content type, security headers
    add_auth(app, access or AccessConfig.from_settings(runtime.settings))
    app[FEED] = feed
    # cases run on a thread pool of their own; requests keep the event loop's default executor to themselves
    worker = CaseWorker(
        runtime.loop,
        RetryPolicy(settings.step_attempts, settings.step_retry_seconds),
        workers=settings.case_workers,
        poll_seconds=min(DEFAULT_POLL_SECONDS, sweep_interval(runtime)),
    )
    app[WORKER] = worker
    app.middlewares.insert(0, counting(worker))  # outermost: every request counts while it is answered
    # approvals expiry and escalation, chaos schedules, calendar and policy re-reads, resuming cases;
    # built here so that a bad schedule stops the start before the server listens
    app[SCHEDULER] = Scheduler(runtime, resume=worker.resume, offload=worker.job)
    app[REPORT_POSTERS] = app[SCHEDULER].reports  # a surface adds its poster of the weekly report here
    if runtime.settings.tracing:
        app.middlewares.append(trace_requests)  # a server span per request; none at all without an endpoint
    add_routes(app)
    add_health_routes(app)  # /healthz (liveness), /readyz (readiness)
    add_alert_routes(app)  # POST /api/alerts: Alertmanager's webhook
    add_change_routes(app)  # POST /api/changes: what CI/CD changed
    add_deploy_routes(app)  # POST /webhooks/github, /webhooks/argocd: what GitHub and Argo CD deployed
    mount_slack(app)  # only when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set
    mount_teams(app)  # /api/messages; without MICROSOFT_APP_ID in local development mode only

    async def startup(app: web.Application) -> None:
        # what is built by now (modules, the runtime, the estate) lives as long as the server: out of the cyclic
        # collector's reach, so a full collection walks only what came since. It walked all of it, holding the GIL
        # for a median 230 ms (up to 900 ms) each time, some 30 times while a burst's 200 cases were worked: the
        # tail of every request's latency. (Only moves lists: no collection first, so the start costs nothing.)
        gc.freeze()
        feed.bind(asyncio.get_running_loop())
        app[WORKER].start()  # the feeder claims the queued cases at once, a crashed run's too once its lease ends
        resumed = await app[WORKER].resume()
        if resumed:
            log.info("resuming %d scheduled cases", resumed)
        app[SCHEDULER].start()

    async def cleanup(app: web.Application) -> None:
        app[SCHEDULER].stop()
        await app[WORKER].close()
        gc.unfreeze()  # what the server held may be garbage now: the collector sees it again

    async def shutdown(app: web.Application) -> None:
        # the server no longer listens: the chat events acked but not handled yet are handled now, not dropped
        await app[WORKER].events.settle()
        feed.close()  # live views end now, so a graceful stop does not wait for their keep-alives

    app.on_startup.append(startup)
    app.on_shutdown.append(shutdown)
    app.on_cleanup.append(cleanup)
    return app
