"""The server's application keys: what one running server shares with its routes, surfaces and jobs."""

from __future__ import annotations

from aiohttp import web
from prometheus_client import CollectorRegistry

from actiondesk.bot.app import Runtime
from actiondesk.bot.events import ChangeFeed
from actiondesk.bot.scheduler import Scheduler
from actiondesk.bot.worker import CaseWorker

RUNTIME = web.AppKey("runtime", Runtime)
WORKER = web.AppKey("worker", CaseWorker)
FEED = web.AppKey("feed", ChangeFeed)
REGISTRY = web.AppKey("registry", CollectorRegistry)
SCHEDULER = web.AppKey("scheduler", Scheduler)
