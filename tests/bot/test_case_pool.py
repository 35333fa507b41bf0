"""Case work on a pool of its own: a burst of cases waits for case threads, never for a request's.

The case threads are held up the way a burst holds them: another connection keeps SQLite's one write lock,
so every case run waits on it (each begins by taking its lease, a write). While they wait, the probes answer.
"""

from __future__ import annotations

import asyncio
import gc
import sqlite3
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest
from aiohttp import web
from authn import bearer

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore, make_engine
from actiondesk.adapters.store.migrate import upgrade
from actiondesk.agents.retries import RetryPolicy
from actiondesk.bot.jobs.turns import EVENT_TURNS
from actiondesk.bot.jobs.worker import CaseWorker
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.appkeys import WORKER
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import Runtime, build_runtime, policy_from_settings
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings

TEXT = "checkout is returning 500s since the deploy"


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "actiondesk.db"


@pytest.fixture
def runtime(sqlite_path: Path) -> Iterator[Runtime]:
    url = f"sqlite:///{sqlite_path}"
    upgrade(url)
    engine = make_engine(url)
    settings = Settings(_env_file=None, database_url=url, case_workers=2)  # type: ignore[call-arg]
    clock = SystemClock()
    estate = SandboxEstate(default_estate(clock.now()), clock)
    yield build_runtime(settings, SqlStore(engine), estate, clock, policy_from_settings(settings))
    engine.dispose()


class WriteLock:
    """SQLite's write lock, held by a connection of the test's own (as a long write by anyone would)."""

    def __init__(self, path: Path) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def __enter__(self) -> WriteLock:
        self._connection.execute("BEGIN IMMEDIATE")
        return self

    def __exit__(self, *_: object) -> None:
        self._connection.execute("COMMIT")
        self._connection.close()


def _open(runtime: Runtime, count: int) -> list[str]:
    return [runtime.loop.open_case(f"{TEXT} ({n})", "dana", surface="console").id for n in range(count)]


async def test_probes_answer_while_every_case_thread_waits(aiohttp_client, runtime: Runtime, sqlite_path: Path) -> None:
    app = make_app(runtime, ChangeFeed())
    client = await aiohttp_client(app)
    worker = app[WORKER]
    cases = _open(runtime, 20)  # more than the requests' default executor has threads
    with WriteLock(sqlite_path):
        for case_id in cases:
            worker.kick(case_id)
        while worker.busy < worker.workers:  # let the drainers hand their cases to the case threads
            await client.get("/healthz")
        live = await client.get("/healthz")
        ready = await client.get("/readyz")
        # answered while the case threads are still held up: the requests did not queue behind them
        assert worker.busy == worker.workers == 2
        assert worker.backlogged == 18
        assert live.status == 200
        assert ready.status == 200, await ready.text()
    await worker.idle()
    for case_id in cases:
        assert runtime.store.get_case(case_id).status is not CaseStatus.OPEN  # every one was worked on after


async def test_a_full_backlog_sheds_kicks_and_the_queue_still_has_those_cases(
    runtime: Runtime, sqlite_path: Path
) -> None:
    worker = CaseWorker(runtime.loop, RetryPolicy(), workers=1, backlog=5)
    cases = _open(runtime, 10)
    try:
        with WriteLock(sqlite_path):
            for case_id in cases:
                worker.kick(case_id)
            assert worker.backlogged + worker.busy == 5  # one may already have left the backlog for a thread
            assert worker.shed == 5  # refused, not held in memory: they are safe in the database
            for case_id in cases:
                worker.kick(case_id)  # kicking a case already waiting does not queue it twice
            assert worker.backlogged + worker.busy <= 5
        await worker.idle()  # the feeder claims the shed ones from the database queue
        assert worker.claimed >= 5
        assert [c for c in cases if runtime.store.get_case(c).status is CaseStatus.OPEN] == []
    finally:
        await worker.close()


async def test_a_stopped_case_worker_is_not_ready(aiohttp_client, runtime: Runtime) -> None:
    app = make_app(runtime, ChangeFeed())
    client = await aiohttp_client(app)
    await app[WORKER].close()
    ready = await client.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["cases"] == "stopped"
    assert (await client.get("/healthz")).status == 200


async def test_what_the_server_built_is_frozen_while_it_serves_and_thawed_after(
    aiohttp_client, runtime: Runtime
) -> None:
    app = make_app(runtime, ChangeFeed())
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    client = await aiohttp_client(app)
    # the runtime and everything before it is out of the cyclic collector's walks while the server runs
    assert gc.get_freeze_count() > 0
    assert (await client.get("/healthz")).status == 200
    await client.close()
    assert gc.get_freeze_count() == 0


async def _until(condition: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + limit
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "not reached in time"
        await asyncio.sleep(0.01)


async def test_requests_in_flight_hold_case_drainers_back_down_to_one(runtime: Runtime, sqlite_path: Path) -> None:
    worker = CaseWorker(runtime.loop, RetryPolicy(), workers=3, hold_seconds=0)  # past a rush's hold
    cases = _open(runtime, 6)
    try:
        with WriteLock(sqlite_path):  # a case that starts waits on the lock, so it stays counted as busy
            for _ in range(5):
                worker.request_started()  # five people being answered
            for case_id in cases:
                worker.kick(case_id)
            await _until(lambda: worker.busy == 1)
            await asyncio.sleep(0.2)
            assert (worker.busy, worker.allowed) == (1, 1)  # one case at a time while they wait: never none
            for _ in range(4):
                worker.request_ended()
            await _until(lambda: worker.busy == 2)  # one person left: one drainer held back
            worker.request_ended()
            await _until(lambda: worker.busy == 3)  # nobody waiting: every drainer works
        await worker.idle()
        assert [c for c in cases if runtime.store.get_case(c).status is CaseStatus.OPEN] == []
    finally:
        await worker.close()


async def test_a_request_counts_while_it_is_answered_and_a_live_view_not_once_it_is_open(
    aiohttp_client, runtime: Runtime
) -> None:
    app = make_app(runtime, ChangeFeed())
    worker = app[WORKER]
    during: list[int] = []

    async def probe(_: web.Request) -> web.Response:
        during.append(worker.allowed)
        return web.Response(text="ok")

    app.router.add_get("/probe", probe)
    client = await aiohttp_client(app)
    assert (await client.get("/probe")).status == 200
    assert during == [worker.workers - 1]  # the request held one drainer back while it was answered
    assert worker.allowed == worker.workers
    stream = await client.get("/api/changes", headers={**bearer(runtime, "bob"), "Accept": "text/event-stream"})
    assert stream.status == 200
    assert worker.allowed == worker.workers  # an open live view is not a person waiting for an answer
    stream.close()


async def test_a_chat_events_handling_takes_turns_that_requests_in_flight_hold_back(runtime: Runtime) -> None:
    worker = CaseWorker(runtime.loop, RetryPolicy(), workers=2, hold_seconds=0)  # past a rush's hold
    inside, most, handled = 0, 0, 0
    release = asyncio.Event()

    async def handle() -> None:
        nonlocal inside, most, handled
        inside += 1
        most = max(most, inside)
        await release.wait()
        inside -= 1
        handled += 1

    try:
        for _ in range(EVENT_TURNS + 3):
            worker.request_started()  # more requests in flight than there are turns
        for _ in range(EVENT_TURNS + 4):
            worker.after_ack(handle)  # returns at once: the event waits as its handling, not as a task
        await asyncio.sleep(0.05)
        assert (inside, worker.events.waiting) == (1, EVENT_TURNS + 3)  # one at a time while acks are answered
        for _ in range(EVENT_TURNS + 3):
            worker.request_ended()
        await _until(lambda: inside == EVENT_TURNS)  # nobody waiting for an answer: every turn is taken
        release.set()
        await _until(lambda: handled == EVENT_TURNS + 4)
        assert most == EVENT_TURNS
    finally:
        await worker.close()


async def test_an_events_handling_that_fails_gives_its_turn_on_and_a_stop_drops_those_waiting(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    worker = CaseWorker(runtime.loop, RetryPolicy(), workers=2, hold_seconds=0)
    release = asyncio.Event()
    done: list[int] = []

    async def handle(n: int) -> None:
        if n == 0:
            raise RuntimeError("the handling broke")
        await release.wait()
        done.append(n)

    for _ in range(EVENT_TURNS):
        worker.request_started()  # one turn at a time
    for n in range(4):
        worker.after_ack(partial(handle, n))
    await _until(lambda: worker.events.taken == 1 and worker.events.waiting == 2)  # 0 failed, 1 has the turn
    assert "a chat event's handling failed" in caplog.text
    release.set()
    await _until(lambda: done == [1, 2, 3])  # the turns went on, in order, one at a time
    release.clear()
    for n in (4, 5, 6):
        worker.after_ack(partial(handle, n))
    await _until(lambda: worker.events.taken == 1)
    await worker.close()  # 4 is cancelled where it waits; 5 and 6 are dropped, and the log says so
    assert done == [1, 2, 3]
    assert "2 chat events acked but not handled yet are dropped" in caplog.text
    assert worker.events.waiting == 0


async def test_a_graceful_stop_handles_the_events_acked_but_not_handled_yet(aiohttp_client, runtime: Runtime) -> None:
    app = make_app(runtime, ChangeFeed())
    worker = app[WORKER]
    client = await aiohttp_client(app)
    handled: list[int] = []

    async def handle(n: int) -> None:
        await asyncio.sleep(0.2)  # still being handled when the stop begins
        handled.append(n)

    worker.request_started()  # a request in flight: the events wait
    for n in range(12):  # more than there are turns
        worker.after_ack(partial(handle, n))
    assert worker.events.waiting == 12
    worker.request_ended()
    await client.close()  # the stop: none of the twelve is dropped or cancelled half-way
    assert sorted(handled) == list(range(12))


async def test_a_burst_of_acks_holds_events_and_cases_back_until_it_is_over(runtime: Runtime) -> None:
    """Each ack is answered within one pass of the loop, so the count of requests in flight keeps falling to zero
    between them: a rush lasts until no request has come for the quiet time."""
    worker = CaseWorker(runtime.loop, RetryPolicy(), workers=2, quiet_seconds=0.2, hold_seconds=30)
    handled: list[float] = []

    async def handle() -> None:
        handled.append(asyncio.get_running_loop().time())

    (case_id,) = _open(runtime, 1)
    try:
        worker.request_started()
        worker.after_ack(handle)
        worker.kick(case_id)
        worker.request_ended()
        for _ in range(30):  # acks answered one after another, none in flight between them
            await asyncio.sleep(0.02)
            worker.request_started()
            worker.request_ended()
            assert (handled, worker.busy) == ([], 0)  # nothing started while the burst goes on
        over = asyncio.get_running_loop().time()
        await _until(lambda: len(handled) == 1 and runtime.store.get_case(case_id).status is not CaseStatus.OPEN)
        assert handled[0] - over >= 0.15  # once the quiet time has passed
        await worker.idle()
    finally:
        await worker.close()


async def test_steady_traffic_with_gaps_between_requests_holds_nothing_back(runtime: Runtime) -> None:
    worker = CaseWorker(runtime.loop, RetryPolicy(), workers=2, hold_seconds=30)  # the default quiet time
    handled: list[int] = []

    async def handle() -> None:
        handled.append(1)

    try:
        for n in range(5):  # ten requests a second
            worker.request_started()
            if n == 0:
                worker.after_ack(handle)
            worker.request_ended()
            await asyncio.sleep(0.1)
        assert handled == [1]  # handled in the first gap, not after the hold
    finally:
        await worker.close()


async def test_a_long_rush_holds_work_back_no_longer_than_the_hold_then_one_at_a_time(runtime: Runtime) -> None:
    worker = CaseWorker(runtime.loop, RetryPolicy(), workers=2, quiet_seconds=0.05, hold_seconds=0.3)
    inside, most = 0, 0
    release = asyncio.Event()

    async def handle() -> None:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await release.wait()
        inside -= 1

    try:
        for _ in range(EVENT_TURNS):
            worker.request_started()  # a storm that does not stop
        began = asyncio.get_running_loop().time()
        for _ in range(3):
            worker.after_ack(handle)
        await asyncio.sleep(0.15)
        assert inside == 0  # held: the storm may yet be a short burst
        await _until(lambda: inside == 1)  # never starved: once the hold has run out, one at a time
        assert asyncio.get_running_loop().time() - began >= 0.3
        await asyncio.sleep(0.1)
        assert most == 1
        for _ in range(EVENT_TURNS):
            worker.request_ended()
        await _until(lambda: inside == 3)  # the storm is over: every waiting event has its turn
    finally:
        release.set()
        await worker.close()


async def test_requests_ending_during_a_rush_do_not_claim_again_from_an_empty_queue(runtime: Runtime) -> None:
    """A claim is a write: while requests hold drainers back, the feeder claims again as each ends only when its
    last claim filled the room it had (the queue may hold more); an empty queue waits for a kick or the poll."""
    claims: list[int] = []
    claim = runtime.loop.claim

    def counted(limit: int) -> list[str]:
        found = claim(limit)
        claims.append(limit)  # once the claim is done
        return found

    runtime.loop.claim = counted  # type: ignore[method-assign]
    worker = CaseWorker(runtime.loop, RetryPolicy(), workers=2, hold_seconds=0)
    try:
        worker.request_started()  # a request stays in flight: one drainer of two may work
        worker.start()
        await _until(lambda: len(claims) == 1 and not worker._held)  # the feeder has seen its claim come back empty
        for _ in range(50):  # a storm of requests, each ending
            worker.request_started()
            await asyncio.sleep(0)
            worker.request_ended()
        await asyncio.sleep(0.05)
        assert len(claims) == 1  # the queue was empty: no claim per request
        (case_id,) = _open(runtime, 1)
        worker.kick(case_id)  # new work still starts at once
        await _until(lambda: runtime.store.get_case(case_id).status is not CaseStatus.OPEN)
    finally:
        worker.request_ended()
        await worker.close()
