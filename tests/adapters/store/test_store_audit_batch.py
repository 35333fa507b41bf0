"""A write transaction keeps the chain's head in memory: one INSERT per entry, the head row written once at the
commit. The chain verifies across transactions of any size; a rolled-back one leaves entries and head alone;
racing transactions still form one chain."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from store_factories import a_draft, append_many, race

from actiondesk.adapters.store import SqlStore, make_engine, upgrade


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


def test_a_steps_entries_cost_one_head_read_one_executemany_and_one_head_write(database_url: str) -> None:
    """The append path's statements, counted at the driver: however many entries a step writes, the audit adds
    three statements to its transaction (the BEGIN and COMMIT are the transaction's own)."""
    upgrade(database_url)
    engine = make_engine(database_url)
    sent: list[tuple[str, bool]] = []

    def count(_conn: object, _cursor: object, statement: str, _params: object, _context: object, many: bool) -> None:
        sent.append((statement.split()[0].upper(), many))

    event.listen(engine, "before_cursor_execute", count)
    try:
        store = SqlStore(engine)
        for size in (1, 4, 25):
            sent.clear()
            written = append_many(store, size, f"case-{size}")
            assert [verb for verb, _ in sent if verb not in {"BEGIN"}] == ["SELECT", "INSERT", "UPDATE"]
            assert ("INSERT", size > 1) in sent  # the step's rows in one executemany
            assert store.audit_head() == (written[-1].seq, written[-1].hash)
        assert store.verify_audit().checked == 30
    finally:
        engine.dispose()


def test_the_returned_entry_owns_its_payload_and_holds_it_redacted(store: SqlStore) -> None:
    items = ["a"]
    with store.transaction() as uow:
        entry = uow.append_audit(a_draft(1, "case-1", items=items, note="password=hunter2"))
    items.append("b")  # the caller's payload changing afterwards changes neither the entry nor what is stored
    assert entry.payload["items"] == ["a"]
    assert entry.payload["note"] == "password=[REDACTED]"
    assert list(store.audit()) == [entry]
