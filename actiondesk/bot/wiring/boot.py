"""Start-up of a long-running server: the sandbox estate already in trouble, persisted across restarts."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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


# Inside ``steady_estate``: the stored version of each blob as first checked there (or as read or written since).
_STEADY: ContextVar[dict[str, int | None] | None] = ContextVar("actiondesk_steady_estate", default=None)


@contextmanager
def steady_estate() -> Iterator[None]:
    """Hold the shared estate's readings steady in this block (this thread's, or this task's, only).

    A stored estate checks the stored version before every read, one database round trip each: a triage reads
    every service's signals, a dozen and more reads. In this block the version is checked once, at the first
    read, and the reads that follow see the state as of then, one consistent picture. A change, in the block or
    out of it, still locks the row and starts from what is stored; what it writes is what the block reads next.
    """
    token = _STEADY.set({})
    try:
        yield
    finally:
        _STEADY.reset(token)


class StoredEstate:
    """The estate shared by every replica on the database: the store's versioned state blob (SharedState)."""

    def __init__(self, store: SqlStore, name: str) -> None:
        self._store = store
        self._name = name

    def version(self) -> int | None:
        steady = _STEADY.get()
        if steady is None:
            return self._store.blob_version(self._name)
        if self._name not in steady:
            steady[self._name] = self._store.blob_version(self._name)
        return steady[self._name]

    def read(self) -> tuple[int, str] | None:
        found = self._store.versioned_blob(self._name)
        self._remember(None if found is None else found[0])
        return found

    @contextmanager
    def locked(self) -> Iterator[LockedBlob]:
        try:
            with self._store.locked_blob(self._name) as held:
                yield held
        except BaseException:
            self._forget()  # rolled back, or not known to be committed: check the stored version again
            raise
        self._remember(held.version)  # committed: what is stored now, in the state this replica holds

    def _remember(self, version: int | None) -> None:
        steady = _STEADY.get()
        if steady is not None and version is not None:
            steady[self._name] = version

    def _forget(self) -> None:
        steady = _STEADY.get()
        if steady is not None:
            steady.pop(self._name, None)
