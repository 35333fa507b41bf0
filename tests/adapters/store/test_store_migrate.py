from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, event, inspect, text
from store_factories import a_case, a_draft

from actiondesk.adapters.store import SqlStore, current_revision, head_revision, make_engine, migrate, upgrade
from actiondesk.adapters.store.migrate import revision_of
from actiondesk.adapters.store.tables import TABLES
from actiondesk.core.errors import ConfigurationError

EXPECTED_TABLES = {
    "cases",
    "approvals",
    "action_runs",
    "audit_entries",
    "audit_head",
    "state_blobs",
    "deliveries",
    "job_fires",
    "outbox",
    "ticket_links",
}


def test_upgrade_creates_every_table_and_reaches_head(database_url: str) -> None:
    assert current_revision(database_url) is None

    upgrade(database_url)
    upgrade(database_url)  # a second run is a no-op

    assert current_revision(database_url) == head_revision()
    engine = make_engine(database_url)
    try:
        assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    finally:
        engine.dispose()


def test_a_database_at_head_is_not_migrated_again(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    upgrade(database_url)
    ran: list[str] = []
    monkeypatch.setattr(migrate.command, "upgrade", lambda _config, target: ran.append(target))

    upgrade(database_url)  # every start after the first: the revision is read, alembic is not run

    assert ran == []
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0010'"))
    finally:
        engine.dispose()
    upgrade(database_url)  # a database behind head still goes through alembic
    assert ran == ["head"]


def test_migrated_schema_matches_the_table_classes(raw: Engine) -> None:
    metadata = MetaData()
    for table in TABLES:
        table.to_metadata(metadata)
    with raw.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert [d for d in differences if not (d[0] == "remove_table" and d[1].name == "alembic_version")] == []


def test_an_unmigrated_database_is_reported_as_such(database_url: str) -> None:
    engine = make_engine(database_url)
    store = SqlStore(engine)
    try:
        with pytest.raises(ConfigurationError, match="not migrated"):
            store.get_case("case-1")
        with pytest.raises(ConfigurationError, match="not migrated"), store.transaction() as uow:
            uow.add_case(a_case())
        with pytest.raises(ConfigurationError, match="not migrated"), store.transaction() as uow:
            uow.append_audit(a_draft())
        with pytest.raises(ConfigurationError, match="not migrated"):
            store.verify_audit()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url", ["mysql://u@h/db", "sqlite://", "sqlite:///:memory:", "not a url", "postgresql+nosuchdriver://h/db"]
)
def test_make_engine_refuses_what_it_cannot_serve(url: str) -> None:
    with pytest.raises(ConfigurationError):
        make_engine(url)


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    finally:
        engine.dispose()


def test_the_alert_map_blob_becomes_rows_of_alert_cases(database_url: str) -> None:
    """Migration 0006 carries the old JSON blob's mappings over (those whose case exists) and drops the blob."""
    from alembic import command

    from actiondesk.adapters.store.engine import writing
    from actiondesk.adapters.store.migrate import _config

    engine = make_engine(database_url)
    try:
        with writing(engine) as connection:
            command.upgrade(_config(connection), "0005")
        store = SqlStore(engine)
        with engine.begin() as connection:  # a case as revision 0005's table holds it (later columns do not exist)
            connection.execute(
                text(
                    "INSERT INTO cases (id, kind, status, title, text, reporter, surface, thread, steps_taken, tags,"
                    " created_at, updated_at, reopened, llm_calls, tokens, cost_usd, version) VALUES ('C-kept',"
                    " 'incident', 'open', 't', 't', 'jane', 'console', '{}', 0, '[]', CURRENT_TIMESTAMP,"
                    " CURRENT_TIMESTAMP, 0, 0, 0, 0.0, 1)"
                )
            )
        with engine.begin() as connection:  # the blob as revision 0005 stored it (no version column yet)
            connection.execute(
                text("INSERT INTO state_blobs (name, text, updated_at) VALUES ('alert-cases', :t, CURRENT_TIMESTAMP)"),
                {"t": '{"fp-kept": "C-kept", "fp-gone": "C-deleted"}'},
            )
        upgrade(database_url)
        assert store.alert_case("fp-kept") == "C-kept"
        assert store.alert_case("fp-gone") is None
        assert store.get_blob("alert-cases") is None
    finally:
        engine.dispose()


def test_the_revision_is_read_in_one_statement_once_migrated(store: SqlStore) -> None:
    """/readyz reads it at every probe: one statement, not alembic's look for its table in a transaction."""
    engine = store._engine
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert store.schema_revision() == head_revision()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements == ["SELECT version_num FROM alembic_version"]  # before: a BEGIN, its look, then this


def test_an_unreachable_database_is_asked_for_its_revision_once() -> None:
    """The one-statement read failing to connect is not followed by alembic's: /readyz waits for one timeout."""
    engine = make_engine("postgresql+psycopg://actiondesk@127.0.0.1:9/actiondesk?connect_timeout=2")
    attempts: list[object] = []
    event.listen(engine, "do_connect", lambda *args: attempts.append(args))
    try:
        with pytest.raises(ConfigurationError, match="cannot read the database's revision"):
            revision_of(engine)
    finally:
        engine.dispose()
    assert len(attempts) == 1
