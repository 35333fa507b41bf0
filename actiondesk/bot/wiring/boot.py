"""Start-up of a long-running server: the sandbox estate already in trouble, persisted across restarts."""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from datetime import timedelta

from actiondesk.adapters.sandbox import EstateState, SandboxEstate, Scenario, load_scenario, parse_scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.adapters.store.blobs import LockedBlob
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.ports import Clock
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)

ESTATE_BLOB = "sandbox-estate"

# The world `serve` starts in when no scenario file is named: one of each thing to try (the README lists them).
# - payment-gateway's latest deploy raised its 5xx rate (checkout, which calls it, fails too);
# - search's latest deploy is CPU-heavy: search is slow;
# - frank's VPN session is locked;
# - worker-1's log volume is full.
DEFAULT_WORLD = """
name: serve-default
events:
  - {at: 0, deploy: {service: payment-gateway, version: v2.5.0, commit: 9f3c2ab, author: dana}}
  - {at: 10, deploy: {service: search, version: v1.9.0, commit: 3b7e1c4, author: bob}}
  - {at: 30, fault: {service: search, kind: cpu_saturation, value: 60}}
  - {at: 40, fault: {kind: account_locked, user: frank}}
  - {at: 50, fault: {kind: disk_full, host: worker-1}}
  - {at: 60, fault: {service: payment-gateway, kind: error_rate, value: 0.35}}
  - {at: 120, message: {user: alice, text: "payment gateway is throwing 500s"}}
"""


# Beside the live estate (ACTIONDESK_ESTATE=live) the sandbox serves only what the live estate has no system for
# (VPN sessions, log volumes, the directory when ACTIONDESK_DIRECTORY_FILE is unset, accounts and procurement when
# SCIM / ServiceNow are unset): quiet, with nothing in trouble, kept under a blob of its own.
LIVE_STAPLES = """
name: live-estate-staples
events: []
"""
LIVE_BLOB = "sandbox-staples"


def trouble(scenario: Scenario, clock: Clock) -> EstateState:
    """Replay the scenario's world events up to its first message so they end 'now' on the wall clock."""
    first_message = next((e.at or 0.0 for e in scenario.events if e.kind in ("message", "alert")), None)
    world_events = []
    for event in scenario.events:
        if event.kind in ("message", "reply", "alert", "approve", "reject"):
            break
        world_events.append(event)
    horizon = first_message if first_message is not None else max((e.at or 0.0 for e in world_events), default=0.0)
    start = clock.now() - timedelta(seconds=horizon)
    sim = SimulatedClock(start)
    state = scenario.model_copy(update={"start": start}).build_world()
    estate = SandboxEstate(state, sim)
    for event in world_events:
        if event.at is not None:
            sim.set(start + timedelta(seconds=event.at))
        estate.apply(event)
    return estate.state


def serve_estate(settings: Settings, store: SqlStore, clock: Clock) -> tuple[SandboxEstate, Scenario]:
    """The estate a server starts with: the persisted one if any, else the configured trouble."""
    blob = ESTATE_BLOB
    if settings.estate == "live":
        scenario, blob = parse_scenario(LIVE_STAPLES, "the live estate's staples"), LIVE_BLOB
    elif settings.sandbox_scenario is not None:
        scenario = load_scenario(settings.sandbox_scenario)
    else:
        scenario = parse_scenario(DEFAULT_WORLD, "built-in default world")
    with store.locked_blob(blob) as held:  # replicas starting together: the first one seeds it
        if held.text:
            state = EstateState.model_validate_json(held.text)
            log.info("sandbox estate restored from the database")
        else:
            state = trouble(scenario, clock)
            held.write(state.model_dump_json())
            log.info("sandbox estate started in trouble from %s", scenario.name)
    return SandboxEstate(state, clock, shared=StoredEstate(store, blob)), scenario


class StoredEstate:
    """The estate shared by every replica on the database: the store's versioned state blob (SharedState)."""

    def __init__(self, store: SqlStore, name: str) -> None:
        self._store = store
        self._name = name

    def version(self) -> int | None:
        return self._store.blob_version(self._name)

    def read(self) -> tuple[int, str] | None:
        return self._store.versioned_blob(self._name)

    def locked(self) -> AbstractContextManager[LockedBlob]:
        return self._store.locked_blob(self._name)
