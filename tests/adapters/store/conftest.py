"""Fixtures for the store tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from actiondesk.adapters.store import SqlStore, make_engine


@pytest.fixture
def raw(store: SqlStore, database_url: str) -> Iterator[Engine]:
    """A second engine on the store's database, for reaching around the store (tampering, inspection)."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()
