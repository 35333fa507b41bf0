"""Runs cases off the event loop, on a thread pool of their own: a burst of cases delays other cases, not people.

Requests (probes, approvals, console reads, Slack and Teams acks) run their blocking calls on the event loop's
default executor; case steps never do. A fixed number of drainers (``ACTIONDESK_CASE_WORKERS``) each run one
case at a time on the case pool; one run per case at a time. A run whose step raised is tried again after the
backoff StepRetries gives (agents/retries.py).

The queue is the database: a case with work to do (``QUEUED`` statuses, a timed one whose ``wake_at`` has come)
and no unexpired lease is queued. The feeder claims as many as there are idle drainers (``CaseLoop.claim``:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the write lock on SQLite), oldest first, whenever a drainer frees up or
every ``poll_seconds``; so every replica on one database drains the same queue at its own pace, and a case a
killed replica held is claimed again once its lease runs out. Nothing is lost with the process: the queue is
the cases' own rows.

People first (bot/jobs/rush.py): requests (``request_started`` .. ``request_ended``, counted by the server's
outermost middleware) come before background work. While they keep coming, a case's run waits up to
HOLD_SECONDS for them to stop. Past that, every request in flight takes one drainer's turn, down to one case at a
time, never to none. A chat event's handling after its ack (``after_ack``, bot/jobs/turns.py) yields the same
way. A burst of requests (a console's creations, a storm of chat events) is answered without case threads
competing with it for the interpreter; once it is over, every drainer works and the events it brought are
handled, oldest first.

A kick (a person answered, approved, wrote) is the fast lane ahead of the queue, in this process. Back-pressure:
the lane holds at most ``backlog`` ids; a kick past that is shed, not held in memory, and the feeder claims the
case from the database when its turn comes. A burst costs memory in proportion to the lane, never to the burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from actiondesk.adapters.store.engine import background_writer
from actiondesk.agents.loop import CaseLoop
from actiondesk.agents.retries import RetryPolicy, StepRetries
from actiondesk.bot.jobs.rush import HOLD_SECONDS, QUIET_SECONDS, Rush
from actiondesk.bot.jobs.turns import Turns, Work

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORKERS = 4
DEFAULT_BACKLOG = 10_000
DEFAULT_POLL_SECONDS = 2.0


class CaseWorker:
    def __init__(
        self,
        loop: CaseLoop,
        policy: RetryPolicy | None = None,
        *,
        workers: int = DEFAULT_WORKERS,
        backlog: int = DEFAULT_BACKLOG,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        quiet_seconds: float = QUIET_SECONDS,
        hold_seconds: float = HOLD_SECONDS,
    ) -> None:
        if workers < 1 or backlog < 1:
            raise ValueError("a case worker needs at least one thread and room for one case")
        self._loop = loop
        self._retries = StepRetries(loop, policy or RetryPolicy())
        self.workers = workers
        self.backlog = backlog
        self.poll_seconds = poll_seconds
        # both pools' SQLite writes yield to a waiting request's (adapters/store/engine.py's WriteGate)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="case", initializer=background_writer)
        # scheduled jobs (approvals expiry, the sweep's reads, reports): background too, but never behind a burst
        self._jobs = ThreadPoolExecutor(2, thread_name_prefix="jobs", initializer=background_writer)
        # waiting for a drainer, oldest first, each with the context of its kick (None: claimed from the queue)
        # and when it began to wait (the rush's clock)
        self._pending: OrderedDict[str, tuple[contextvars.Context | None, float]] = OrderedDict()
        self._running: set[str] = set()
        self._again: set[str] = set()  # kicked while running: once more after the current run
        self._backoff: dict[str, asyncio.TimerHandle] = {}  # a step raised: run again when the timer fires
        self._drainers: list[asyncio.Task[None]] = []
        self._work = asyncio.Event()
        self._feed = asyncio.Event()  # a drainer freed up (or a kick was shed): claim queued cases now
        self._room = asyncio.Event()  # a run or a request ended: a drainer held back may start its case
        self._rush = Rush(self._room_changed, quiet=quiet_seconds, hold=hold_seconds)  # people first
        self._held = False  # the feeder claimed fewer cases than it had drainers for, because of requests
        self.events = Turns(self._rush)  # chat events' handling after their acks
        self._settled = asyncio.Event()
        self._settled.set()
        self._closed = False
        self.shed = 0  # kicks refused because the backlog was full (the feeder claims those cases later)
        self.claimed = 0  # cases this worker took from the database queue

    @property
    def running(self) -> bool:
        """Whether cases are still taken on (until ``close``) and no drainer has died."""
        return not self._closed and not any(task.done() for task in self._drainers)

    @property
    def backlogged(self) -> int:
        """Cases waiting for a thread of the case pool."""
        return len(self._pending)

    @property
    def busy(self) -> int:
        """Cases being worked on now."""
        return len(self._running)

    @property
    def allowed(self) -> int:
        """Cases worked at once now, for the oldest case waiting: all while no request comes in; while requests
        keep coming, none until it has waited HOLD_SECONDS, then one fewer per request in flight, down to one."""
        oldest = next(iter(self._pending.values()), None)
        return self._rush.room(self.workers, oldest[1] if oldest else None)

    def after_ack(self, work: Work) -> None:
        """Handle a chat event after its ack when its turn comes (bot/jobs/turns.py)."""
        self.events.handle(work)

    def request_started(self) -> None:
        self._rush.started()

    def request_ended(self) -> None:
        self._rush.ended()  # calls _room_changed

    def _room_changed(self) -> None:
        """A request ended, the rush ended, or the oldest waiting work's hold ran out: start what may start."""
        self.events.hand()
        allowed = self.allowed  # (only what may start now is woken: a storm ends thousands of requests a second)
        if self._pending and len(self._running) < allowed:
            self._room.set()
        if self._held and len(self._running) + len(self._pending) < allowed:  # the feeder held back: claim now
            self._held = False
            self._feed.set()
        self._wake_for_oldest()

    def _wake_for_oldest(self) -> None:
        """While requests keep coming, wake up again when the oldest waiting case's hold runs out."""
        if not self._rush.hold or not self._rush.rushing():
            return
        if self._pending and len(self._running) < self.workers:
            at = next(iter(self._pending.values()))[1] + self._rush.hold
            if at > self._rush.now():
                self._rush.wake_at(at)

    def kick(self, case_id: str) -> None:
        """Advance the case soon; if it is already running, once more after the current run."""
        if self._closed or case_id in self._backoff or case_id in self._pending:
            return
        if case_id in self._running:
            self._again.add(case_id)
            return
        if len(self._pending) >= self.backlog:
            self.shed += 1
            log.info("case %s: %d cases wait for a worker; it stays queued in the database", case_id, self.backlog)
            return
        self.start()
        self._pending[case_id] = (contextvars.copy_context(), self._rush.now())  # the kicker's trace goes on
        self._settled.clear()
        self._work.set()
        self._room.set()  # (a drainer held back waits on _room, not _work)

    async def call(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn`` on the case pool (background work that must not take a request's thread)."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def job(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn`` on the jobs pool: background work that waits neither for a request nor for a case step."""
        return await asyncio.get_running_loop().run_in_executor(self._jobs, fn, *args)

    def start(self) -> None:
        """Start the drainers and the feeder on the running event loop (the first kick does it too)."""
        if self._drainers or self._closed:
            return
        loop = asyncio.get_running_loop()
        # Context(): a drainer must not carry the context of whatever request happened to start it
        self._drainers = [
            loop.create_task(self._drain(), name=f"case-drainer-{n}", context=contextvars.Context())
            for n in range(self.workers)
        ]
        self._drainers.append(loop.create_task(self._feeder(), name="case-feeder", context=contextvars.Context()))

    async def _feeder(self) -> None:
        while not self._closed:
            self._feed.clear()  # a drainer freeing up while we claim sets it again: claim once more then
            if await self._fill():
                await self._feed.wait()  # every drainer has a case: claim more when one frees up
                continue
            with contextlib.suppress(TimeoutError):  # no news: poll (another replica's lease may have run out)
                async with asyncio.timeout(self.poll_seconds):  # (3.11's wait_for can drop a cancel)
                    await self._feed.wait()

    async def _fill(self) -> bool:
        """Claim queued cases for the idle drainers; whether every drainer then has one."""
        room = self.allowed - len(self._running) - len(self._pending)
        held = self.allowed < self.workers  # requests hold drainers back: the queue may have more than room
        self._held = held
        if room <= 0:
            return True
        try:
            claimed = await self.job(self._loop.claim, room)
        except Exception:  # the edge of a background job (the database failing): try again at the next poll
            log.exception("claiming queued cases failed")
            return False
        # fewer than asked for: the queue is empty, so nothing was held back, and a request's end need not claim
        # again (a claim is a write); a kick, a drainer freeing up or the poll does
        self._held = held and len(claimed) >= room
        for case_id in claimed:
            if case_id in self._pending or case_id in self._running or case_id in self._backoff:
                continue
            self.claimed += 1
            self._pending[case_id] = (None, self._rush.now())  # claimed from the queue: a trace of its own
            self._settled.clear()
            self._work.set()
            self._room.set()  # (a drainer held back waits on _room, not _work)
        return len(claimed) >= room

    async def _drain(self) -> None:
        while not self._closed:
            if not self._pending:
                self._work.clear()
                await self._work.wait()
                continue
            if len(self._running) >= self.allowed:  # people first: wait until a request, a rush or a run ends
                self._room.clear()
                self._wake_for_oldest()
                await self._room.wait()
                continue
            case_id, (context, _) = self._pending.popitem(last=False)
            self._running.add(case_id)
            try:
                await self._run(case_id, context or contextvars.Context())
            finally:
                self._running.discard(case_id)
                if case_id in self._again and case_id not in self._backoff:
                    self._again.discard(case_id)
                    self.kick(case_id)
                self._feed.set()
                self._room.set()
                self._check_settled()

    async def _run(self, case_id: str, context: contextvars.Context) -> None:
        try:
            wait = await asyncio.get_running_loop().run_in_executor(self._pool, context.run, self._retries.run, case_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # the edge of a background job (the database itself failing): the sweep retries
            log.exception("case %s: run failed", case_id)
            return
        if wait is not None:  # the backoff is saved too: after a restart the sweep honours it
            self._again.discard(case_id)
            self._backoff[case_id] = asyncio.get_running_loop().call_later(wait, self._retry, case_id)

    def _retry(self, case_id: str) -> None:
        self._backoff.pop(case_id, None)
        self.kick(case_id)
        self._check_settled()

    def _check_settled(self) -> None:
        if not (self._pending or self._running or self._backoff):
            self._settled.set()

    async def resume(self) -> int:
        """Kick the scheduled cases whose date has come, and wake the feeder for the queue; how many were kicked."""
        self.start()
        cases = await self.job(self._loop.due)
        deferred = await self.job(self._loop.store.deferred, self._loop.clock.now())
        busy = self._running | self._pending.keys() | self._backoff.keys()
        fresh = [c for c in cases if c.id not in busy and c.id not in deferred]
        for case in fresh:
            log.info("case %s: resuming from %s", case.id, case.status.value)
            self.kick(case.id)
        self._feed.set()
        return len(fresh)

    async def idle(self) -> None:
        """Wait until no case is waiting, running, waiting out a backoff, or queued in the database for now."""
        while True:
            while not self._settled.is_set():
                await self._settled.wait()
            if self._closed:
                return
            await self._fill()
            if self._settled.is_set():
                return

    async def close(self) -> None:
        """Take no more cases; a step already running on a thread finishes there (``drain`` waits for it)."""
        self._closed = True
        self._rush.close()
        await self.events.close()
        for handle in self._backoff.values():
            handle.cancel()
        self._backoff.clear()
        self._pending.clear()
        self._feed.set()
        for task in self._drainers:
            task.cancel()
        await asyncio.gather(*self._drainers, return_exceptions=True)
        self._running.clear()
        self._settled.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._jobs.shutdown(wait=False, cancel_futures=True)

    async def drain(self) -> None:
        """Wait for the steps still running on the case pool (after ``close``)."""
        await asyncio.to_thread(self._pool.shutdown, True)
        await asyncio.to_thread(self._jobs.shutdown, True)
