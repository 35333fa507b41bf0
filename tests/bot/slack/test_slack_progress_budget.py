"""Cases waiting for the workspace's chat.update budget wait without a snapshot: only a case that has taken an
edit from the budget reads its state (and holds it); an edit taken but not needed goes back to the budget."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from actiondesk.bot.slack.pacing import Pacing, UpdateBudget
from actiondesk.bot.slack.progress import Progress
from actiondesk.bot.slack.threads import CHANNEL, THREAD, Posted
from actiondesk.core.case import Case, CaseKind, CaseStatus

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Front:
    """The front desk as Progress reads it: cases in Slack threads, counting how often each is read."""

    agent = "actiondesk"

    def __init__(self, cases: dict[str, Case]) -> None:
        self.cases = cases
        self.reads: list[str] = []

    def case(self, case_id: str) -> Case:
        self.reads.append(case_id)
        return self.cases[case_id]

    def audit(self, case_id: str, after_seq: int = 0) -> list[Any]:
        return []

    def approvals_of(self, case_id: str) -> list[Any]:
        return []


class Threads:
    """Each case's status message was posted, showing ``shown``."""

    def __init__(self, shown: dict[str, str]) -> None:
        self.shown = shown

    def posted(self, case_id: str) -> Posted:
        return Posted(status_ts=f"ts-{case_id}", status_text=self.shown[case_id])

    def save_posted(self, case_id: str, posted: Posted) -> None:
        self.shown[case_id] = posted.status_text or ""


class Slack:
    def __init__(self) -> None:
        self.updates: list[str] = []
        self.updated = asyncio.Event()

    async def chat_update(self, **args: Any) -> dict[str, Any]:
        self.updates.append(args["ts"])
        self.updated.set()
        return {"ok": True}


def case(n: int) -> Case:
    thread = {CHANNEL: f"D{n}", THREAD: f"{n}.0"}
    return Case(
        id=f"C-{n}",
        kind=CaseKind.INCIDENT,
        status=CaseStatus.TRIAGING,
        title=f"report {n}",
        text="t",
        reporter="bob",
        surface="slack",
        thread=thread,
        created_at=AT,
        updated_at=AT,
    )


@dataclass
class Running:
    progress: Progress
    front: Front
    threads: Threads
    slack: Slack
    budget: UpdateBudget
    cases: dict[str, Case]


@asynccontextmanager
async def running(
    count: int, per_window: int, window: float, clock: Callable[[], float] = time.monotonic
) -> AsyncIterator[Running]:
    """Progress over ``count`` cases whose status messages show something old, ``per_window`` edits a window."""
    cases = {c.id: c for c in (case(n) for n in range(count))}
    front, slack, threads = Front(cases), Slack(), Threads({i: "old" for i in cases})
    pacing = Pacing(min_edit_seconds=0, updates_per_minute=per_window, window_seconds=window)
    budget = UpdateBudget(pacing, clock=clock)
    progress = Progress(front, threads, slack, budget)  # type: ignore[arg-type]
    task = asyncio.get_running_loop().create_task(progress.run())
    try:
        yield Running(progress, front, threads, slack, budget, cases)
    finally:
        task.cancel()
        await progress.close()


async def settle(slack: Slack, updates: int) -> None:
    while len(slack.updates) < updates:
        slack.updated.clear()
        await asyncio.wait_for(slack.updated.wait(), 10)
    for _ in range(50):  # whatever else runs now (reads on threads, sleeps scheduled) gets its turns
        await asyncio.sleep(0.01)


async def test_only_cases_that_took_an_edit_read_their_state_while_the_rest_wait():
    async with running(10, per_window=2, window=3600) as run:
        for case_id in run.cases:
            run.progress.touch(case_id)
        await settle(run.slack, 2)
        assert len(run.slack.updates) == 2, "the budget allows two edits an hour"
        assert len(run.front.reads) == 2, "the eight cases still waiting for the budget have read nothing"


async def test_an_edit_taken_but_not_needed_goes_back_to_the_budget():
    async with running(3, per_window=2, window=3600) as run:
        run.progress.touch("C-0")
        await settle(run.slack, 1)
        run.progress.touch("C-0")  # shown already: its edit is taken, then given back
        for _ in range(50):
            await asyncio.sleep(0.01)
        assert run.slack.updates == ["ts-C-0"]
        assert run.budget.spent_in_window() == 1
        run.progress.touch("C-1")  # so the second edit of the hour is still there for another case
        await settle(run.slack, 2)
        assert run.slack.updates == ["ts-C-0", "ts-C-1"]


def syncs() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("slack-C-")]


async def test_cases_waiting_for_the_budget_wait_without_a_task_of_their_own():
    async with running(10, per_window=2, window=3600) as run:
        for case_id in run.cases:
            run.progress.touch(case_id)
        await settle(run.slack, 2)
        assert run.progress.parked == 8
        assert syncs() == [], "no task is left waiting for the budget"


async def test_a_parked_case_shows_its_newest_state_once_the_budget_allows_it():
    now = [0.0]
    async with running(2, per_window=1, window=60, clock=lambda: now[0]) as run:
        progress, front, slack, cases = run.progress, run.front, run.slack, run.cases
        progress.touch("C-0")
        await settle(slack, 1)
        progress.touch("C-1")  # the minute's edit is spent: C-1 parks
        await settle(slack, 1)
        assert progress.parked == 1
        assert front.reads == ["C-0"]
        cases["C-1"] = cases["C-1"].moved(CaseStatus.ESCALATED, AT)
        progress.touch("C-1")  # changed while parked: nothing more is needed
        await settle(slack, 1)
        assert slack.updates == ["ts-C-0"]
        assert front.reads == ["C-0"]
        now[0] = 61.0  # the budget allows one more edit
        progress.touch("C-0")  # wakes run(), which starts C-1 (oldest parked) with that edit
        await settle(slack, 2)
        assert slack.updates[:2] == ["ts-C-0", "ts-C-1"]
        assert front.reads.count("C-1") == 1
        assert "escalated" in run.threads.shown["C-1"].lower(), run.threads.shown["C-1"]
        assert progress.parked == 1  # C-0 again: the edit of this minute went to C-1


@pytest.mark.parametrize("ticks", [0, 1, 2, 3])
async def test_progress_stops_when_cancelled_as_it_is_woken(ticks: int) -> None:
    """A stop (cancel) that lands as the run loop is being woken still stops it. Python 3.11's ``asyncio.wait_for``
    returned the woken wait's result and dropped such a cancel, and the server then never exited: its cleanup
    waited for this loop, which slept on with no one left to wake it."""
    front, slack, threads = Front({}), Slack(), Threads({})
    progress = Progress(front, threads, slack, UpdateBudget(Pacing()))  # type: ignore[arg-type]
    progress._unpark = lambda: 60.0  # type: ignore[method-assign]  # a parked case: the loop waits with a timeout
    task = asyncio.get_running_loop().create_task(progress.run())
    await asyncio.sleep(0.01)
    progress.touch("C-nobody")  # wakes the loop ...
    for _ in range(ticks):
        await asyncio.sleep(0)
    task.cancel()  # ... as it is stopped
    done, _ = await asyncio.wait({task}, timeout=2)
    assert task in done, "the run loop went on waiting after it was cancelled"
    assert task.cancelled()
