"""A chat delivery's id is recorded in the same transaction as the case or reply it leads to."""

from __future__ import annotations

import threading

import pytest

from actiondesk.core.audit import AuditKind
from actiondesk.core.errors import DuplicateDeliveryError


def test_a_retried_event_opens_no_second_case(desk):
    loop = desk.runtime.loop
    first = loop.open_case("the payment gateway is throwing 500s", "alice", surface="slack", delivery="slack:event:Ev1")
    with pytest.raises(DuplicateDeliveryError):
        loop.open_case("the payment gateway is throwing 500s", "alice", surface="slack", delivery="slack:event:Ev1")
    assert [c.id for c in desk.store.list_cases()] == [first.id]


def test_racing_deliveries_of_one_event_open_one_case(desk):
    loop = desk.runtime.loop
    barrier = threading.Barrier(3)
    opened: list[str] = []
    refused: list[str] = []

    def deliver() -> None:
        barrier.wait()
        try:
            opened.append(loop.open_case("search is down", "alice", surface="teams", delivery="teams:act-1").id)
        except DuplicateDeliveryError:
            refused.append("retry")

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(opened) == 1
    assert len(refused) == 2
    assert len(desk.store.list_cases()) == 1


def test_a_retried_reply_is_added_once(desk):
    loop = desk.runtime.loop
    case = loop.open_case("search is down", "alice")
    loop.add_message(case.id, "alice", "still down", delivery="slack:event:Ev2")
    with pytest.raises(DuplicateDeliveryError):
        loop.add_message(case.id, "alice", "still down", delivery="slack:event:Ev2")
    texts = [e.payload["text"] for e in desk.store.audit(case.id) if e.kind is AuditKind.MESSAGE]
    assert texts.count("still down") == 1


def test_a_failed_open_leaves_the_delivery_unrecorded(desk):
    loop = desk.runtime.loop
    taken = loop.open_case("search is down", "alice")
    loop._ids = lambda prefix: taken.id  # the next case collides with an existing id: its transaction fails
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the store raises, nothing may be kept
        loop.open_case("checkout is slow", "bob", delivery="slack:event:Ev3")
    loop._ids = lambda prefix: f"{prefix}-again"
    again = loop.open_case("checkout is slow", "bob", delivery="slack:event:Ev3")  # the retry is not refused
    assert again.id == "C-again"
