"""`/api/messages` on the one aiohttp server, and the Teams surface's start-up and shutdown.

The handler authenticates every request before botbuilder sees it, so each authentication failure is
a 401 or 403 (never a 500) and nothing — not even a member lookup — is sent to a serviceUrl that did not
pass; then botbuilder's CloudAdapter runs the turn.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity

from actiondesk.bot.teams.adapter import TeamsAuthentication, build_adapter
from actiondesk.bot.teams.bot import Desk, DeskBot
from actiondesk.bot.teams.config import TeamsConfig, banner, development_warning, is_loopback
from actiondesk.bot.teams.keys import SigningKeys
from actiondesk.bot.teams.notifier import Notifier, stop
from actiondesk.bot.teams.threads import Threads
from actiondesk.bot.teams.tokens import TokenRejectedError, TokenSource
from actiondesk.bot.web import jsonbody
from actiondesk.bot.web.appkeys import BLOBS, CHAT, FEED, FRONT, PAGING, WORKER

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024


@dataclass
class TeamsSurface:
    config: TeamsConfig
    session: aiohttp.ClientSession
    adapter: CloudAdapter
    auth: TeamsAuthentication
    bot: DeskBot
    notifier: Notifier
    task: asyncio.Task[None] | None = None
    warned: bool = False  # the development-mode warning was said (at start, or at the first activity)


SURFACE = web.AppKey("teams", TeamsSurface)


def _refuse(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def messages(request: web.Request) -> web.Response:
    surface = request.app[SURFACE]
    if surface.config.development and not is_loopback(request.remote):
        # no token is checked in this mode, so the peer must be this machine, whatever serviceUrl the body claims
        log.warning("teams: local development mode refused a request from %s", request.remote)
        return _refuse(403, "local development mode answers only requests from this machine")
    if surface.config.development and not surface.warned:
        surface.warned = True
        log.warning("%s", development_warning())
    if "application/json" not in request.headers.get("Content-Type", ""):
        return _refuse(415, "expected application/json")
    try:
        body = jsonbody.parse(await request.read())
        activity = Activity().deserialize(body)
    except (TypeError, AttributeError, ValueError):
        return _refuse(400, "body is not an activity")
    if not isinstance(body, dict) or not activity.type:
        return _refuse(400, "body is not an activity")
    try:
        result = await surface.auth.authenticate_request(activity, request.headers.get("Authorization", ""))
        response = await surface.adapter.process_activity(result, activity, surface.bot.on_turn)
    except TokenRejectedError as exc:
        log.warning("teams: request refused (%d): %s", exc.status, exc)
        return _refuse(exc.status, "unauthorized" if exc.status == 401 else "forbidden")
    if response is not None:
        return web.json_response(response.body, status=response.status)
    return web.Response(status=201)


def mount_teams(app: web.Application) -> None:
    """Serve /api/messages; build the surface (and its HTTP session) when the server starts."""
    feed, worker, paging = app[FEED], app[WORKER], app[PAGING]
    config = TeamsConfig.of(app[CHAT], paging)
    app.router.add_post("/api/messages", messages)

    async def startup(app: web.Application) -> None:
        message = banner(config)
        if message:
            log.warning("%s", message)
        session = aiohttp.ClientSession()
        keys = SigningKeys(config.openid_metadata_url, session)
        auth = TeamsAuthentication(config, keys, TokenSource(config, session))
        adapter = build_adapter(auth)
        desk = Desk(
            front=app[FRONT],
            worker=worker,
            threads=Threads(app[BLOBS]),
            notify_channel=paging.teams_notify_channel,
        )
        notifier = Notifier(desk, adapter, config.app_id)
        surface = TeamsSurface(config, session, adapter, auth, DeskBot(desk), notifier)
        surface.task = asyncio.get_running_loop().create_task(notifier.run(feed), name="teams-notifier")
        app[SURFACE] = surface

    async def cleanup(app: web.Application) -> None:
        surface = app[SURFACE]
        if surface.task is not None:
            await stop(surface.task)
        await surface.session.close()

    app.on_startup.append(startup)
    app.on_cleanup.append(cleanup)
