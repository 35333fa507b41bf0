from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.core.errors import ConfigurationError

# PRAGMA synchronous answers 2 for FULL, 1 for NORMAL.


def _synchronous(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(text("PRAGMA synchronous")).scalar_one())
    finally:
        engine.dispose()


def test_sqlite_is_fully_synchronous_by_default(tmp_path: Path):
    assert _synchronous(f"sqlite:///{tmp_path / 'a.db'}") == 2


def test_normal_synchronous_can_be_asked_for_and_the_store_works(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'a.db'}?synchronous=normal"
    assert _synchronous(url) == 1
    upgrade(url)
    engine = make_engine(url)
    try:
        assert SqlStore(engine).verify_audit().ok
    finally:
        engine.dispose()


def test_an_unknown_synchronous_mode_is_a_configuration_error(tmp_path: Path):
    with pytest.raises(ConfigurationError, match="synchronous must be full or normal"):
        make_engine(f"sqlite:///{tmp_path / 'a.db'}?synchronous=off")
