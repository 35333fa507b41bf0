"""Shared fixtures: a fresh database per test on SQLite and PostgreSQL, and a migrated SqlStore on it.

PostgreSQL comes from ACTIONDESK_TEST_POSTGRES_URL; each test gets its own schema. When the server is
unreachable those tests are skipped, unless ACTIONDESK_REQUIRE_POSTGRES=1 (CI), which fails them. The tests' sessions
commit with ``synchronous_commit=off``: a commit returns before the server has flushed its WAL to disk. Only a crash
of the PostgreSQL server itself could lose such a commit, and no test crashes it (the replica test kills ActionDesk
processes, never the server); what the tests check is unchanged, without a wait on the disk at every commit.

Every test also runs (autouse, below) with the developer's ActionDesk, OpenAI, ServiceNow, JSM, Slack and Teams
variables cleared from the environment, and with outbound connections confined to loopback: a connection (or a
name lookup) for any other address fails the test, whichever thread made it.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from isolation import clean_environment, guard
from livesystems import LiveLdap, LiveScim, start_scim, start_slapd, stop
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.bot.wiring.logs import INSTALLED

T = TypeVar("T")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> URL:
    return make_url(os.environ.get("ACTIONDESK_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL))


@pytest.fixture(scope="session")
def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None. Checked once per session."""
    engine = create_engine(_postgres_url(), poolclass=NullPool, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        return f"PostgreSQL at {_postgres_url()!r} is unreachable: {exc.orig}"
    finally:
        engine.dispose()
    return None


@pytest.fixture
def postgres_url(postgres_problem: str | None) -> Iterator[str]:
    """A URL for a fresh, empty schema of its own (dropped afterwards) on the test PostgreSQL server."""
    if postgres_problem is not None:
        if os.environ.get("ACTIONDESK_REQUIRE_POSTGRES") == "1":
            pytest.fail(postgres_problem)
        pytest.skip(postgres_problem)
    schema = f"t_{secrets.token_hex(6)}"
    admin = create_engine(_postgres_url(), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        # the schema's name as the connections' application_name too, so the teardown can find them
        options = f"-csearch_path={schema} -csynchronous_commit=off"
        url = _postgres_url().update_query_dict({"options": options, "application_name": schema})
        yield url.render_as_string(hide_password=False)
        _drop_schema(admin, schema)
    finally:
        admin.dispose()


def _drop_schema(admin: Engine, schema: str) -> None:
    """Drop a test's schema. A server the test started may still be finishing a write on it (a worker thread, a
    replica being stopped): its connections are ended first, so the drop neither waits on nor deadlocks with them."""
    for attempt in range(3):
        with admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE application_name = :name AND pid <> pg_backend_pid()"
                ),
                {"name": schema},
            )
            connection.execute(text("SET lock_timeout = '10s'"))
            try:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                return
            except DBAPIError:
                if attempt == 2:
                    raise


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database: a SQLite file in tmp_path, or a PostgreSQL schema of its own."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'actiondesk.db'}"


@pytest.fixture
def store(database_url: str) -> Iterator[SqlStore]:
    """A SqlStore on a freshly migrated database."""
    upgrade(database_url)
    engine = make_engine(database_url)
    yield SqlStore(engine)
    engine.dispose()


def _required_or_skipped(variable: str, reason: str) -> None:
    if os.environ.get(variable) == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _live(start: Callable[[Path], T], home: Path, variable: str, stop_it: Callable[[T], None]) -> Iterator[T]:
    """Start a real server once per session; skip without it, or fail when ``variable`` is 1 (CI)."""
    try:
        server = start(home)
    except FileNotFoundError as exc:
        _required_or_skipped(variable, str(exc))
    try:
        yield server
    finally:
        stop_it(server)


@pytest.fixture(scope="session")
def live_ldap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveLdap]:
    """A real OpenLDAP (slapd), once per session; skipped without it unless ACTIONDESK_REQUIRE_SLAPD=1."""
    yield from _live(start_slapd, tmp_path_factory.mktemp("slapd"), "ACTIONDESK_REQUIRE_SLAPD", lambda s: stop(s.proc))


@pytest.fixture(scope="session")
def live_scim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveScim]:
    """A real scim2-server, once per session; skipped without it unless ACTIONDESK_REQUIRE_SCIM=1."""
    yield from _live(start_scim, tmp_path_factory.mktemp("scim"), "ACTIONDESK_REQUIRE_SCIM", lambda s: stop(s.proc))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``long`` come first: run on several workers (``make test``), a test of minutes started last
    would keep one worker busy after the others have finished."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's exported OPENAI_API_KEY or SLACK_BOT_TOKEN must not change what a test sees."""
    clean_environment(monkeypatch)


@pytest.fixture(autouse=True)
def _command_log_handlers_removed() -> Iterator[None]:
    """A command run in-process (typer's CliRunner) installs its log handler on the root logger, writing to the
    runner's stream, which is closed when the command returns: handlers a test's commands installed are removed
    after it (pytest's own capture handlers are left to pytest), so a later test's threads do not log into a
    closed stream."""
    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in before and getattr(handler, INSTALLED, False):
            root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Outbound connections other than loopback fail the test (isolation.guard); yields what was attempted."""
    yield from guard(monkeypatch)
