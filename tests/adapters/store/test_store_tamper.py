"""Tampering reaches around the store, as an attacker with write access to the database would."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from store_factories import append_many, tamper

from actiondesk.adapters.store import SqlStore, make_engine, upgrade

COUNT = 10


@pytest.fixture
def chain(store: SqlStore) -> SqlStore:
    append_many(store, COUNT, "case-1")
    assert store.verify_audit().ok
    return store


@pytest.mark.parametrize("k", [1, 4, COUNT])
def test_an_edited_payload_is_named(chain: SqlStore, raw: Engine, k: int) -> None:
    with raw.connect() as connection:
        payload = connection.execute(text(f"SELECT payload FROM audit_entries WHERE seq = {k}")).scalar_one()
    edited = payload.replace(f'"n":{k - 1}', f'"n":{k + 100}')
    assert edited != payload
    tamper(raw, "UPDATE audit_entries SET payload = :payload WHERE seq = :k", payload=edited, k=k)

    report = chain.verify_audit()
    assert not report.ok
    assert report.first_bad_seq == k


def test_an_invalid_json_payload_is_named(chain: SqlStore, raw: Engine) -> None:
    tamper(raw, "UPDATE audit_entries SET payload = substr(payload, 2) WHERE seq = 3")

    report = chain.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 3)


@pytest.mark.parametrize("k", [1, 4])
def test_a_deleted_entry_is_named(chain: SqlStore, raw: Engine, k: int) -> None:
    tamper(raw, f"DELETE FROM audit_entries WHERE seq = {k}")

    report = chain.verify_audit()
    assert not report.ok
    assert report.first_bad_seq == k


def test_swapped_entries_are_detected(chain: SqlStore, raw: Engine) -> None:
    tamper(
        raw,
        "UPDATE audit_entries SET seq = -1 WHERE seq = 3",
        "UPDATE audit_entries SET seq = 3 WHERE seq = 6",
        "UPDATE audit_entries SET seq = 6 WHERE seq = -1",
    )

    report = chain.verify_audit()
    assert not report.ok
    assert report.first_bad_seq == 3


@pytest.mark.parametrize("n", [1, 3])
def test_a_truncated_tail_is_caught_against_the_head(chain: SqlStore, raw: Engine, n: int) -> None:
    tamper(raw, f"DELETE FROM audit_entries WHERE seq > {COUNT - n}")

    report = chain.verify_audit()
    assert not report.ok
    assert report.first_bad_seq == COUNT - n + 1


@pytest.fixture
def postgres_store(postgres_url: str) -> Iterator[tuple[SqlStore, Engine]]:
    upgrade(postgres_url)
    engine = make_engine(postgres_url)
    store = SqlStore(engine)
    append_many(store, 3)
    yield store, engine
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_entries WHERE seq = 3",
        "TRUNCATE audit_entries",
    ],
)
def test_postgres_audit_entries_are_append_only(postgres_store: tuple[SqlStore, Engine], statement: str) -> None:
    store, engine = postgres_store
    with pytest.raises(DBAPIError, match="audit_entries is append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    assert store.verify_audit().ok


@pytest.mark.postgres
def test_postgres_audit_head_may_only_be_updated(postgres_store: tuple[SqlStore, Engine]) -> None:
    store, engine = postgres_store
    with pytest.raises(DBAPIError, match="audit_head may only be updated"), engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_head"))
    with engine.begin() as connection:  # updating is how appends move the head; verify catches a forged one
        connection.execute(text("UPDATE audit_head SET hash = repeat('f', 64)"))
    report = store.verify_audit()
    assert not report.ok
    assert report.first_bad_seq == 3


def test_edited_metadata_is_named(chain: SqlStore, raw: Engine) -> None:
    if raw.dialect.name == "postgresql":
        moved = "UPDATE audit_entries SET at = at + interval '1 microsecond' WHERE seq = 7"
    else:
        moved = "UPDATE audit_entries SET at = 'not a time' WHERE seq = 7"
    tamper(raw, "UPDATE audit_entries SET actor = 'mallory' WHERE seq = 5")
    assert chain.verify_audit().first_bad_seq == 5

    tamper(raw, "UPDATE audit_entries SET actor = 'jane' WHERE seq = 5", moved)
    report = chain.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 7)


def test_an_entry_moved_to_another_case_seen_before_is_named(store: SqlStore, raw: Engine) -> None:
    """Verify remembers how each (actor, case, kind) it met is spelled; an entry edited into a combination met
    earlier in the chain is still hashed with its edited values."""
    for n in range(6):
        append_many(store, 1, f"case-{n % 2}")
    assert store.verify_audit().ok
    tamper(raw, "UPDATE audit_entries SET case_id = 'case-0' WHERE seq = 4")

    report = store.verify_audit()
    assert (report.ok, report.first_bad_seq, report.checked) == (False, 4, 3)


def test_a_time_moved_by_a_microsecond_is_named(chain: SqlStore, raw: Engine) -> None:
    with raw.connect() as connection:
        stored = connection.execute(text("SELECT CAST(at AS TEXT) FROM audit_entries WHERE seq = 2")).scalar_one()
    if raw.dialect.name == "postgresql":
        tamper(raw, "UPDATE audit_entries SET at = at - interval '1 microsecond' WHERE seq = 2")
    else:  # the same spelling, one microsecond earlier
        assert stored.endswith("123456")
        tamper(raw, "UPDATE audit_entries SET at = :at WHERE seq = 2", at=stored[:-6] + "123455")

    report = chain.verify_audit()
    assert (report.ok, report.first_bad_seq) == (False, 2)
