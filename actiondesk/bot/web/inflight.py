"""Requests in flight, told to the case worker so that people come first (bot/jobs/rush.py: while requests keep
coming, case runs and chat events' handling wait for them, and past the hold each request in flight holds one back,
down to one).

``counting`` is the server's outermost middleware. A live view's stream (the console's server-sent events) is a
request open for as long as the page is: once its headers are sent it calls ``answered`` and no longer counts."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from actiondesk.bot.jobs.worker import CaseWorker

_ANSWERED = web.RequestKey("answered", bool)


def counting(worker: CaseWorker) -> Middleware:
    @web.middleware
    async def counted(request: web.Request, handler: Handler) -> web.StreamResponse:
        worker.request_started()
        request[_ANSWERED] = False
        try:
            return await handler(request)
        finally:
            if not request[_ANSWERED]:
                worker.request_ended()

    return counted


def answered(request: web.Request, worker: CaseWorker) -> None:
    """The request no longer counts as one being answered (a stream that stays open)."""
    if request.get(_ANSWERED) is False:
        request[_ANSWERED] = True
        worker.request_ended()
