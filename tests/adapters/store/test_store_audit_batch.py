"""A write transaction keeps the chain's head in memory: one INSERT per entry, the head row written once at the
commit. The chain verifies across transactions of any size; a rolled-back one leaves entries and head alone;
racing transactions still form one chain."""

from __future__ import annotations

import pytest
from store_factories import a_draft, append_many, race

from actiondesk.adapters.store import SqlStore


def test_batches_of_any_size_form_one_chain_and_the_head_follows_the_last_entry(store: SqlStore) -> None:
    written = [e for size in (1, 7, 1, 50, 3) for e in append_many(store, size, f"case-{size}")]
    assert [e.seq for e in written] == list(range(1, 63))
    assert store.audit_head() == (62, written[-1].hash)
    assert list(store.audit()) == written  # what append returned is what was stored
    report = store.verify_audit()
    assert report.ok
    assert report.checked == 62


def test_a_rolled_back_batch_leaves_entries_and_head_as_they_were(store: SqlStore) -> None:
    append_many(store, 3)
    head = store.audit_head()

    def failing_step() -> None:
        with store.transaction() as uow:
            for n in range(5):
                uow.append_audit(a_draft(n))
            raise RuntimeError("the step failed after writing its entries")

    with pytest.raises(RuntimeError, match="failed after writing"):
        failing_step()
    assert store.audit_head() == head
    assert len(list(store.audit())) == 3
    assert append_many(store, 1)[0].seq == 4
    assert store.verify_audit().ok


def test_racing_batches_interleave_into_one_chain(store: SqlStore) -> None:
    batches = race(*[lambda n=n: append_many(store, 20, f"case-{n}") for n in range(4)])
    seqs = sorted(e.seq for batch in batches for e in batch)
    assert seqs == list(range(1, 81))
    for batch in batches:  # each transaction's entries are consecutive: the head was held throughout
        assert [e.seq for e in batch] == list(range(batch[0].seq, batch[0].seq + 20))
    assert store.verify_audit().ok
