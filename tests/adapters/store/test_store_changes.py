"""The ChangeLog port on the store: one row per idempotency key, even under racing resends; audited once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from actiondesk.adapters.store import SqlStore
from actiondesk.core.audit import AuditKind
from actiondesk.core.catalog import ChangeEvent
from actiondesk.core.ports import ChangeLog

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def deploy(change_id: str, at: datetime = NOW, service: str = "payment-gateway", **fields: object) -> ChangeEvent:
    values: dict = {"version": "v2", "previous_version": "v1", "commit": "abc123", "author": "ci", **fields}
    return ChangeEvent(id=change_id, service=service, kind="deploy", at=at, source="api", **values)


def recorded(store: SqlStore) -> list[dict]:
    return [e.payload for e in store.audit() if e.kind is AuditKind.CHANGE_RECORDED]


def test_the_store_is_a_change_log(store: SqlStore) -> None:
    log: ChangeLog = store
    assert log.recorded_changes() == []


def test_a_change_is_stored_with_every_field_and_audited(store: SqlStore) -> None:
    event = ChangeEvent(
        id="c-1",
        service="search",
        kind="scale",
        at=NOW,
        source="api",
        replicas=2,
        previous_replicas=6,
        author="alice",
        url="https://ci.example/run/1",
    )
    stored, created = store.record_change(event, actor="changes-api")
    assert created is True
    assert stored == event
    assert store.recorded_changes() == [event]
    assert store.change("c-1") == event
    assert store.change("c-2") is None
    entries = [e for e in store.audit() if e.kind is AuditKind.CHANGE_RECORDED]
    assert [e.actor for e in entries] == ["changes-api"]
    assert entries[0].payload == {
        "change": "c-1",
        "service": "search",
        "kind": "scale",
        "at": NOW.isoformat(),
        "source": "api",
        "replicas": 2,
        "previous_replicas": 6,
        "author": "alice",
        "url": "https://ci.example/run/1",
    }
    assert store.verify_audit().ok


def test_a_resend_of_a_known_id_is_a_no_op_returning_the_stored_change(store: SqlStore) -> None:
    first, created = store.record_change(deploy("gh-42"))
    assert created is True
    again, created = store.record_change(deploy("gh-42", version="v9", at=NOW + timedelta(hours=1)))
    assert created is False
    assert again == first  # the first report stands; the resend changes nothing
    assert store.recorded_changes() == [first]
    assert len(recorded(store)) == 1


def test_racing_resends_create_one_row_and_one_audit_entry(store: SqlStore) -> None:
    results: list[bool] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def sender() -> None:
        barrier.wait()
        try:
            results.append(store.record_change(deploy("argocd-sync-7"))[1])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [False] * 5 + [True]
    assert len(store.recorded_changes()) == 1
    assert len(recorded(store)) == 1
    assert store.verify_audit().ok


def test_changes_are_listed_oldest_first_by_service_and_window(store: SqlStore) -> None:
    for i in range(5):
        store.record_change(deploy(f"p{i}", at=NOW + timedelta(minutes=i)))
    store.record_change(deploy("s0", at=NOW + timedelta(minutes=2), service="search"))
    assert [c.id for c in store.recorded_changes(service="payment-gateway")] == ["p0", "p1", "p2", "p3", "p4"]
    assert [c.id for c in store.recorded_changes(limit=2)] == ["p3", "p4"]
    window = store.recorded_changes(start=NOW + timedelta(minutes=1), end=NOW + timedelta(minutes=3))
    assert [c.id for c in window] == ["p1", "p2", "s0"]
    assert [c.id for c in store.recorded_changes(service="search")] == ["s0"]


def test_times_come_back_in_utc(store: SqlStore) -> None:
    from zoneinfo import ZoneInfo

    local = NOW.astimezone(ZoneInfo("Europe/Paris"))
    store.record_change(deploy("tz", at=local))
    (back,) = store.recorded_changes()
    assert back.at == NOW
    assert back.at.tzinfo is not None
    assert back.at.utcoffset() == timedelta(0)
