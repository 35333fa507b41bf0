"""Translating database errors that mean something into ActionDesk's error tree."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import DBAPIError

from actiondesk.core.errors import ActionDeskError, ConcurrencyError, ConfigurationError

NOT_MIGRATED = "database is not migrated: run `actiondesk db upgrade`"

# PostgreSQL SQLSTATEs
_UNDEFINED = {"42P01", "42703"}  # undefined_table, undefined_column
_CONTENTION = {"40001", "40P01", "55P03"}  # serialization_failure, deadlock_detected, lock_not_available
FOREIGN_KEY_VIOLATION = "23503"
UNIQUE_VIOLATION = "23505"


def sqlstate(exc: DBAPIError) -> str | None:
    """The SQLSTATE of a psycopg error, or a SQLite error spelled as the matching SQLSTATE."""
    code = getattr(exc.orig, "sqlstate", None)
    if isinstance(code, str):
        return code
    message = str(exc.orig)
    if message.startswith("FOREIGN KEY constraint failed"):
        return FOREIGN_KEY_VIOLATION
    if message.startswith("UNIQUE constraint failed"):
        return UNIQUE_VIOLATION
    return None


def translate(exc: DBAPIError) -> ActionDeskError | None:
    """The ActionDesk error ``exc`` stands for, or None when it is truly unexpected."""
    code = sqlstate(exc)
    message = str(exc.orig).lower()
    if code in _UNDEFINED or any(s in message for s in ("no such table", "no such column", "has no column")):
        return ConfigurationError(NOT_MIGRATED)
    if code in _CONTENTION or "database is locked" in message or "database is busy" in message:
        return ConcurrencyError(f"the database is busy, try again: {exc.orig}")
    return None


@contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        error = translate(exc)
        if error is None:
            raise
        raise error from exc
