"""Refused requests go into the audit trail, without letting anyone grow it without bound.

Each client (peer address) gets at most one ``access_refused`` entry per window; the refusals in between are
counted and reported as ``suppressed`` by that client's next entry. On top of that at most ``per_window``
entries are written per window for all clients together, so a spray from many addresses costs a bounded
number of rows too (a log line says how many were left out). Memory is bounded the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from actiondesk.core.audit import AuditDraft
from actiondesk.core.audit_payloads import AccessRefused
from actiondesk.core.ports import Clock, Store
from actiondesk.core.recent import Recent

log = logging.getLogger(__name__)

MAX_CLIENTS = 10_000
PATH_CHARS = 200


@dataclass
class _Client:
    window_start: float
    suppressed: int = 0


class RefusalLog:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        window_seconds: float = 60.0,
        per_window: int = 60,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._clock = clock
        self._window = window_seconds
        self._per_window = per_window
        self._monotonic = monotonic
        self._clients: Recent[str, _Client] = Recent(MAX_CLIENTS)
        self._global_start = monotonic()
        self._global_count = 0
        self._global_dropped = 0
        self.written = 0  # entries written since start (for tests and /metrics-style checks)

    def admit(self, client: str) -> int | None:
        """None when this refusal is only counted; else how many of the client's refusals were suppressed since
        its last entry (the number to write with this one)."""
        now = self._monotonic()
        if now - self._global_start >= self._window:
            if self._global_dropped:
                log.warning("access refusals: %d audit entries left out in the last window", self._global_dropped)
            self._global_start, self._global_count, self._global_dropped = now, 0, 0
        seen = self._clients.get(client)
        if seen is not None and now - seen.window_start < self._window:
            seen.suppressed += 1
            return None
        if self._global_count >= self._per_window:
            self._global_dropped += 1
            if seen is not None:
                seen.suppressed += 1
            return None
        suppressed = seen.suppressed if seen is not None else 0
        self._clients.put(client, _Client(window_start=now))
        self._global_count += 1
        return suppressed

    async def note(self, client: str, actor: str, method: str, path: str, status: int, reason: str) -> None:
        """Audit one refused request (subject to the limits above). Never raises: refusing must not fail."""
        suppressed = self.admit(client)
        log.warning("refused %s %s from %s (%d): %s", method, path[:PATH_CHARS], client, status, reason)
        if suppressed is None:
            return
        refused = AccessRefused(
            client=client,
            method=method,
            path=path[:PATH_CHARS],
            status=status,
            reason=reason,
            suppressed=suppressed,
        )
        draft = refused.draft(None, actor, self._clock.now())
        try:
            await asyncio.to_thread(self._append, draft)
        except Exception:  # the edge: a failed audit write of a refusal is logged, the refusal still stands
            log.exception("could not audit a refused request")

    def _append(self, draft: AuditDraft) -> None:
        with self._store.transaction() as uow:
            uow.append_audit(draft)
        self.written += 1
