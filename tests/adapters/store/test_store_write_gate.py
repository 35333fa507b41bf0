"""SQLite writers of one process queue for the write lock in turn, first come first served, and a request's
writer goes before the case pool's (background) writers that were already waiting, and before a chat event's
handling after its ack (a background context whose calls to threads carry it)."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from actiondesk.adapters.store import SqlStore, make_engine
from actiondesk.adapters.store.engine import WriteGate, background_work, background_writer, write_gate
from actiondesk.adapters.store.migrate import upgrade
from actiondesk.core.audit import AuditDraft, AuditKind
from actiondesk.core.clock import SystemClock


def _append(store: SqlStore, actor: str) -> None:
    with store.transaction() as uow:
        uow.append_audit(
            AuditDraft(kind=AuditKind.OBSERVATION, case_id=None, actor=actor, at=SystemClock().now(), payload={})
        )


def _until(condition) -> None:
    while not condition():
        time.sleep(0.005)


@pytest.fixture
def gated(tmp_path: Path) -> Iterator[tuple[SqlStore, WriteGate]]:
    url = f"sqlite:///{tmp_path / 'gate.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield SqlStore(engine), write_gate(engine)
    engine.dispose()


def _hold(store: SqlStore, holding: threading.Event, release: threading.Event) -> None:
    """Take the write lock with an entry of its own, say so, and keep it until released."""
    with store.transaction() as uow:
        uow.append_audit(
            AuditDraft(kind=AuditKind.OBSERVATION, case_id=None, actor="holder", at=SystemClock().now(), payload={})
        )
        holding.set()
        release.wait(10)


def test_a_request_writer_goes_before_waiting_background_writers(gated: tuple[SqlStore, WriteGate]) -> None:
    store, gate = gated
    release, holding = threading.Event(), threading.Event()

    def holder() -> None:
        background_writer()
        _hold(store, holding, release)

    def background(name: str) -> None:
        background_writer()
        _append(store, name)

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    holding.wait(10)
    for n in range(3):
        threads.append(threading.Thread(target=background, args=(f"case-{n}",)))
        threads[-1].start()
    _until(lambda: gate.waiting == 3)
    threads.append(threading.Thread(target=_append, args=(store, "request")))
    threads[-1].start()
    _until(lambda: gate.waiting == 4)
    release.set()
    for thread in threads:
        thread.join(10)
    order = [entry.actor for entry in store.audit()]
    assert order[0] == "holder"
    assert order[1] == "request"  # ahead of the three background writers that had waited longer
    assert sorted(order[2:]) == ["case-0", "case-1", "case-2"]
    assert store.verify_audit().ok


def test_writes_in_a_background_context_go_after_a_request_writers_on_the_threads_it_hands_them_to(
    gated: tuple[SqlStore, WriteGate],
) -> None:
    store, gate = gated
    release, holding = threading.Event(), threading.Event()

    async def event() -> None:
        background_work()  # a task of its own, as each chat event's handling is
        await asyncio.to_thread(_append, store, "event")

    async def request() -> None:
        await asyncio.to_thread(_append, store, "request")  # the context of the loop: a request's writer

    async def scene() -> None:
        first = threading.Thread(target=_hold, args=(store, holding, release))
        first.start()
        await asyncio.to_thread(holding.wait, 10)
        events = [asyncio.create_task(event()) for _ in range(2)]
        await asyncio.to_thread(_until, lambda: gate.waiting == 2)
        answer = asyncio.create_task(request())
        await asyncio.to_thread(_until, lambda: gate.waiting == 3)
        release.set()
        await asyncio.gather(*events, answer)
        first.join(10)

    asyncio.run(scene())
    order = [entry.actor for entry in store.audit()]
    assert order == ["holder", "request", "event", "event"]  # the request went ahead of the events waiting


def test_a_writer_that_lets_go_and_comes_back_at_once_queues_behind_those_waiting(
    gated: tuple[SqlStore, WriteGate],
) -> None:
    """The lock is handed to the longest-waiting writer: the one that lets go cannot take it straight back (it
    still holds the interpreter when it lets go, so with a free-for-all it would, again and again)."""
    store, gate = gated
    release, holding = threading.Event(), threading.Event()

    def holder() -> None:
        _hold(store, holding, release)
        _append(store, "again")

    threads = [threading.Thread(target=holder)]
    threads[0].start()
    holding.wait(10)
    for n in range(3):
        threads.append(threading.Thread(target=_append, args=(store, f"request-{n}")))
        threads[-1].start()
        _until(lambda n=n: gate.waiting == n + 1)  # each queues after the one before
    release.set()
    for thread in threads:
        thread.join(10)
    order = [entry.actor for entry in store.audit()]
    assert order == ["holder", "request-0", "request-1", "request-2", "again"]
    assert store.verify_audit().ok


def test_a_writer_interrupted_while_it_waits_leaves_the_queue_and_the_lock_still_passes(
    gated: tuple[SqlStore, WriteGate],
) -> None:
    """A signal's exception on the main thread, raised while it waits its turn: it is no longer counted as
    waiting, and the lock is not handed to it (which would hold it for good)."""
    store, gate = gated
    release, holding = threading.Event(), threading.Event()
    first = threading.Thread(target=_hold, args=(store, holding, release))
    first.start()
    holding.wait(10)

    def interrupt(_signum: int, _frame: object) -> None:
        raise TimeoutError("interrupted")

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(TimeoutError, match="interrupted"):
            _append(store, "interrupted")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert gate.waiting == 0
    release.set()
    first.join(10)
    _append(store, "after")  # the lock passed on: not handed to the writer that left
    assert [entry.actor for entry in store.audit()] == ["holder", "after"]
