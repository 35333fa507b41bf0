"""Bounded retries for the request-fulfilment packs: a system that is unavailable (unreachable, 5xx, 429) is
asked again after a pause, at most ``ATTEMPTS`` times, waiting on the action context's clock (simulated time
in a scenario run). Every attempt re-reads first, so a create that reached the system before its answer was
lost is found, never made twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from actiondesk.actions.spec import ActionContext
from actiondesk.core.errors import SystemUnavailableError

ATTEMPTS = 3
FIRST_PAUSE_SECONDS = 1.0
LONGEST_PAUSE_SECONDS = 30.0

T = TypeVar("T")


def with_retries(ctx: ActionContext, what: str, attempt: Callable[[], T]) -> T:
    """``attempt()``, again after 1 s and 2 s (or the system's Retry-After) while the system is unavailable."""
    pause = FIRST_PAUSE_SECONDS
    for number in range(1, ATTEMPTS + 1):
        try:
            return attempt()
        except SystemUnavailableError as exc:
            if number == ATTEMPTS:
                raise SystemUnavailableError(
                    f"{what}: {exc} (gave up after {ATTEMPTS} attempts)", exc.retry_after
                ) from None
            ctx.clock.sleep(min(exc.retry_after if exc.retry_after is not None else pause, LONGEST_PAUSE_SECONDS))
            pause *= 2
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises
