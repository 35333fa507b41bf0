"""Outbound pacing: Slack counts chat.update per app per workspace (about 50 a minute, across all
messages), so progress edits are coalesced: at most one edit per message every few seconds, and never more
edits in a minute than the workspace budget allows. chat.postMessage is allowed about one message a second
per channel, so posts to one channel are spaced by ``post_interval_seconds`` (other channels are not held).

What a message's or channel's last edit or post was is kept only while it still holds anything up: once a
window has passed, the ones past their spacing are forgotten, so a long-running process does not keep one entry
for every message it ever edited."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Pacing:
    min_edit_seconds: float = 3.0
    updates_per_minute: int = 50
    window_seconds: float = 60.0
    post_interval_seconds: float = 1.0


@dataclass(frozen=True)
class Taken:
    """One edit of ``message`` taken from the budget at ``at`` (``previous``: its last edit before)."""

    message: str
    at: float
    previous: float | None


class UpdateBudget:
    """A sliding-window budget of chat.update calls for one workspace, plus the per-message spacing."""

    def __init__(self, pacing: Pacing, clock: Callable[[], float] = time.monotonic) -> None:
        self.pacing = pacing
        self._clock = clock
        self._spent: deque[float] = deque()
        self._last_edit: dict[str, float] = {}
        self._last_post: dict[str, float] = {}
        self._forgot_at = clock()

    def _trim(self, now: float) -> None:
        while self._spent and now - self._spent[0] >= self.pacing.window_seconds:
            self._spent.popleft()
        if now - self._forgot_at >= self.pacing.window_seconds:  # at most once a window: a pass over both
            self._forgot_at = now
            edit, post = self.pacing.min_edit_seconds, self.pacing.post_interval_seconds
            self._last_edit = {m: t for m, t in self._last_edit.items() if now - t < edit}
            self._last_post = {c: t for c, t in self._last_post.items() if now - t < post}

    @property
    def remembered(self) -> int:
        """Messages and channels whose last edit or post is still kept."""
        return len(self._last_edit) + len(self._last_post)

    def wait(self, message: str | None = None) -> float:
        """Seconds until one more edit (of ``message``, when given) fits the budget; 0 when it fits now."""
        now = self._clock()
        self._trim(now)
        delay = 0.0
        if len(self._spent) >= self.pacing.updates_per_minute:
            delay = self._spent[0] + self.pacing.window_seconds - now
        if message is not None and message in self._last_edit:
            delay = max(delay, self._last_edit[message] + self.pacing.min_edit_seconds - now)
        return max(delay, 0.0)

    def spend(self, message: str | None = None) -> None:
        now = self._clock()
        self._trim(now)
        self._spent.append(now)
        if message is not None:
            self._last_edit[message] = now

    def take(self, message: str) -> Taken:
        """``spend(message)``, returning what ``give_back`` needs to undo it."""
        previous = self._last_edit.get(message)
        self.spend(message)
        return Taken(message, self._spent[-1], previous)

    def give_back(self, taken: Taken) -> None:
        """Undo a ``take`` whose edit was not made after all (the message showed the newest state already)."""
        if taken.at in self._spent:
            self._spent.remove(taken.at)
        if self._last_edit.get(taken.message) == taken.at:
            if taken.previous is None:
                del self._last_edit[taken.message]
            else:
                self._last_edit[taken.message] = taken.previous

    def posted(self, message: str) -> None:
        """A message was just posted: its first edit waits the per-message spacing too."""
        now = self._clock()
        self._trim(now)
        self._last_edit[message] = now

    def post_wait(self, channel: str) -> float:
        """Seconds until one more chat.postMessage to ``channel`` keeps to one a ``post_interval_seconds``."""
        last = self._last_post.get(channel)
        if last is None:
            return 0.0
        return max(0.0, last + self.pacing.post_interval_seconds - self._clock())

    def post_spend(self, channel: str) -> None:
        now = self._clock()
        self._trim(now)
        self._last_post[channel] = now

    def spent_in_window(self) -> int:
        self._trim(self._clock())
        return len(self._spent)
