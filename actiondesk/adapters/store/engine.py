"""Building the one engine a process uses, and the two kinds of connection the store opens from it.

SQLite runs in WAL mode with foreign keys on and a busy timeout. pysqlite's own transaction handling is
switched off (``isolation_level = None``) so that SQLAlchemy's ``begin`` event can emit the BEGIN itself:
``BEGIN IMMEDIATE`` for writers, which takes the write lock up front so concurrent writers queue on the
busy timeout instead of failing with SQLITE_BUSY when a read lock cannot be upgraded; plain (deferred)
``BEGIN`` for readers, which in WAL mode never block and read one consistent snapshot.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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
ONE_STATEMENT = "actiondesk_one_statement"  # execution option: this connection reads once, with no BEGIN (reading_once)


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
    options = connection.get_execution_options()
    if options.get(ONE_STATEMENT):
        return  # the statement runs in SQLite's own implicit transaction (reading_once)
    if options.get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class WriteGate:
    """SQLite's one write lock, queued for in this process: a waiting writer is handed the lock in turn instead
    of polling for it on the busy timeout (SQLite's busy handler sleeps and retries, so under a burst an unlucky
    writer can starve past the timeout and fail). Background writers go after every waiting request's writer, so
    an approval click never queues behind a burst of case steps. They are the threads of the case and jobs pools
    (``background_writer``) and work done in a background context (``background_work``: a chat event's handling
    after its ack, whose calls to threads carry the context with them). Re-entrant on one thread, which then meets
    SQLite's own lock as before.

    In turn means first come, first served within each kind: the writer that lets go hands the lock to the
    longest-waiting request writer (else background writer) and wakes that one thread only. A writer that comes
    while others wait queues behind them, so under a burst no request is passed over again and again (and the
    others are not all woken to race for it)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._urgent: deque[tuple[int, threading.Lock]] = deque()  # request writers waiting, oldest first
        self._later: deque[tuple[int, threading.Lock]] = deque()  # background writers waiting, oldest first

    @property
    def waiting(self) -> int:
        """Writers waiting, of either kind."""
        return len(self._urgent) + len(self._later)

    @contextmanager
    def held(self) -> Iterator[None]:
        me = threading.get_ident()
        with self._lock:
            if self._owner is None:
                self._owner = me
            turn = None
            if self._owner != me:
                turn = threading.Lock()
                turn.acquire()
                background = getattr(_thread_role, "background", False) or _background.get()
                (self._later if background else self._urgent).append((me, turn))
        if turn is not None:
            self._wait(me, turn)
        self._depth += 1
        try:
            yield
        finally:
            with self._lock:
                self._depth -= 1
                if self._depth == 0:
                    self._hand_on()

    def _wait(self, me: int, turn: threading.Lock) -> None:
        """Until the writer before hands this one the lock; interrupted (a signal's exception on the main
        thread), it leaves the queue, or hands the lock on if it was handed it meanwhile."""
        try:
            turn.acquire()
        except BaseException:
            with self._lock:
                for queue in (self._urgent, self._later):
                    if (me, turn) in queue:
                        queue.remove((me, turn))
                        break
                else:
                    self._hand_on()
            raise

    def _hand_on(self) -> None:
        """The owner lets go (with ``_lock`` held): to the longest-waiting request writer, else background one."""
        queue = self._urgent or self._later
        if queue:
            self._owner, turn = queue.popleft()
            turn.release()
        else:
            self._owner = None


_thread_role = threading.local()
_background: ContextVar[bool] = ContextVar("actiondesk_background_writes", default=False)
_gates: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()
_gates_lock = threading.Lock()


def background_writer() -> None:
    """Mark the calling thread as background work: its SQLite writes yield to waiting requests' writes.

    A thread pool's ``initializer`` (the case and jobs pools)."""
    _thread_role.background = True


def background_work() -> None:
    """Mark the current context as background work: its SQLite writes, here and in the threads it hands calls to
    (``asyncio.to_thread`` copies the context), yield to waiting requests' writes. Call it at the start of a task
    of its own: the task's context is its own copy."""
    _background.set(True)


def write_gate(engine: Engine) -> WriteGate:
    """The process's gate for writes to this SQLite engine's database."""
    with _gates_lock:
        gate = _gates.get(engine)
        if gate is None:
            gate = _gates[engine] = WriteGate()
        return gate


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: commit on success, roll back on any exception."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with write_gate(engine).held(), engine.begin() as connection:
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


@contextmanager
def reading_once(engine: Engine) -> Iterator[Connection]:
    """One read statement in the database's own implicit transaction: no BEGIN and COMMIT around it. A single
    statement reads one consistent snapshot anyway. For the reads made at every request (a credential's row) that
    is two statements fewer: on SQLite two calls into the driver, each giving up the interpreter lock and waiting to
    take it back; on PostgreSQL two round trips. More than one statement, or a write, takes ``reading`` or
    ``writing``."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        else:
            connection.execution_options(**{ONE_STATEMENT: True})
        yield connection
