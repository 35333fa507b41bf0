"""Runs cases off the event loop: each case advances in a worker thread, one run per case at a time; a run
whose step raised is tried again after the backoff StepRetries gives (agents/retries.py)."""

from __future__ import annotations

import asyncio
import logging

from actiondesk.agents.loop import CaseLoop
from actiondesk.agents.retries import RetryPolicy, StepRetries

log = logging.getLogger(__name__)


class CaseWorker:
    def __init__(self, loop: CaseLoop, policy: RetryPolicy | None = None) -> None:
        self._loop = loop
        self._retries = StepRetries(loop, policy or RetryPolicy())
        self._running: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether cases are still taken on (until ``close``)."""
        return not self._closed

    def kick(self, case_id: str) -> None:
        """Advance the case soon; if it is already running, once more after the current run."""
        if case_id in self._running:
            self._again.add(case_id)
            return
        task = asyncio.get_running_loop().create_task(self._drive(case_id), name=f"case-{case_id}")
        self._running[case_id] = task

    async def _drive(self, case_id: str) -> None:
        try:
            while True:
                self._again.discard(case_id)
                try:
                    wait = await asyncio.to_thread(self._retries.run, case_id)
                except Exception:  # the edge of a background job (the database itself failing): the sweep retries
                    log.exception("case %s: run failed", case_id)
                    wait = None
                if wait is not None:
                    await asyncio.sleep(wait)  # the backoff is saved too: after a restart the sweep honours it
                    self._again.add(case_id)
                if case_id not in self._again:
                    return
        finally:
            self._running.pop(case_id, None)

    async def resume(self) -> int:
        """Kick the cases nobody is working on, and the scheduled ones whose date has come."""
        cases = await asyncio.to_thread(self._loop.resumable)
        cases += await asyncio.to_thread(self._loop.due)
        deferred = await asyncio.to_thread(self._loop.store.deferred, self._loop.clock.now())
        fresh = [c for c in cases if c.id not in self._running and c.id not in deferred]
        for case in fresh:
            log.info("case %s: resuming from %s", case.id, case.status.value)
            self.kick(case.id)
        return len(fresh)

    async def idle(self) -> None:
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def close(self) -> None:
        self._closed = True
        for task in list(self._running.values()):
            task.cancel()
        await asyncio.gather(*list(self._running.values()), return_exceptions=True)
