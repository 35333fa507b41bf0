"""The project's own fixture files (tests/data/, written from the documented shapes of each API) and, when a
checkout has them beside it, the shared captured fixtures (../shared/fixtures) as an extra cross-check.

A test reads ``own(...)``; a cross-check over both uses ``sources(...)``, whose shared entry is only collected
when the shared folder is there, so a clone runs every test on its own files and skips none for a missing one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parent / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def own(relative: str) -> Path:
    """A file of tests/data/; a missing one is an error of the test suite, never a skip."""
    path = DATA / relative
    if not path.is_file():
        raise FileNotFoundError(f"tests/data/{relative} is missing from the repository")
    return path


def shared(relative: str) -> Path | None:
    """A file of ../shared/fixtures, or None in a checkout without it."""
    path = SHARED / relative
    return path if path.exists() else None


def load(path: Path) -> Any:
    text = path.read_text()
    return json.loads(text) if path.suffix == ".json" else text


def sources(own_relative: str, shared_relative: str) -> list[Any]:
    """pytest params: our own file (id ``own``) and, when present, the shared one (id ``shared``)."""
    params = [pytest.param(own(own_relative), id="own")]
    found = shared(shared_relative)
    if found is not None:
        params.append(pytest.param(found, id="shared"))
    return params
