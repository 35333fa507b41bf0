"""A run holds its case's lease with as few writes as keep it safe: taken once when the run starts, renewed
before a step only once a quarter of it has gone by, released when the run ends."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import TYPE_CHECKING

import pytest

from actiondesk.core.case import Case, CaseStatus

if TYPE_CHECKING:
    from conftest import Desk


def _count_leases(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> list[datetime]:
    taken: list[datetime] = []
    claim = desk.store.claim_lease

    def counted(case_id: str, owner: str, now: datetime, seconds: float) -> bool:
        taken.append(now)
        return claim(case_id, owner, now, seconds)

    monkeypatch.setattr(desk.store, "claim_lease", counted)
    return taken


def test_a_run_of_quick_steps_takes_its_lease_once(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.runtime.loop.open_case("search is returning errors", "alice")
    taken = _count_leases(desk, monkeypatch)

    done = desk.runtime.loop.run(case.id)

    assert done.status is CaseStatus.RESOLVED  # several steps: open, triage, plan, act, verify
    assert len(taken) == 1
    assert desk.store.claim_lease(case.id, "other-replica:42", desk.clock.now(), 30)  # released at the end


def test_a_step_that_takes_a_quarter_of_the_lease_renews_it_before_the_next(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.runtime.loop.open_case("search is returning errors", "alice")
    loop = desk.runtime.loop
    advance = loop.advance
    steps: list[CaseStatus] = []

    def slow(current: Case) -> Case:  # each step takes a quarter of the lease (30 s) on the simulated clock
        steps.append(current.status)
        desk.wait(7.5)
        return advance(current)

    monkeypatch.setattr(loop, "advance", slow)
    taken = _count_leases(desk, monkeypatch)

    assert loop.run(case.id).status is CaseStatus.RESOLVED
    assert len(steps) > 2
    assert len(taken) == len(steps)  # at the start, then before every step after the first
    assert all(later > earlier for earlier, later in itertools.pairwise(taken))


def test_a_run_does_not_take_a_case_another_worker_holds(desk: Desk) -> None:
    desk.bad_deploy("search", "v1.9.0", "3b7e1c4")
    case = desk.runtime.loop.open_case("search is returning errors", "alice")
    assert desk.store.claim_lease(case.id, "other-replica:42", desk.clock.now(), 30)

    assert desk.runtime.loop.run(case.id).status is CaseStatus.OPEN
    assert not desk.store.claim_lease(case.id, "third-replica:7", desk.clock.now(), 30)  # still held: not released
