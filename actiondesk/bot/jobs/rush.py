"""People first: how much background work may start while requests come in.

Counting the requests in flight is not enough to see a burst. A Slack ack is answered within one pass of the
event loop, so under a storm of 2,000 events the count keeps dropping to zero between acks. Background work
started in those gaps takes the interpreter from the acks that follow. Background work here means a chat event's
handling after its ack, or a case's run.

So a rush is requests in flight, or one answered less than ``quiet`` seconds ago. Within a burst the next request
comes well inside 10 ms (a storm of 2,000 Slack events at 100 concurrent opened no case before its last ack);
steady traffic of a few dozen requests a second leaves longer gaps, so it is no rush and holds nothing back.

During a rush, work that has waited less than ``hold`` seconds does not start. Older work starts as before: one
fewer at a time per request in flight, down to one, never none. The hold keeps a short burst's acks free of
background work, and the floor of one keeps a long storm from starving it.

``Rush`` tells ``room`` (how many may run now, for the oldest work waiting). It calls ``changed`` whenever that may
have grown: a request ended, the rush ended, or the oldest work's hold ran out (``wake_at``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

QUIET_SECONDS = 0.01  # no request in flight or answered for this long: the rush is over
HOLD_SECONDS = 2.0  # during a rush, work waits at most this long before it starts (one at a time at least)


class Rush:
    def __init__(
        self,
        changed: Callable[[], None],
        *,
        quiet: float = QUIET_SECONDS,
        hold: float = HOLD_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if quiet < 0 or hold < 0:
            raise ValueError("a rush's quiet and hold times cannot be negative")
        self._changed = changed
        self.quiet = quiet
        self.hold = hold
        self._clock = clock
        self.requests = 0  # in flight
        self._answered = -float("inf")  # when the latest request ended (clock)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0

    def started(self) -> None:
        self.requests += 1

    def ended(self) -> None:
        self.requests -= 1
        self._answered = self._clock()
        if self.requests == 0 and self.quiet > 0:
            self.wake_at(self._answered + self.quiet)  # the rush ends then unless another request comes
        self._changed()

    def rushing(self) -> bool:
        return self.requests > 0 or self._clock() - self._answered < self.quiet

    def room(self, limit: int, since: float | None = None) -> int:
        """How many of ``limit`` may run at once now. ``since``: when the oldest work waiting to start began to
        wait (clock), None for none waiting."""
        if not self.rushing():
            return limit
        if since is not None and self._clock() - since < self.hold:
            return 0
        return max(1, limit - self.requests)

    def now(self) -> float:
        return self._clock()

    def wake_at(self, at: float) -> None:
        """Call ``changed`` at ``at`` (clock), or sooner: an earlier wake-up already set stands, and what it
        wakes sets the next one."""
        if self._timer is not None:
            if self._timer_at <= at:
                return
            self._timer.cancel()
        self._timer_at = at
        self._timer = asyncio.get_running_loop().call_later(max(0.0, at - self._clock()), self._fire)

    def _fire(self) -> None:
        self._timer = None
        if self.requests == 0 and self.rushing():  # another request came and went since: wait for its quiet
            self.wake_at(self._answered + self.quiet)
        self._changed()

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
