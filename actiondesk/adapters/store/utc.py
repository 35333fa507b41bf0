"""Timezone-aware UTC datetimes in a column, on every backend.

SQLite has no timestamp type and drops tzinfo, so values are written there as naive UTC (one spelling,
so text comparison orders them correctly) and made aware again on read. PostgreSQL stores
``timestamptz`` and hands back the session's zone, normalised here to UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def as_utc(at: datetime) -> datetime:
    """``at`` in UTC; a naive value is taken to be UTC already (as ``core.audit.timestamp`` does)."""
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = as_utc(value)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return as_utc(value)
