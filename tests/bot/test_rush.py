"""People first: how much background work a rush of requests leaves room for (bot/jobs/rush.py)."""

from __future__ import annotations

import asyncio

import pytest

from actiondesk.bot.jobs.rush import Rush


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_room_is_whole_with_no_request_and_none_for_fresh_work_during_a_rush() -> None:
    clock, changes = Clock(), []
    rush = Rush(lambda: changes.append(clock.now), quiet=0.05, hold=2.0, clock=clock)
    assert (rush.rushing(), rush.room(8, since=clock.now)) == (False, 8)
    rush.started()
    assert rush.room(8, since=clock.now) == 0  # fresh work waits
    assert rush.room(8, since=clock.now - 2.0) == 7  # work held for the whole hold: one fewer per request
    assert rush.room(4, since=None) == 3  # nothing waiting (the feeder's claims): the old rule
    for _ in range(10):
        rush.started()
    assert rush.room(8, since=clock.now - 5.0) == 1  # never none


def test_a_rush_outlasts_its_last_request_by_the_quiet_time() -> None:
    clock, changes = Clock(), []
    rush = Rush(lambda: changes.append(clock.now), quiet=0.05, hold=2.0, clock=clock)

    async def burst() -> None:
        rush.started()
        rush.ended()  # the count is back at zero between two acks
        assert changes == [100.0]  # a request ended: what waits is looked at again
        clock.now += 0.04
        assert rush.rushing()
        assert rush.room(8, since=clock.now) == 0
        clock.now += 0.02
        assert not rush.rushing()
        assert rush.room(8, since=clock.now) == 8
        rush.close()

    asyncio.run(burst())


async def test_the_end_of_a_rush_and_a_hold_running_out_wake_what_waits() -> None:
    loop = asyncio.get_running_loop()
    woken: list[float] = []
    rush = Rush(lambda: woken.append(loop.time()), quiet=0.05, hold=0.2)
    began = loop.time()
    rush.started()
    rush.wake_at(rush.now() + 0.2)  # the oldest work's hold runs out then
    rush.wake_at(rush.now() + 0.5)  # a later one: the earlier stands, and what it wakes sets the next
    await asyncio.sleep(0.3)
    assert len(woken) == 1
    assert woken[0] - began >= 0.19
    rush.ended()  # the last request: woken now, and again once the quiet time has passed
    await asyncio.sleep(0.1)
    assert len(woken) == 3
    assert not rush.rushing()
    rush.close()


def test_negative_times_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Rush(lambda: None, quiet=-1)
