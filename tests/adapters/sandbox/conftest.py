"""Fixtures for the sandbox estate: a simulated clock at the default scenario start and an estate on it."""

from __future__ import annotations

import pytest

from actiondesk.adapters.sandbox import DEFAULT_START, SandboxEstate, default_estate
from actiondesk.core.clock import SimulatedClock


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(DEFAULT_START)


@pytest.fixture
def snapshots() -> list[str]:
    """Every state JSON the estate handed to ``on_change``, in order."""
    return []


@pytest.fixture
def estate(clock: SimulatedClock, snapshots: list[str]) -> SandboxEstate:
    return SandboxEstate(default_estate(DEFAULT_START), clock, on_change=snapshots.append)
