"""The reads made at every request or case run, in one statement with no transaction around it (reading_once): a
credential's row, a case's failed-attempt count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, insert, select
from store_factories import T0, a_case

from actiondesk.adapters.store import SqlStore
from actiondesk.adapters.store.engine import reading, writing
from actiondesk.adapters.store.tables import api_tokens
from actiondesk.core.access import ApiToken, Scope, Via, WebSession


def a_token(token_id: str = "tok1") -> ApiToken:
    return ApiToken(
        id=token_id, person="bob", scopes=frozenset({Scope.CASES_READ}), secret_hash="h" * 64, created_at=T0
    )


def a_session() -> WebSession:
    return WebSession(
        id_hash="s" * 64, person="bob", email=None, via=Via.DEMO, created_at=T0, expires_at=T0 + timedelta(hours=8)
    )


@contextmanager
def statements(store: SqlStore) -> Iterator[list[tuple[str, bool]]]:
    """Each statement sent, with whether it went out with no transaction around it."""
    engine = store._engine
    postgres = engine.dialect.name == "postgresql"
    seen: list[tuple[str, bool]] = []

    def before(connection: Any, _cursor: object, statement: str, *_: object) -> None:
        dbapi = connection.connection.dbapi_connection
        # PostgreSQL: no BEGIN or COMMIT goes out when the driver autocommits; SQLite: none was issued before this
        seen.append((statement.split()[0], dbapi.autocommit if postgres else not dbapi.in_transaction))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def test_a_credential_is_read_in_one_statement_with_no_transaction_around_it(store: SqlStore) -> None:
    store.access.add_token(a_token())
    store.access.add_session(a_session())
    with statements(store) as seen:
        token = store.access.token("tok1")
        session = store.access.session("s" * 64, T0 + timedelta(hours=1))
    assert token == a_token()
    assert session == a_session()
    assert seen == [("SELECT", True), ("SELECT", True)]  # the code before: a BEGIN, then each SELECT in it


def test_a_case_failed_attempts_are_read_in_one_statement(store: SqlStore) -> None:
    """Every case run that gets through asks (agents/retries.py) before it clears anything."""
    with store.transaction() as uow:
        case = uow.add_case(a_case())
    with statements(store) as seen:
        assert store.failed_attempts(case.id) == 0
    with store.transaction() as uow:
        uow.record_attempt(case.id, 2, T0 + timedelta(minutes=1), "boom", T0)
    with statements(store) as again:
        assert store.failed_attempts(case.id) == 2
    assert seen == again == [("SELECT", True)]


def test_what_a_credential_read_sees_and_what_it_leaves_behind(store: SqlStore) -> None:
    """It reads what was committed, not what a transaction still open holds; and the pooled connection it used
    takes transactions as before (a failed write is rolled back whole)."""
    engine = store._engine
    store.access.add_token(a_token())
    assert store.access.session("s" * 64, T0 + timedelta(hours=9)) is None  # expired (and unknown)
    assert store.access.token("nope") is None
    assert store.access.token("tok1") is not None  # and its connection goes back to the pool for the write below

    def failing_write() -> None:
        with writing(engine) as connection:
            values = a_token("tok2").model_dump(mode="python") | {"scopes": '["cases:read"]'}
            connection.execute(insert(api_tokens).values(**values))
            assert store.access.token("tok2") is None  # not committed yet: another connection does not see it
            raise RuntimeError("the write fails after its insert")

    with pytest.raises(RuntimeError):
        failing_write()
    with reading(engine) as connection:
        assert connection.execute(select(api_tokens.c.id)).scalars().all() == ["tok1"]
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            assert connection.connection.dbapi_connection.isolation_level is None  # BEGIN is still ours to emit
