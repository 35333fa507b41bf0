from __future__ import annotations

from datetime import timedelta

import pytest
from store_factories import T0, a_case

from actiondesk.adapters.store import SqlStore
from actiondesk.core.case import CaseStatus
from actiondesk.core.errors import CaseNotFoundError

LEASE = 30.0


def test_a_lease_is_held_renewed_and_stolen_only_after_it_expires(store: SqlStore) -> None:
    with store.transaction() as uow:
        case = uow.add_case(a_case())

    assert store.claim_lease(case.id, "replica-a", T0, LEASE)
    assert not store.claim_lease(case.id, "replica-b", T0 + timedelta(seconds=10), LEASE)
    assert store.claim_lease(case.id, "replica-a", T0 + timedelta(seconds=20), LEASE)  # renewed to T0+50s
    assert not store.claim_lease(case.id, "replica-b", T0 + timedelta(seconds=40), LEASE)

    assert store.claim_lease(case.id, "replica-b", T0 + timedelta(seconds=51), LEASE)
    assert not store.claim_lease(case.id, "replica-a", T0 + timedelta(seconds=52), LEASE)

    # leases do not touch the case's version: the holder's copy stays current
    with store.transaction() as uow:
        assert uow.save_case(case.moved(CaseStatus.TRIAGING, T0)).version == 2


def test_only_the_owner_releases_a_lease(store: SqlStore) -> None:
    with store.transaction() as uow:
        uow.add_case(a_case())
    assert store.claim_lease("case-1", "replica-a", T0, LEASE)

    store.release_lease("case-1", "replica-b")
    assert not store.claim_lease("case-1", "replica-b", T0, LEASE)

    store.release_lease("case-1", "replica-a")
    assert store.claim_lease("case-1", "replica-b", T0, LEASE)


def test_a_lease_on_a_missing_case(store: SqlStore) -> None:
    with pytest.raises(CaseNotFoundError):
        store.claim_lease("nope", "replica-a", T0, LEASE)


def test_blobs_are_upserted(store: SqlStore) -> None:
    assert store.get_blob("sandbox") is None

    store.put_blob("sandbox", '{"services": 4}')
    store.put_blob("other", "x")
    store.put_blob("sandbox", '{"services": 5, "name": "zürich ✓"}')

    assert store.get_blob("sandbox") == '{"services": 5, "name": "zürich ✓"}'
    assert store.get_blob("other") == "x"
