"""The change feed: every subscriber hears of every change, except a surface's follower of another surface's case."""

from __future__ import annotations

import asyncio

from actiondesk.bot.web import events
from actiondesk.bot.web.events import ChangeFeed


def _drain(queue: asyncio.Queue[str]) -> list[str]:
    taken = []
    while not queue.empty():
        taken.append(queue.get_nowait())
    return taken


async def _published(feed: ChangeFeed, *changes: tuple[str, str | None]) -> None:
    for case_id, surface in changes:
        feed.publish(case_id, surface)
    await asyncio.sleep(0)  # the fan-out runs on the loop (publishers are worker threads)
    await asyncio.sleep(0)


async def test_a_surface_follower_hears_of_its_own_cases_and_of_cases_it_cannot_place():
    feed = ChangeFeed()
    feed.bind(asyncio.get_running_loop())
    everything = feed.subscribe()
    slack = feed.subscribe(surfaces={"slack"})
    await _published(feed, ("C1", "console"), ("C2", "slack"), ("C3", None), ("C1", None), ("C2", None))
    assert _drain(everything) == ["C1", "C2", "C3", "C1", "C2"]
    # C1 is a console case (said at its first change, remembered for the next); C3's surface was never said
    assert _drain(slack) == ["C2", "C3", "C2"]
    assert (feed.surface("C1"), feed.surface("C2"), feed.surface("C3")) == ("console", "slack", None)


async def test_the_feed_remembers_a_bounded_number_of_surfaces(monkeypatch):
    monkeypatch.setattr(events, "SURFACES_KEPT", 3)
    feed = ChangeFeed()
    feed.bind(asyncio.get_running_loop())
    slack = feed.subscribe(surfaces={"slack"})
    await _published(feed, ("C1", "console"), ("C2", "console"), ("C3", "console"), ("C1", None), ("C4", "console"))
    assert feed.surface("C2") is None  # the least recently changed case is forgotten first (C1 changed again)
    assert feed.surface("C1") == "console"
    await _published(feed, ("C2", None))
    assert _drain(slack) == ["C2"]  # forgotten, so no longer placed: the follower hears of it and reads it itself


async def test_a_change_past_a_subscribers_limit_is_dropped_for_it_alone(monkeypatch):
    monkeypatch.setattr(events, "QUEUE_LIMIT", 2)
    feed = ChangeFeed()
    feed.bind(asyncio.get_running_loop())
    slow, quick = feed.subscribe(), feed.subscribe()
    await _published(feed, ("C1", None), ("C2", None))
    _drain(quick)
    await _published(feed, ("C3", None))
    assert _drain(slow) == ["C1", "C2"]
    assert _drain(quick) == ["C3"]
