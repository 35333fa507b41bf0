"""The surfaces' application keys: what one running server hands the console, Slack, Teams and the webhooks.

Each key is typed by the narrowest thing its readers need: the front desk (cases, approvals, commands), the
reporting reads, the change intake, the state blobs the chat surfaces keep their threads in, the clock, and
the settings sections (all the one Settings object, each seen as its section). The runtime, the store and the
scheduler are the server's own (``serverkeys.py``); no surface imports them (an import-linter contract)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry

from actiondesk.agents.desk import FrontDesk
from actiondesk.bot.jobs.worker import CaseWorker
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.core.ports import ChangeIntake, Clock, Reporting, StateBlobs
from actiondesk.core.settings.chat import ChatSection
from actiondesk.core.settings.paging import PagingSection
from actiondesk.core.settings.reporting import ReportingSection
from actiondesk.core.settings.server import ServerSection

ReportPoster = Callable[[str], Awaitable[None]]

FRONT = web.AppKey("front", FrontDesk)  # what the surfaces ask: cases, approvals, rollbacks, commands
REPORTS: web.AppKey[Reporting] = web.AppKey("reports")  # the dashboard's, /metrics' and status replies' reads
CHANGES: web.AppKey[ChangeIntake] = web.AppKey("changes")  # where the webhooks' change events go
BLOBS: web.AppKey[StateBlobs] = web.AppKey("blobs")  # where Slack and Teams keep what they posted where
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
CHAT = web.AppKey("chat_settings", ChatSection)  # Slack's and Teams' credentials and endpoints
PAGING = web.AppKey("paging_settings", PagingSection)  # the notify channels of acted-alone announcements
REPORTING = web.AppKey("reporting_settings", ReportingSection)  # the report channel, metrics window, infra cost
SERVER = web.AppKey("server_settings", ServerSection)  # the webhooks' tokens and secrets
REPORT_POSTERS: web.AppKey[list[ReportPoster]] = web.AppKey("report_posters")  # where the weekly report goes
WORKER = web.AppKey("worker", CaseWorker)
FEED = web.AppKey("feed", ChangeFeed)
REGISTRY = web.AppKey("registry", CollectorRegistry)
