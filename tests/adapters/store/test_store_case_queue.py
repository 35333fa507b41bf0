"""The case queue: queued cases claimed oldest first, none by two claimers, honouring leases, wake times and
backoffs. On PostgreSQL the claim skips rows another claimer holds (FOR UPDATE SKIP LOCKED); on SQLite it
runs under the write lock."""

from __future__ import annotations

from datetime import timedelta

from store_factories import T0, a_case, race

from actiondesk.adapters.store import SqlStore
from actiondesk.agents.loop import QUEUED, TIMED
from actiondesk.core.case import CaseStatus

LEASE = 30.0


def _claim(store: SqlStore, owner: str, limit: int, at=T0) -> list[str]:
    return store.claim_cases(owner, at, LEASE, limit, ready=QUEUED, timed=TIMED)


def _add(store: SqlStore, count: int, **changes: object) -> list[str]:
    ids = []
    with store.transaction() as uow:
        for n in range(count):
            case = a_case(f"case-{len(ids)}-{changes.get('status', 'open')}-{n}", at=T0 + timedelta(seconds=n))
            uow.add_case(case.model_copy(update=changes))
            ids.append(case.id)
    return ids


def test_queued_cases_are_claimed_oldest_first_and_leased(store: SqlStore) -> None:
    ids = _add(store, 5)
    assert _claim(store, "replica-a", 2) == ids[:2]
    assert _claim(store, "replica-b", 10) == ids[2:]  # the first two are leased to replica-a
    assert _claim(store, "replica-c", 10) == []
    assert not store.claim_lease(ids[0], "replica-c", T0, LEASE)  # the claim is the case's lease
    assert _claim(store, "replica-c", 10, at=T0 + timedelta(seconds=LEASE + 1)) == ids  # leases ran out


def test_waiting_finished_timed_and_backing_off_cases_are_not_queued(store: SqlStore) -> None:
    queued = _add(store, 1, status=CaseStatus.TRIAGING)
    _add(store, 1, status=CaseStatus.AWAITING_APPROVAL)
    _add(store, 1, status=CaseStatus.SCHEDULED)  # when its step may run is in its plan: the sweep's `due` finds it
    _add(store, 1, status=CaseStatus.RESOLVED)
    later = _add(store, 1, status=CaseStatus.WATCHING, wake_at=T0 + timedelta(minutes=5))
    woken = _add(store, 1, status=CaseStatus.AWAITING_REPLY, wake_at=T0 - timedelta(seconds=1))
    failing = _add(store, 1, status=CaseStatus.ACTING)
    with store.transaction() as uow:
        uow.record_attempt(failing[0], 1, T0 + timedelta(seconds=10), "boom", T0)
    assert sorted(_claim(store, "a", 100)) == sorted(queued + woken)
    at = T0 + timedelta(minutes=6)  # the watch is due, the backoff over, the first claims' leases ended
    assert sorted(_claim(store, "b", 100, at=at)) == sorted(queued + woken + later + failing)


def test_racing_claimers_never_take_one_case_twice(store: SqlStore) -> None:
    ids = _add(store, 60)
    claims = race(*[lambda n=n: _claim(store, f"replica-{n}", 7) for n in range(6)])
    taken = [case_id for claim in claims for case_id in claim]
    assert len(taken) == len(set(taken)) == 42
    assert set(taken) <= set(ids)
    rest = _claim(store, "late", 100)
    assert sorted(taken + rest) == sorted(ids)
