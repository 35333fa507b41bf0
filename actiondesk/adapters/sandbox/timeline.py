"""Pure questions about an ``EstateState`` at an instant: which version runs, which faults are active."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from actiondesk.adapters.sandbox.index import index
from actiondesk.adapters.sandbox.world import (
    ChangeKind,
    ChangeRecord,
    DeploymentRecord,
    EstateState,
    FaultKind,
    FaultRecord,
    ServiceRecord,
)
from actiondesk.core.errors import UnknownServiceError


def digest(*parts: object) -> str:
    """A stable hex digest of ``parts`` (never Python's salted ``hash``)."""
    return hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).hexdigest()


def unit(*parts: object) -> float:
    """A stable number in [0, 1) derived from ``parts``: the first 13 hex digits (52 bits) of their digest."""
    raw = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return (int.from_bytes(raw[:7], "big") >> 4) / float(16**13)


def service_record(state: EstateState, name: str) -> ServiceRecord:
    record = index(state).records.get(name)
    if record is None:
        raise UnknownServiceError(f"the estate has no service named {name!r}")
    return record


def history(state: EstateState, service: str) -> list[DeploymentRecord]:
    """The service's deployments, oldest first (ties keep the order they were recorded in)."""
    return list(index(state).history.get(service, ()))


def newest_deployment(state: EstateState, service: str, at: datetime) -> DeploymentRecord | None:
    return index(state).newest_deployment(service, at)


def live_version(state: EstateState, service: str, at: datetime) -> str:
    """The version of the newest deployment at or before ``at``; the recorded version if none is."""
    record = service_record(state, service)
    newest = index(state).newest_deployment(service, at)
    return newest.version if newest is not None else record.version


def changes_of(state: EstateState, service: str, *kinds: ChangeKind) -> list[ChangeRecord]:
    """The service's non-deployment changes of ``kinds`` (all kinds when none given), oldest first."""
    found = index(state).changes.get(service, [])
    return [c for c in found if c.kind in kinds] if kinds else list(found)


def setting_at(state: EstateState, service: str, kind: ChangeKind, key: str, at: datetime) -> str | None:
    """The value a config key (or feature flag) had at ``at``; None when it was not set."""
    keyed = [c for c in index(state).by_kind.get((service, kind), ()) if c.detail.get("key") == key]
    before = [c for c in keyed if c.at <= at]
    if before:
        return before[-1].detail.get("value")
    if keyed:
        return keyed[0].detail.get("previous")
    record = service_record(state, service)
    return (record.flags if kind is ChangeKind.FLAG else record.config).get(key)


def replicas_at(state: EstateState, service: str, at: datetime) -> int:
    """The replica count the service was scaled to at ``at``."""
    found = index(state)
    latest = found.latest_change(service, ChangeKind.SCALE, at)
    if latest is not None:
        return int(latest.detail["replicas"])
    scales = found.by_kind.get((service, ChangeKind.SCALE))
    if scales:
        return int(scales[0].detail["previous"])
    return service_record(state, service).replicas


def nominal_replicas(state: EstateState, service: str) -> int:
    """The replica count the service ran with before any scaling: what its baseline CPU was measured at."""
    scales = index(state).by_kind.get((service, ChangeKind.SCALE))
    return int(scales[0].detail["previous"]) if scales else service_record(state, service).replicas


def change_holds(state: EstateState, change: ChangeRecord, at: datetime) -> bool:
    """Whether what ``change`` set (a config value, a flag, a replica count) is still in place at ``at``."""
    if at < change.at:
        return False
    if change.kind is ChangeKind.SCALE:
        return replicas_at(state, change.service, at) == int(change.detail["replicas"])
    if change.kind in (ChangeKind.CONFIG_CHANGE, ChangeKind.FLAG):
        return setting_at(state, change.service, change.kind, change.detail["key"], at) == change.detail.get("value")
    return True


def is_active(state: EstateState, fault: FaultRecord, at: datetime) -> bool:
    if at < fault.start or (fault.end is not None and at >= fault.end):
        return False
    if fault.service is None:
        return True
    if fault.bound_version is not None and live_version(state, fault.service, at) != fault.bound_version:
        return False
    if fault.bound_change is not None:
        change = index(state).change_by_id.get(fault.bound_change)
        return change is not None and change_holds(state, change, at)
    return True


def active_faults(
    state: EstateState, services: Iterable[str], kinds: frozenset[FaultKind], at: datetime
) -> list[FaultRecord]:
    names = services if isinstance(services, tuple) else tuple(services)
    if len(names) == 1:  # the usual question: one service's faults, in the order they were injected
        candidates: Iterable[FaultRecord] = index(state).faults.get(names[0], ())
    else:
        wanted = set(names)
        candidates = (f for f in state.faults if f.service in wanted)
    return [f for f in candidates if f.kind in kinds and is_active(state, f, at)]


def _callees(record: ServiceRecord) -> tuple[str, ...]:
    """What a service really calls: its declared dependencies and the undeclared ones."""
    return (*record.depends_on, *record.calls)


def dependencies(state: EstateState, service: str) -> list[str]:
    """Everything ``service`` calls, directly or not (cycle-safe, ``service`` itself excluded)."""
    return list(index(state).remembered(("dependencies", service), lambda: tuple(_dependencies(state, service))))


def _dependencies(state: EstateState, service: str) -> list[str]:
    by_name = {s.name: s for s in state.services}
    seen: list[str] = []
    stack = list(_callees(by_name[service])) if service in by_name else []
    while stack:
        name = stack.pop(0)
        if name == service or name in seen or name not in by_name:
            continue
        seen.append(name)
        stack.extend(_callees(by_name[name]))
    return seen


def origins(state: EstateState) -> list[str]:
    """Services where requests start: those nothing depends on, plus any only reachable through a cycle."""
    return list(index(state).remembered(("origins",), lambda: tuple(_origins(state))))


def _origins(state: EstateState) -> list[str]:
    called = {dep for s in state.services for dep in _callees(s)}
    starts = [s.name for s in state.services if s.name not in called]
    reached = set(starts)
    for name in starts:
        reached.update(dependencies(state, name))
    for record in state.services:
        if record.name not in reached:
            starts.append(record.name)
            reached.add(record.name)
            reached.update(dependencies(state, record.name))
    return starts
