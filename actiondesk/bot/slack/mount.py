"""Mount the Slack surface on the aiohttp server: ``POST /slack/events`` (events, interactivity and slash
commands at one path) and, when an app-level token is set, a Socket Mode connection as well."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.signature import SignatureVerifier

from actiondesk.bot.reports.metrics import Figures, outbox_line
from actiondesk.bot.slack import ingress
from actiondesk.bot.slack.account import BotAccount
from actiondesk.bot.slack.client import make_client
from actiondesk.bot.slack.config import SlackConfig
from actiondesk.bot.slack.desk import SlackDesk
from actiondesk.bot.slack.identity import SlackIdentity
from actiondesk.bot.slack.listeners import Registered, register
from actiondesk.bot.slack.notices import Notices
from actiondesk.bot.slack.pacing import Pacing, UpdateBudget
from actiondesk.bot.slack.progress import Progress
from actiondesk.bot.slack.threads import Threads
from actiondesk.bot.web.appkeys import (
    BLOBS,
    CHAT,
    CLOCK,
    FEED,
    FRONT,
    PAGING,
    REPORT_POSTERS,
    REPORTING,
    REPORTS,
    WORKER,
)

log = logging.getLogger(__name__)

PATH = "/slack/events"


class SlackSurface:
    """Built from what the server hands every surface (the front desk, the reporting reads, the state blobs, the
    clock, the settings sections), never from the runtime or the store."""

    def __init__(self, app: web.Application, config: SlackConfig, pacing: Pacing) -> None:
        front, reports, reporting = app[FRONT], app[REPORTS], app[REPORTING]
        self.config = config
        self.verifier = SignatureVerifier(config.signing_secret)
        self.feed = app[FEED]
        self.client = make_client(config)
        threads = Threads(app[BLOBS])
        progress = Progress(front, threads, self.client, UpdateBudget(pacing))
        identity = SlackIdentity(front.directory, self.client)
        figures = Figures(reports, app[CLOCK], reporting.infra_cost_per_hour)
        outbox = partial(outbox_line, reports)
        self.desk = SlackDesk(front, app[WORKER], self.client, identity, threads, progress, figures, outbox)
        self.notices = Notices(
            front,
            self.client,
            channel=app[PAGING].slack_notify_channel,
            remember=self._remember,
        )
        # the bot's own ids are learned in the background (start), so no request waits for Slack's Web API
        self.account = BotAccount(self.client, config.bot_token)
        self.bolt = AsyncApp(
            client=make_client(config, signed_in=False),
            authorize=self.account,
            signing_secret=config.signing_secret,
            # handle() has checked every request's signature (ingress.check) before Bolt sees it: once is enough
            request_verification_enabled=False,
            logger=logging.getLogger("actiondesk.bot.slack.bolt"),
        )
        self.registered: Registered = register(self.bolt, self.desk)
        self._tasks: list[asyncio.Task[None]] = []
        self._socket: AsyncSocketModeHandler | None = None

    def _remember(self, key: str) -> bool:
        return self.desk.front.remember(key, "slack_notice")

    async def handle(self, request: web.Request) -> web.Response:
        """The headers, the signature and the body's shape are checked (ingress.py) before Bolt sees the request,
        so before any listener (or any write) runs."""
        try:
            ingress.check(
                self.verifier,
                await request.read(),
                request.headers.get("X-Slack-Request-Timestamp"),
                request.headers.get("X-Slack-Signature"),
                request.content_type,
            )
            try:
                bolt_request = await to_bolt_request(request)
            except ValueError:  # a body ingress left to Bolt's parser (ingress.plain_object) is not JSON after all
                raise ingress.Refusal(400, "the signed body is not the JSON it claims to be") from None
        except ingress.Refusal as refused:  # a security log line, nothing written (TESTPLAN A.1)
            log.warning("slack: refused a request from %s (%d): %s", request.remote, refused.status, refused.reason)
            return web.json_response({"error": "invalid request"}, status=refused.status)
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    def report_poster(self, channel: str) -> Callable[[str], Awaitable[None]]:
        """Posts the weekly resolution report to ``channel``."""

        async def post(text: str) -> None:
            await self.client.chat_postMessage(channel=channel, text=text)

        return post

    async def start(self, app: web.Application) -> None:
        loop = asyncio.get_running_loop()
        progress = self.desk.progress
        self._tasks = [
            loop.create_task(self.account.learn(), name="slack-account"),
            loop.create_task(progress.run(), name="slack-progress"),
            # the status messages are of cases opened in Slack only (Progress._read): no reads for the others
            loop.create_task(progress.follow(self.feed.subscribe(surfaces={"slack"})), name="slack-feed"),
            loop.create_task(self.notices.follow(self.feed.subscribe()), name="slack-notices"),
        ]
        if self.config.app_token:
            self._socket = AsyncSocketModeHandler(self.bolt, self.config.app_token, web_client=self.client)
            await self._socket.connect_async()
            log.info("slack: connected over Socket Mode")

    async def stop(self, app: web.Application) -> None:
        if self._socket is not None:
            await self._socket.close_async()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.desk.progress.close()
        self.notices.close()


SURFACE = web.AppKey("slack", SlackSurface)


def mount_slack(app: web.Application, *, config: SlackConfig | None = None, pacing: Pacing | None = None) -> bool:
    """Mount Slack when its bot token and signing secret are set (or ``config`` is given); else do nothing."""
    config = config or SlackConfig.from_settings(app[CHAT])
    if config is None:
        return False
    surface = SlackSurface(app, config, pacing or Pacing())
    app[SURFACE] = surface
    app.router.add_post(PATH, surface.handle)
    channel = app[REPORTING].report_channel
    if channel and REPORT_POSTERS in app:
        app[REPORT_POSTERS].append(surface.report_poster(channel))
    app.on_startup.append(surface.start)
    app.on_cleanup.append(surface.stop)
    log.info("slack: listening on %s%s", PATH, " and over Socket Mode" if config.socket_mode else "")
    return True
