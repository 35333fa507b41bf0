"""The server's application keys: what one running server shares with its routes, surfaces and jobs."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from actiondesk.agents.desk import FrontDesk
from actiondesk.bot.jobs.scheduler import Scheduler
from actiondesk.bot.jobs.worker import CaseWorker
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import Runtime

RUNTIME = web.AppKey("runtime", Runtime)  # for the server's own wiring and jobs
FRONT = web.AppKey("front", FrontDesk)  # what the surfaces ask: cases, approvals, rollbacks, commands
WORKER = web.AppKey("worker", CaseWorker)
FEED = web.AppKey("feed", ChangeFeed)
REGISTRY = web.AppKey("registry", CollectorRegistry)
SCHEDULER = web.AppKey("scheduler", Scheduler)
