"""Runs an aiohttp application on 127.0.0.1, port 0, in a thread of its own, for synchronous clients.

``down()`` closes the listening socket (clients then get connection refused) and ``up()`` listens again
on the same port, so a test can take a fake ITSM away and bring it back.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web


@web.middleware
async def _no_keep_alive(request: web.Request, handler: object) -> web.StreamResponse:
    """Every response closes its connection, so that after ``down()`` a client really meets a refusal."""
    response = await handler(request)  # type: ignore[operator]
    response.force_close()
    return response


class ThreadedServer:
    def __init__(self, app: web.Application) -> None:
        app.middlewares.append(_no_keep_alive)
        self.app = app
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)  # type: ignore[arg-type]

    async def _listen(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()
        self.port = self._runner.addresses[0][1]

    def start(self) -> None:
        self._thread.start()
        self._runner = web.AppRunner(self.app, access_log=None)
        self._call(self._runner.setup())
        self._call(self._listen())

    def down(self) -> None:
        assert self._site is not None
        self._call(self._site.stop())

    def up(self) -> None:
        self._call(self._listen())

    def stop(self) -> None:
        if self._runner is not None:
            self._call(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@contextmanager
def serving(app: web.Application) -> Iterator[ThreadedServer]:
    server = ThreadedServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()
