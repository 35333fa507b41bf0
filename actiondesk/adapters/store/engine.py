"""Building the one engine a process uses, and the two kinds of connection the store opens from it.

SQLite runs in WAL mode with foreign keys on and a busy timeout. pysqlite's own transaction handling is
switched off (``isolation_level = None``) so that SQLAlchemy's ``begin`` event can emit the BEGIN itself:
``BEGIN IMMEDIATE`` for writers, which takes the write lock up front so concurrent writers queue on the
busy timeout instead of failing with SQLITE_BUSY when a read lock cannot be upgraded; plain (deferred)
``BEGIN`` for readers, which in WAL mode never block and read one consistent snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from sqlite3 import Connection as SQLiteConnection

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import ConnectionPoolEntry

from actiondesk.core.errors import ConfigurationError

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
READ_ONLY = "actiondesk_read_only"  # execution option: this connection only reads


def make_engine(url: str | URL) -> Engine:
    """An engine for ``sqlite:///PATH`` or ``postgresql+psycopg://...``, safe to share across threads."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigurationError(f"invalid database URL: {exc}") from exc
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        if backend in {"postgresql", "postgres"}:
            if parsed.drivername in {"postgresql", "postgres"}:
                parsed = parsed.set(drivername="postgresql+psycopg")
            return create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigurationError(f"cannot use database URL {parsed!r}: {exc}") from exc
    raise ConfigurationError(f"unsupported database {backend!r}: use sqlite:///PATH or postgresql+psycopg://")


SYNCHRONOUS = ("full", "normal")


def _sqlite_engine(url: URL) -> Engine:
    if url.database in {None, "", ":memory:"} or url.query.get("mode") == "memory":
        raise ConfigurationError("an in-memory SQLite database cannot be shared by threads: give a file path")
    synchronous = str(url.query.get("synchronous", "full")).lower()
    if synchronous not in SYNCHRONOUS:
        raise ConfigurationError(f"?synchronous={synchronous}: SQLite's synchronous must be full or normal")
    url = url.difference_update_query(["synchronous"])
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", partial(_sqlite_connect, synchronous=synchronous.upper()))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: SQLiteConnection, _record: ConnectionPoolEntry, *, synchronous: str) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, in _sqlite_begin
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # FULL by default: a commit that recorded an action run must survive a power cut. NORMAL (asked for with
        # ?synchronous=normal) survives a crashed process but may lose the last commits to a power cut or OS crash.
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: commit on success, roll back on any exception."""
    with engine.begin() as connection:
        yield connection


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """One read-only transaction over a consistent snapshot."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            connection.execution_options(**{READ_ONLY: True})
        with connection.begin():
            yield connection
