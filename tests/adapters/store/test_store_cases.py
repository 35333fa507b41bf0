from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from store_factories import CEST, T0, a_case, a_draft, a_finding, a_plan, race

from actiondesk.adapters.store import SqlStore
from actiondesk.adapters.store.mapping import case_row
from actiondesk.adapters.store.tables import cases
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus
from actiondesk.core.errors import CaseNotFoundError, ConcurrencyError


def test_a_case_round_trips_with_its_json_fields_and_utc_datetimes(store: SqlStore) -> None:
    case = a_case(
        finding=a_finding(),
        plan=a_plan(),
        thread={"channel": "C1", "ts": "1714.55"},
        tags=("p1", "payments"),
        created_at=T0.astimezone(CEST),
        resolved_at=T0 + timedelta(minutes=5),
        cost_usd=0.0125,
        tokens=12345,
        version=7,
    )

    with store.transaction() as uow:
        added = uow.add_case(case)
        in_transaction = uow.get_case(case.id)

    stored = store.get_case(case.id)
    assert added.version == 1
    assert stored == in_transaction == case.model_copy(update={"version": 1})
    assert stored.finding == a_finding()
    for at in (stored.created_at, stored.updated_at, stored.resolved_at):
        assert at is not None
        assert at.utcoffset() == timedelta(0)
        assert at.tzinfo == UTC
    assert stored.created_at == T0


def test_save_bumps_the_version_and_a_stale_save_is_refused(store: SqlStore) -> None:
    with store.transaction() as uow:
        case = uow.add_case(a_case())
    with store.transaction() as uow:
        triaging = uow.save_case(case.moved(CaseStatus.TRIAGING, T0 + timedelta(seconds=1)))
    assert triaging.version == 2
    assert store.get_case(case.id) == triaging

    with pytest.raises(ConcurrencyError), store.transaction() as uow:
        uow.save_case(case.changed(T0, title="stale writer"))
    assert store.get_case(case.id).title == triaging.title

    with pytest.raises(CaseNotFoundError), store.transaction() as uow:
        uow.save_case(a_case("nope"))


def test_a_duplicate_case_is_refused_and_the_transaction_stays_usable(store: SqlStore) -> None:
    with store.transaction() as uow:
        uow.add_case(a_case())
    with store.transaction() as uow:
        with pytest.raises(ConcurrencyError):
            uow.add_case(a_case())
        uow.add_case(a_case("case-2"))
    assert store.get_case("case-2").id == "case-2"


def test_missing_cases_are_not_found(store: SqlStore) -> None:
    with pytest.raises(CaseNotFoundError):
        store.get_case("nope")
    with pytest.raises(CaseNotFoundError), store.transaction() as uow:
        uow.get_case("nope")


def test_list_cases_newest_first_filtered_and_limited(store: SqlStore) -> None:
    with store.transaction() as uow:
        for n in range(5):
            case = a_case(f"case-{n}", at=T0 + timedelta(minutes=n))
            if n % 2:
                case = case.model_copy(update={"status": CaseStatus.RESOLVED})
            uow.add_case(case)

    assert [c.id for c in store.list_cases()] == ["case-4", "case-3", "case-2", "case-1", "case-0"]
    assert [c.id for c in store.list_cases(frozenset({CaseStatus.RESOLVED}))] == ["case-3", "case-1"]
    assert [c.id for c in store.list_cases(limit=2)] == ["case-4", "case-3"]
    assert store.list_cases(frozenset()) == []


def test_a_failed_transaction_leaves_no_case_change_and_no_audit_entry(store: SqlStore) -> None:
    with store.transaction() as uow:
        case = uow.add_case(a_case())
        uow.append_audit(a_draft(0, case.id))

    def crash_before_commit() -> None:
        with store.transaction() as uow:
            uow.save_case(case.moved(CaseStatus.TRIAGING, T0))
            uow.append_audit(a_draft(1, case.id).model_copy(update={"kind": AuditKind.DECISION}))
            uow.add_case(a_case("case-2"))
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError, match="crash"):
        crash_before_commit()

    assert store.get_case(case.id) == case
    assert [c.id for c in store.list_cases()] == [case.id]
    assert [e.seq for e in store.audit()] == [1]
    report = store.verify_audit()
    assert report.ok
    assert report.checked == 1


def test_readers_do_not_wait_for_an_open_writer(store: SqlStore) -> None:
    with store.transaction() as uow:
        uow.add_case(a_case())
        # the writer holds its lock (SQLite: BEGIN IMMEDIATE); a reader sees the last committed state at once
        assert race(store.list_cases) == [[]]
    assert [c.id for c in store.list_cases()] == ["case-1"]


def test_the_case_row_covers_every_column_of_the_cases_table() -> None:
    """``case_row`` is a plain mapping written by hand: a column added to the table without it would be left NULL
    (or refused) at every insert, so the two must name the same columns."""
    assert set(case_row(a_case(), version=1)) == set(cases.c.keys())
