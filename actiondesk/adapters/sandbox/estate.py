"""``SandboxEstate``: the simulated company behind the Inventory, Telemetry, Deployer, Configurator and Directory
ports."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime
from types import TracebackType
from typing import TypeVar

from actiondesk.adapters.sandbox import mutations
from actiondesk.adapters.sandbox.events import (
    ConfigChangeEvent,
    ConversationEvent,
    DeployEvent,
    FaultEvent,
    FlagEvent,
    ScaleEvent,
    ScenarioEvent,
    WorldEvent,
)
from actiondesk.adapters.sandbox.logs import generate_logs
from actiondesk.adapters.sandbox.shared import HeldState, SharedState
from actiondesk.adapters.sandbox.signals import (
    cpu_series,
    error_rate_series,
    latency_series,
    pods_at,
    restart_series,
    unready_series,
)
from actiondesk.adapters.sandbox.timeline import history, service_record
from actiondesk.adapters.sandbox.timeline import live_version as _live_version
from actiondesk.adapters.sandbox.world import (
    DeploymentRecord,
    EstateState,
    LogVolume,
    PersonRecord,
    ServiceRecord,
    SessionStatus,
)
from actiondesk.core.errors import NotFoundError, ScenarioError
from actiondesk.core.estate import Change, Deployment, LogLine, Owner, Person, Series, Service, ServicePods
from actiondesk.core.ports import Clock

log = logging.getLogger(__name__)

T = TypeVar("T")


def _service(record: ServiceRecord) -> Service:
    return Service(
        name=record.name,
        tier=record.tier,
        environment=record.environment,
        version=record.version,
        depends_on=record.depends_on,
        aliases=record.aliases,
        description=record.description,
        owner=Owner(record.owner.team, record.owner.group) if record.owner is not None else None,
    )


def _deployment(record: DeploymentRecord) -> Deployment:
    return Deployment(
        service=record.service,
        version=record.version,
        commit=record.commit,
        deployed_at=record.deployed_at,
        author=record.author,
        kind=record.kind.value,
        id=record.id,
    )


def _person(name: str, record: PersonRecord) -> Person:
    return Person(
        name=name,
        email=record.email,
        groups=frozenset(record.groups),
        slack_user_id=record.slack_user_id,
        teams_aad_object_id=record.teams_aad_object_id,
    )


class _WriteLock:
    """``SandboxEstate._lock``, the estate's write lock; every mutation runs as
    ``with self._lock: self._commit(mutations.f(self._state, ...))``.

    In one process it is a re-entrant lock. With a ``SharedState`` (several replicas on one database) entering it
    (the outermost entry) also opens a transaction that holds the stored estate and reloads ``_state`` from it,
    so whatever mutation the block computes starts from what every replica last wrote, and ``_commit`` writes
    the result in that same transaction, committed when the block ends. This works for any mutation, present or
    future, without knowing which.
    """

    def __init__(self, estate: SandboxEstate) -> None:
        self._estate = estate
        self.rlock = threading.RLock()
        self._depth = 0
        self._stack: ExitStack | None = None
        self.held: HeldState | None = None

    def __enter__(self) -> _WriteLock:
        self.rlock.acquire()
        self._depth += 1
        shared = self._estate._shared
        if self._depth == 1 and shared is not None:
            stack = ExitStack()
            try:
                held = stack.enter_context(shared.locked())
                self._estate._load(held.version, held.text)
            except BaseException:
                stack.close()
                self._depth -= 1
                self.rlock.release()
                raise
            self._stack, self.held = stack, held
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if self._depth == 1 and self._stack is not None:
                stack, self._stack, self.held = self._stack, None, None
                try:
                    stack.__exit__(kind, exc, tb)  # commit, or roll back when the block raised
                except BaseException:
                    self._estate._version = None  # what we hold may not be what is stored: re-read next time
                    raise
                if kind is not None:
                    self._estate._version = None
        finally:
            self._depth -= 1
            self.rlock.release()


class SandboxEstate:
    """Implements Inventory, Telemetry, Deployer, Configurator and Directory over an ``EstateState``.

    Thread-safe. Time comes only from ``clock``. With ``shared`` (see shared.py) the estate lives in the
    database, shared by replicas: changes are serialised there and reads see the other replicas' changes.
    Without it, ``on_change`` (if given) receives the new state as JSON after every mutation.
    """

    def __init__(
        self,
        state: EstateState,
        clock: Clock,
        on_change: Callable[[str], None] | None = None,
        *,
        shared: SharedState | None = None,
    ) -> None:
        self._state = state
        self._clock = clock
        self._on_change = on_change
        self._shared = shared
        self._version: int | None = None  # the stored version _state was read at (shared only)
        self._lock = _WriteLock(self)

    # -- state ------------------------------------------------------------------------------------------
    @property
    def state(self) -> EstateState:
        return self._read().model_copy(deep=True)

    def _load(self, version: int, text: str | None) -> None:
        if text and version != self._version:
            self._state = EstateState.model_validate_json(text)
        if text:
            self._version = version

    def _read(self) -> EstateState:
        with self._lock.rlock:
            if self._shared is not None and self._lock.held is None:
                stored = self._shared.version()
                if stored is not None and stored != self._version:
                    found = self._shared.read()
                    if found is not None:
                        self._load(*found)
            return self._state

    def _commit(self, state: EstateState) -> None:
        """Callers hold the lock."""
        self._state = state
        if self._lock.held is not None:
            self._version = self._lock.held.write(state.model_dump_json())
        elif self._on_change is not None:
            self._on_change(state.model_dump_json())

    def current(self) -> EstateState:
        """The state as it stands (frozen: a mutation replaces it, never changes it)."""
        return self._read()

    def change(self, mutate: Callable[[EstateState], tuple[EstateState, T]]) -> T:
        """Apply ``mutate`` under the lock and commit the state it returns; hand back its other result."""
        with self._lock:
            state, result = mutate(self._state)
            self._commit(state)
            return result

    def live_version(self, service: str, at: datetime) -> str:
        return _live_version(self._read(), service, at)

    # -- world events -----------------------------------------------------------------------------------
    def apply(self, event: WorldEvent | ScenarioEvent | ConversationEvent, at: datetime | None = None) -> None:
        """Apply a deploy, config_change, flag, scale or fault, at ``at`` (default: the clock's now).

        Conversation events (message, reply, alert, approve, reject) belong to the scenario runner: passing one
        raises ScenarioError.
        """
        payload = event.payload if isinstance(event, ScenarioEvent) else event
        when = at if at is not None else self._clock.now()
        with self._lock:
            state = self._state
            if isinstance(payload, DeployEvent):
                state = mutations.deploy(state, payload, when)
            elif isinstance(payload, ConfigChangeEvent):
                state = mutations.config_change(state, payload, when)
            elif isinstance(payload, FlagEvent):
                state = mutations.flag(state, payload, when)
            elif isinstance(payload, ScaleEvent):
                state = mutations.scale(state, payload, when)
            elif isinstance(payload, FaultEvent):
                state = mutations.inject_fault(state, payload, when)
            else:
                raise ScenarioError(
                    f"{type(payload).__name__} is a conversation event: the scenario runner plays it, not the estate"
                )
            self._commit(state)
        log.info("sandbox applied %s at %s", type(payload).__name__, when.isoformat())

    # -- Inventory --------------------------------------------------------------------------------------
    def service(self, name: str) -> Service:
        return _service(service_record(self._read(), name))

    def services(self) -> list[Service]:
        return [_service(s) for s in self._read().services]

    # -- Deployer ---------------------------------------------------------------------------------------
    def deployments(self, service: str, limit: int = 10) -> list[Deployment]:
        state = self._read()
        service_record(state, service)
        newest_first = list(reversed(history(state, service)))
        return [_deployment(d) for d in newest_first[: max(0, limit)]]

    def changes(self, service: str, start: datetime, end: datetime) -> list[Change]:
        state = self._read()
        service_record(state, service)
        found = sorted((c for c in state.changes if c.service == service and start <= c.at <= end), key=lambda c: c.at)
        return [
            Change(service=c.service, kind=c.kind.value, at=c.at, detail=dict(c.detail), id=c.id, author=c.author)
            for c in found
        ]

    def rollback(self, service: str, to_version: str, *, reason: str) -> Deployment:
        with self._lock:
            state, record = mutations.rollback(self._state, service, to_version, reason, self._clock.now())
            self._commit(state)
        log.info("sandbox rolled %s back to %s (%s)", service, to_version, record.commit)
        return _deployment(record)

    # -- Configurator -----------------------------------------------------------------------------------
    def config(self, service: str) -> dict[str, str]:
        return dict(service_record(self._read(), service).config)

    def flags(self, service: str) -> dict[str, str]:
        return dict(service_record(self._read(), service).flags)

    def replicas(self, service: str) -> int:
        return service_record(self._read(), service).replicas

    def _changed(self, mutate: Callable[[EstateState, datetime], EstateState], reason: str) -> Change:
        with self._lock:
            state = mutate(self._state, self._clock.now())
            self._commit(state)
            c = state.changes[-1]
        log.info("sandbox %s %s: %s (%s)", c.kind.value, c.service, c.detail, reason)
        return Change(service=c.service, kind=c.kind.value, at=c.at, detail=dict(c.detail), id=c.id, author=c.author)

    def set_config(self, service: str, key: str, value: str | None, *, reason: str) -> Change:
        return self._changed(lambda s, at: mutations.set_config(s, service, key, value, at), reason)

    def set_flag(self, service: str, key: str, value: str | None, *, reason: str) -> Change:
        return self._changed(lambda s, at: mutations.set_flag(s, service, key, value, at), reason)

    def scale(self, service: str, replicas: int, *, reason: str) -> Change:
        return self._changed(lambda s, at: mutations.scale_to(s, service, replicas, at), reason)

    # -- Telemetry --------------------------------------------------------------------------------------
    def error_rate(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return error_rate_series(self._read(), service, start, end, step_seconds)

    def latency_p95(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return latency_series(self._read(), service, start, end, step_seconds)

    def cpu(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return cpu_series(self._read(), service, start, end, step_seconds)

    def pods(self, service: str, at: datetime) -> ServicePods:
        return pods_at(self._read(), service, at)

    def unready_replicas(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return unready_series(self._read(), service, start, end, step_seconds)

    def restarts(self, service: str, start: datetime, end: datetime, step_seconds: int) -> Series:
        return restart_series(self._read(), service, start, end, step_seconds)

    def logs(
        self,
        service: str,
        start: datetime,
        end: datetime,
        *,
        trace_id: str | None = None,
        level: str | None = None,
        limit: int = 50,
    ) -> list[LogLine]:
        return generate_logs(self._read(), service, start, end, trace=trace_id, level=level, limit=limit)

    # -- Directory --------------------------------------------------------------------------------------
    def person(self, name: str) -> Person | None:
        record = self._read().people.get(name)
        return None if record is None else _person(name, record)

    def members(self, group: str) -> frozenset[str]:
        return frozenset(name for name, p in self._read().people.items() if group in p.groups)

    def people(self) -> list[Person]:
        return [_person(name, p) for name, p in sorted(self._read().people.items())]

    def find_person(
        self,
        slack_user_id: str | None = None,
        email: str | None = None,
        teams_aad_object_id: str | None = None,
    ) -> Person | None:
        """By chat id first (Slack, then Teams), else by email (case-insensitive)."""
        people = self._read().people.items()
        for name, p in people:
            if (slack_user_id and p.slack_user_id == slack_user_id) or (
                teams_aad_object_id and p.teams_aad_object_id == teams_aad_object_id
            ):
                return _person(name, p)
        if email:
            for name, p in people:
                if p.email.lower() == email.lower():
                    return _person(name, p)
        return None

    # -- hosts and VPN (no core port yet: for the sandbox's own packs and tests) ------------------------
    def volume(self, host: str) -> LogVolume:
        return mutations.find_volume(self._read(), host)

    def clear_volume(self, host: str, used_pct: float = 35.0) -> LogVolume:
        """Rotate and compress old logs: usage drops to ``used_pct`` and a disk_full fault there ends."""
        with self._lock:
            self._commit(mutations.clear_volume(self._state, host, used_pct, self._clock.now()))
            return mutations.find_volume(self._state, host)

    def vpn_session(self, user: str) -> SessionStatus:
        sessions = self._read().vpn.sessions
        if user not in sessions:
            raise NotFoundError(f"{user!r} has no VPN session")
        return sessions[user]

    def unlock_vpn_session(self, user: str) -> SessionStatus:
        with self._lock:
            self._commit(mutations.unlock_session(self._state, user, self._clock.now()))
            return self._state.vpn.sessions[user]

    def restore_volume_usage(self, host: str, used_pct: float) -> LogVolume:
        with self._lock:
            self._commit(mutations.set_volume_usage(self._state, host, used_pct))
            return mutations.find_volume(self._state, host)

    def lock_vpn_session(self, user: str) -> SessionStatus:
        with self._lock:
            self._commit(mutations.lock_session(self._state, user))
            return self._state.vpn.sessions[user]

    def restart_service(self, service: str) -> None:
        """Restart the pods: ends a crash loop not tied to the running version."""
        with self._lock:
            self._commit(mutations.restart(self._state, service, self._clock.now()))
