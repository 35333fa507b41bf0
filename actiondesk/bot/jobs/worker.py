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

People first: every request in flight (``request_started`` .. ``request_ended``, counted by the server's
outermost middleware) takes one drainer's turn, down to one. A burst of requests (a console's creations, a
storm of chat events) slows the case work to one case at a time, never to none, and the case threads stop
competing with the requests' threads for the interpreter; once the requests are answered, every drainer works.

The same goes for a chat event's handling after its ack (``turn``): at most EVENT_TURNS at once, one fewer
per request in flight, down to one. A storm of chat events is acked at the pace of a bare app, and the cases
it opens are opened as the storm allows.

A kick (a person answered, approved, wrote) is the fast lane ahead of the queue, in this process. Back-pressure:
the lane holds at most ``backlog`` ids; a kick past that is shed, not held in memory, and the feeder claims the
case from the database when its turn comes. A burst costs memory in proportion to the lane, never to the burst.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from actiondesk.adapters.store.engine import background_writer
from actiondesk.agents.loop import CaseLoop
from actiondesk.agents.retries import RetryPolicy, StepRetries

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_WORKERS = 4
DEFAULT_BACKLOG = 10_000
DEFAULT_POLL_SECONDS = 2.0
EVENT_TURNS = 8  # chat events handled at once on the event loop after their acks, with no request in flight


class CaseWorker:
    def __init__(
        self,
        loop: CaseLoop,
        policy: RetryPolicy | None = None,
        *,
        workers: int = DEFAULT_WORKERS,
        backlog: int = DEFAULT_BACKLOG,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
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
        self._pending: OrderedDict[str, contextvars.Context | None] = OrderedDict()
        self._running: set[str] = set()
        self._again: set[str] = set()  # kicked while running: once more after the current run
        self._backoff: dict[str, asyncio.TimerHandle] = {}  # a step raised: run again when the timer fires
        self._drainers: list[asyncio.Task[None]] = []
        self._work = asyncio.Event()
        self._feed = asyncio.Event()  # a drainer freed up (or a kick was shed): claim queued cases now
        self._room = asyncio.Event()  # a run or a request ended: a drainer held back may start its case
        self._requests = 0  # requests in flight (people first: each holds one drainer back)
        self._held = False  # the feeder claimed fewer cases than it had drainers for, because of requests
        self._turns = 0  # chat events being handled after their acks (``turn``)
        self._turn_waiters: deque[asyncio.Future[None]] = deque()  # events waiting for a turn, oldest first
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
        """Cases worked at once now: every request in flight takes one drainer's turn, down to one."""
        return max(1, self.workers - self._requests)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """A turn at a chat event's handling after its ack (on the event loop): at most EVENT_TURNS at once, one
        fewer per request in flight, down to one. Waiters are served first come, first served, and a turn that
        frees up wakes one of them, not all (a storm leaves thousands waiting)."""
        if self._turn_waiters or self._turns >= self._turn_room():
            waiter = asyncio.get_running_loop().create_future()
            self._turn_waiters.append(waiter)
            try:
                await waiter  # resolved with the turn already taken for us (_hand_turns)
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._turns -= 1  # handed to us as we were cancelled: give it on
                elif waiter in self._turn_waiters:
                    self._turn_waiters.remove(waiter)
                self._hand_turns()
                raise
        else:
            self._turns += 1
        try:
            yield
        finally:
            self._turns -= 1
            self._hand_turns()

    def _turn_room(self) -> int:
        return max(1, EVENT_TURNS - self._requests)

    def _hand_turns(self) -> None:
        while self._turn_waiters and self._turns < self._turn_room():
            waiter = self._turn_waiters.popleft()
            if not waiter.done():  # (a cancelled waiter's task takes itself out)
                self._turns += 1
                waiter.set_result(None)

    def request_started(self) -> None:
        self._requests += 1

    def request_ended(self) -> None:
        self._requests -= 1
        self._room.set()
        self._hand_turns()
        if self._held and self._requests < self.workers:  # the feeder held back: claim for the drainers now free
            self._held = False
            self._feed.set()

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
        self._pending[case_id] = contextvars.copy_context()  # the kicker's trace goes on with the case
        self._settled.clear()
        self._work.set()

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
        self._held = self.allowed < self.workers
        if room <= 0:
            return True
        try:
            claimed = await self.job(self._loop.claim, room)
        except Exception:  # the edge of a background job (the database failing): try again at the next poll
            log.exception("claiming queued cases failed")
            return False
        for case_id in claimed:
            if case_id in self._pending or case_id in self._running or case_id in self._backoff:
                continue
            self.claimed += 1
            self._pending[case_id] = None  # claimed from the queue: its run starts a trace of its own
            self._settled.clear()
            self._work.set()
        return len(claimed) >= room

    async def _drain(self) -> None:
        while not self._closed:
            if not self._pending:
                self._work.clear()
                await self._work.wait()
                continue
            if len(self._running) >= self.allowed:  # people first: wait until a request or a run ends
                self._room.clear()
                await self._room.wait()
                continue
            case_id, context = self._pending.popitem(last=False)
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
