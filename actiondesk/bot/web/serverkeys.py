"""The server's own application keys: the runtime and the scheduler, for the server's wiring, its health
checks, sign-in and its jobs. Surfaces read ``appkeys.py`` instead and never import this module."""

from __future__ import annotations

from aiohttp import web

from actiondesk.bot.jobs.scheduler import Scheduler
from actiondesk.bot.wiring.root import Runtime

RUNTIME = web.AppKey("runtime", Runtime)
SCHEDULER = web.AppKey("scheduler", Scheduler)
