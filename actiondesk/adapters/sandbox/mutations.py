"""Pure state transitions: each takes an ``EstateState`` and returns a new one.

Fault binding: a fault is bound to the service's newest change when a scenario event made that change. After
a deploy it lasts only while that version runs (rolling back ends it, rolling forward again brings it back);
after a config change, a feature flag or a scaling it lasts only while the value that change set holds
(setting the key back, or scaling back, ends it). A fault with no preceding scripted change, or one marked
``independent``, is bound to nothing, and no revert touches it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from actiondesk.adapters.sandbox.events import ConfigChangeEvent, DeployEvent, FaultEvent, FlagEvent, ScaleEvent
from actiondesk.adapters.sandbox.timeline import digest, history, newest_deployment, service_record
from actiondesk.adapters.sandbox.world import (
    ChangeKind,
    ChangeRecord,
    DeployKind,
    DeploymentRecord,
    EstateState,
    FaultKind,
    FaultRecord,
    LogVolume,
    ServiceRecord,
    SessionStatus,
)
from actiondesk.core.errors import ActionFailedError, NotFoundError

DEFAULT_HOST = "worker-1"
AGENT = "actiondesk"


def _replace_service(state: EstateState, record: ServiceRecord) -> EstateState:
    services = tuple(record if s.name == record.name else s for s in state.services)
    return state.model_copy(update={"services": services})


def _add_change(
    state: EstateState,
    service: str,
    kind: ChangeKind,
    at: datetime,
    detail: dict[str, str],
    author: str,
    *,
    scripted: bool = False,
) -> EstateState:
    change = ChangeRecord(
        id=f"chg-{len(state.changes) + 1}",
        service=service,
        kind=kind,
        at=at,
        detail=detail,
        author=author,
        scripted=scripted,
    )
    return state.model_copy(update={"changes": (*state.changes, change)})


def _record_deployment(state: EstateState, record: DeploymentRecord) -> EstateState:
    service = service_record(state, record.service)
    state = state.model_copy(update={"deployments": (*state.deployments, record)})
    current = history(state, record.service)[-1].version
    return _replace_service(state, service.model_copy(update={"version": current}))


def deploy(state: EstateState, event: DeployEvent, at: datetime) -> EstateState:
    service_record(state, event.service)
    record = DeploymentRecord(
        id="dep-" + digest(event.service, event.version, event.commit, at.isoformat(), len(state.deployments))[:10],
        service=event.service,
        version=event.version,
        commit=event.commit,
        deployed_at=at,
        author=event.author,
        kind=DeployKind.DEPLOY,
        scripted=True,
    )
    return _record_deployment(state, record)


def rollback(
    state: EstateState, service: str, to_version: str, reason: str, at: datetime
) -> tuple[EstateState, DeploymentRecord]:
    service_record(state, service)
    earlier = [d for d in history(state, service) if d.version == to_version and d.deployed_at <= at]
    if not earlier:
        raise ActionFailedError(f"{service} was never deployed at version {to_version!r}; nothing to roll back to")
    record = DeploymentRecord(
        id="dep-" + digest(service, to_version, "rollback", at.isoformat(), len(state.deployments))[:10],
        service=service,
        version=to_version,
        commit=earlier[-1].commit,
        deployed_at=at,
        author=AGENT,
        kind=DeployKind.ROLLBACK,
        scripted=False,
        reason=reason,
    )
    return _record_deployment(state, record), record


def _set_key(
    state: EstateState,
    service: str,
    kind: ChangeKind,
    key: str,
    value: str | None,
    at: datetime,
    author: str,
    scripted: bool,
) -> EstateState:
    """Set (or, with None, remove) a config key or flag. The change's detail has no ``value`` for a removal and
    no ``previous`` when the key was new."""
    record = service_record(state, service)
    current = record.flags if kind is ChangeKind.FLAG else record.config
    detail = {"key": key}
    if value is not None:
        detail["value"] = value
    if key in current:
        detail["previous"] = current[key]
    field = "flags" if kind is ChangeKind.FLAG else "config"
    changed = {k: v for k, v in current.items() if k != key} | ({key: value} if value is not None else {})
    state = _replace_service(state, record.model_copy(update={field: changed}))
    return _add_change(state, service, kind, at, detail, author, scripted=scripted)


def config_change(state: EstateState, event: ConfigChangeEvent, at: datetime) -> EstateState:
    return _set_key(state, event.service, ChangeKind.CONFIG_CHANGE, event.key, event.value, at, event.author, True)


def flag(state: EstateState, event: FlagEvent, at: datetime) -> EstateState:
    return _set_key(state, event.service, ChangeKind.FLAG, event.key, event.value, at, event.author, True)


def scale(state: EstateState, event: ScaleEvent, at: datetime) -> EstateState:
    return _scale(state, event.service, event.replicas, at, event.author, scripted=True)


def _scale(
    state: EstateState, service: str, replicas: int, at: datetime, author: str, *, scripted: bool
) -> EstateState:
    record = service_record(state, service)
    detail = {"replicas": str(replicas), "previous": str(record.replicas)}
    state = _replace_service(state, record.model_copy(update={"replicas": replicas}))
    return _add_change(state, service, ChangeKind.SCALE, at, detail, author, scripted=scripted)


def set_config(state: EstateState, service: str, key: str, value: str | None, at: datetime) -> EstateState:
    """The agent sets a configuration key (reverting a bad change sets it back to its previous value)."""
    return _set_key(state, service, ChangeKind.CONFIG_CHANGE, key, value, at, AGENT, False)


def set_flag(state: EstateState, service: str, key: str, value: str | None, at: datetime) -> EstateState:
    return _set_key(state, service, ChangeKind.FLAG, key, value, at, AGENT, False)


def scale_to(state: EstateState, service: str, replicas: int, at: datetime) -> EstateState:
    return _scale(state, service, replicas, at, AGENT, scripted=False)


def _binding(state: EstateState, service: str, at: datetime) -> tuple[str | None, str | None]:
    """(bound_version, bound_change) for a fault starting at ``at``: the service's newest change (deploy,
    config, flag or scale) binds it when a scenario made that change; otherwise nothing does."""
    newest = newest_deployment(state, service, at)
    changes = [c for c in state.changes if c.service == service and c.kind is not ChangeKind.RESTART and c.at <= at]
    change = max(changes, key=lambda c: c.at) if changes else None
    if change is not None and (newest is None or change.at >= newest.deployed_at):
        return None, change.id if change.scripted else None
    if newest is not None and newest.scripted:
        return newest.version, None
    return None, None


def inject_fault(state: EstateState, event: FaultEvent, at: datetime) -> EstateState:
    bound: tuple[str | None, str | None] = (None, None)
    if event.service is not None:
        service_record(state, event.service)
        if not event.independent:
            bound = _binding(state, event.service, at)
    host = event.host or (DEFAULT_HOST if event.kind is FaultKind.DISK_FULL else None)
    end = at + timedelta(seconds=event.duration) if event.duration is not None else None
    fault = FaultRecord(
        id=f"fault-{len(state.faults) + 1}",
        service=event.service,
        kind=event.kind,
        value=event.size,
        start=at,
        end=end,
        bound_version=bound[0],
        bound_change=bound[1],
        user=event.user,
        host=host,
        system=event.system,
    )
    state = state.model_copy(update={"faults": (*state.faults, fault)})
    if event.kind is FaultKind.DISK_FULL:
        volume = find_volume(state, host or DEFAULT_HOST)
        state = _replace_volume(state, volume.model_copy(update={"used_pct": 100.0}))
    if event.kind is FaultKind.ACCOUNT_LOCKED and event.user is not None:
        sessions = {**state.vpn.sessions, event.user: SessionStatus.LOCKED}
        state = state.model_copy(update={"vpn": state.vpn.model_copy(update={"sessions": sessions})})
    return state


def _end_faults(state: EstateState, at: datetime, **fields: object) -> EstateState:
    """End the ongoing faults whose fields equal ``fields``."""
    faults = tuple(
        f.model_copy(update={"end": at})
        if f.end is None and f.start <= at and all(getattr(f, k) == v for k, v in fields.items())
        else f
        for f in state.faults
    )
    return state.model_copy(update={"faults": faults})


def find_volume(state: EstateState, host: str) -> LogVolume:
    for volume in state.volumes:
        if volume.host == host:
            return volume
    raise NotFoundError(f"the estate has no log volume on host {host!r}")


def _replace_volume(state: EstateState, volume: LogVolume) -> EstateState:
    volumes = tuple(volume if v.host == volume.host else v for v in state.volumes)
    return state.model_copy(update={"volumes": volumes})


def clear_volume(state: EstateState, host: str, used_pct: float, at: datetime) -> EstateState:
    volume = find_volume(state, host)
    state = _replace_volume(state, volume.model_copy(update={"used_pct": min(volume.used_pct, used_pct)}))
    return _end_faults(state, at, kind=FaultKind.DISK_FULL, host=host)


def set_volume_usage(state: EstateState, host: str, used_pct: float) -> EstateState:
    """Put archived logs back: the volume's usage returns to ``used_pct``."""
    return _replace_volume(state, find_volume(state, host).model_copy(update={"used_pct": used_pct}))


def lock_session(state: EstateState, user: str) -> EstateState:
    if user not in state.vpn.sessions:
        raise NotFoundError(f"{user!r} has no session on {state.vpn.name}")
    sessions = {**state.vpn.sessions, user: SessionStatus.LOCKED}
    return state.model_copy(update={"vpn": state.vpn.model_copy(update={"sessions": sessions})})


def unlock_session(state: EstateState, user: str, at: datetime) -> EstateState:
    if user not in state.vpn.sessions:
        raise NotFoundError(f"{user!r} has no session on {state.vpn.name}")
    sessions = {**state.vpn.sessions, user: SessionStatus.ACTIVE}
    state = state.model_copy(update={"vpn": state.vpn.model_copy(update={"sessions": sessions})})
    return _end_faults(state, at, kind=FaultKind.ACCOUNT_LOCKED, user=user)


def restart(state: EstateState, service: str, at: datetime) -> EstateState:
    """Restart a service's pods: clears a crash loop not caused by its version (a bad version keeps crashing)."""
    record = service_record(state, service)
    state = _end_faults(state, at, kind=FaultKind.CRASH_LOOP, service=service, bound_version=None)
    return _add_change(state, service, ChangeKind.RESTART, at, {"replicas": str(record.replicas)}, AGENT)
