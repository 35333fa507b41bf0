from __future__ import annotations

import functools
import itertools
from datetime import UTC

import pytest
from sqlalchemy import Engine, select
from store_factories import CEST, T0, a_draft, append_many, race

from actiondesk.adapters.store import SqlStore, ledger
from actiondesk.adapters.store.tables import audit_entries, audit_head
from actiondesk.core.audit import GENESIS

SLACK_TOKEN = "xoxb-1234567890-abcdef"


def test_appended_entries_form_a_chain_that_verifies(store: SqlStore) -> None:
    entries = append_many(store, 5, "case-1")

    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert list(store.audit()) == entries
    report = store.verify_audit()
    assert report.ok
    assert report.checked == 5
    assert report.head_hash == entries[-1].hash


def test_an_empty_chain_verifies(store: SqlStore) -> None:
    report = store.verify_audit()
    assert report.ok
    assert report.checked == 0


def test_audit_filters_by_case_and_resumes_after_a_seq(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ledger, "BATCH", 3)  # make the reader page several times
    with store.transaction() as uow:
        for n in range(10):
            uow.append_audit(a_draft(n, "even" if n % 2 == 0 else "odd"))

    assert [e.seq for e in store.audit()] == list(range(1, 11))
    assert [e.seq for e in store.audit(after_seq=7)] == [8, 9, 10]
    assert [e.seq for e in store.audit(case_id="odd")] == [2, 4, 6, 8, 10]
    assert [e.seq for e in store.audit(case_id="odd", after_seq=4)] == [6, 8, 10]


def test_times_are_hashed_and_returned_in_utc(store: SqlStore) -> None:
    draft = a_draft(0).model_copy(update={"at": T0.astimezone(CEST)})
    with store.transaction() as uow:
        entry = uow.append_audit(draft)

    (stored,) = store.audit()
    assert stored == entry
    assert stored.at == T0
    assert stored.at.tzinfo == UTC
    assert store.verify_audit().ok


def test_secrets_are_redacted_before_they_are_written(store: SqlStore, raw: Engine) -> None:
    with store.transaction() as uow:
        entry = uow.append_audit(a_draft(0, note=f"use {SLACK_TOKEN} to post", password="hunter2"))

    with raw.connect() as connection:
        written = connection.execute(select(audit_entries.c.payload)).scalar_one()
    assert SLACK_TOKEN not in written
    assert "hunter2" not in written
    assert entry.payload["note"] == "use [REDACTED] to post"
    assert next(iter(store.audit())).payload == {"n": 0, "note": "use [REDACTED] to post", "password": "[REDACTED]"}
    assert store.verify_audit().ok


def test_concurrent_appenders_build_one_linear_chain(store: SqlStore, raw: Engine) -> None:
    threads, each = 3, 200

    def appender(worker: int) -> list[int]:
        seqs = []
        for n in range(each):
            with store.transaction() as uow:
                seqs.append(uow.append_audit(a_draft(n, f"case-{worker}")).seq)
        return seqs

    results = race(*(functools.partial(appender, worker) for worker in range(threads)))

    assert sorted(seq for seqs in results for seq in seqs) == list(range(1, threads * each + 1))
    report = store.verify_audit()
    assert report.ok
    assert report.checked == threads * each
    with raw.connect() as connection:
        assert connection.execute(select(audit_head.c.seq)).scalar_one() == threads * each
