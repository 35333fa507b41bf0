"""In-process change notifications for live views (server-sent events)."""

from __future__ import annotations

import asyncio

CLOSED = ""


class ChangeFeed:
    """Fan-out of 'case X changed' to every open live view. Called from worker threads."""

    def __init__(self) -> None:
        self._queues: set[asyncio.Queue[str]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, case_id: str) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._fan_out, case_id)

    def _fan_out(self, case_id: str) -> None:
        for queue in list(self._queues):
            if queue.qsize() < 1000:
                queue.put_nowait(case_id)

    def close(self) -> None:
        """End every open live view (server shutdown): each gets the empty-string sentinel."""
        for queue in list(self._queues):
            queue.put_nowait(CLOSED)

    def subscribe(self) -> asyncio.Queue[str]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._queues.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._queues.discard(queue)
