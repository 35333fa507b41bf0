"""A chat event's handling after its ack (opening a case, a reply reaching one), on the event loop, in turns.

At most EVENT_TURNS are handled at once. While requests keep coming (bot/jobs/rush.py), an event waits up to
HOLD_SECONDS for them to stop; past that it is handled one fewer at a time per request in flight, down to one.
Events are handled first come, first served, and a turn that frees up starts the next one.

An event waits as its handling (a callable with its arguments) in a queue, not as a task. In a storm of 2,000
events, each Bolt listener returns at once, as a bare app's does. A listener that waited for its turn would keep
its request alive, and 2,000 of them made every garbage collection of the storm walk them. What bounds the
queue is what Slack delivers: at most 30,000 events an hour from one workspace.

Slack has the acks of the events waiting, and does not send them again. So a stop handles them first (``settle``,
once the server no longer listens, so no rush holds them), for up to STOP_SECONDS. Any still waiting after that
are dropped, and the log says how many.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from actiondesk.adapters.store.engine import background_work
from actiondesk.bot.jobs.rush import Rush

log = logging.getLogger(__name__)

EVENT_TURNS = 8  # chat events handled at once on the event loop after their acks, with no request in flight
STOP_SECONDS = 10.0  # a stop waits this long at most for the events acked but not handled yet

Work = Callable[[], Awaitable[None]]


class Turns:
    def __init__(self, rush: Rush, limit: int = EVENT_TURNS) -> None:
        self._rush = rush
        self.limit = limit
        self.taken = 0  # events being handled now
        # waiting, oldest first: when each began to wait, its handling, and the context of its listener
        self._waiting: deque[tuple[float, Work, contextvars.Context]] = deque()
        self._handling: set[asyncio.Task[None]] = set()
        self._closed = False
        self._idle = asyncio.Event()  # none waiting, none being handled
        self._idle.set()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def handle(self, work: Work) -> None:
        """Run ``work`` when its turn comes (it logs its own failures; one that escapes is logged here)."""
        if self._closed:
            log.warning("a chat event arrived as the server stops; dropped")
            return
        self._waiting.append((self._rush.now(), work, contextvars.copy_context()))
        self._idle.clear()
        self.hand()

    def hand(self) -> None:
        """Start the waiting events that may start now; while requests keep coming, wake up again when the
        oldest one's hold runs out."""
        while self._waiting and self.taken < self._rush.room(self.limit, self._waiting[0][0]):
            _, work, context = self._waiting.popleft()
            self.taken += 1
            task = asyncio.get_running_loop().create_task(self._run(work), context=context)
            self._handling.add(task)
            task.add_done_callback(self._handling.discard)
        if self._waiting and self._rush.hold and self._rush.rushing():
            at = self._waiting[0][0] + self._rush.hold
            if at > self._rush.now():
                self._rush.wake_at(at)

    async def _run(self, work: Work) -> None:
        # (this task's own context) its writes go after requests' writes, as case steps' do; were they a request's,
        # a storm's events opening cases one after another would keep every case step from the write lock
        background_work()
        try:
            await work()
        except Exception:  # the edge of a chat event's handling: log it, the next one goes on
            log.exception("a chat event's handling failed")
        finally:
            self.taken -= 1
            if not self._closed:
                self.hand()
            if not self.taken and not self._waiting:
                self._idle.set()

    async def settle(self, limit: float = STOP_SECONDS) -> None:
        """Wait until no event is waiting or being handled, for ``limit`` seconds at most (a stop: the server no
        longer listens, so the rush ends and every turn is free)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                await self._idle.wait()

    async def close(self) -> None:
        """Drop the events still waiting (saying how many) and stop the ones being handled (after ``settle``)."""
        self._closed = True
        if self._waiting:
            log.warning("%d chat events acked but not handled yet are dropped as the server stops", len(self._waiting))
            self._waiting.clear()
        for task in self._handling:
            task.cancel()
        await asyncio.gather(*self._handling, return_exceptions=True)
