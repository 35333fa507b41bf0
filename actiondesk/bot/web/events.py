"""In-process change notifications: 'case X changed', to the live views (server-sent events) and to the surfaces
that keep their messages in step with the cases (Slack's progress, Teams' cards)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

from actiondesk.core.recent import Recent

CLOSED = ""
QUEUE_LIMIT = 1000  # changes waiting for one subscriber; past that they are dropped for it
SURFACES_KEPT = 10_000  # cases whose surface the feed remembers (a case's surface never changes)


class ChangeFeed:
    """Fan-out of 'case X changed' to every subscriber. Published from worker threads.

    A publisher that holds the case says its surface (where it was opened: slack, teams, console, alert...); the
    feed remembers it for the case's later changes, most recent cases first. A subscriber may take only the
    changes of cases on some surfaces (``subscribe(surfaces=...)``): a change of a case known to be elsewhere is
    not queued for it, so a surface does not read every case of the others to find out it has nothing to do. A
    change whose case's surface is not known reaches every subscriber."""

    def __init__(self) -> None:
        self._queues: dict[asyncio.Queue[str], frozenset[str] | None] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._surfaces: Recent[str, str] = Recent(SURFACES_KEPT)

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, case_id: str, surface: str | None = None) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(self._fan_out, case_id, surface)

    def surface(self, case_id: str) -> str | None:
        """The case's surface as a publisher said it, or None when the feed does not know it (any more)."""
        return self._surfaces.get(case_id)

    def _fan_out(self, case_id: str, surface: str | None) -> None:
        surface = surface or self._surfaces.get(case_id)
        if surface is not None:
            self._surfaces.put(case_id, surface)  # the case's newest change: forgotten last
        for queue, wanted in list(self._queues.items()):
            if wanted is not None and surface is not None and surface not in wanted:
                continue
            if queue.qsize() < QUEUE_LIMIT:
                queue.put_nowait(case_id)

    def close(self) -> None:
        """End every open live view (server shutdown): each gets the empty-string sentinel."""
        for queue in list(self._queues):
            queue.put_nowait(CLOSED)

    def subscribe(self, surfaces: Collection[str] | None = None) -> asyncio.Queue[str]:
        """A queue of changed case ids; with ``surfaces``, only of cases on those (or of unknown surface)."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._queues[queue] = None if surfaces is None else frozenset(surfaces)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[str]) -> None:
        self._queues.pop(queue, None)
