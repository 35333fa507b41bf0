"""Metrics of the sandbox: a baseline with deterministic jitter plus what the faults and changes do.

The model, in one place:
- **errors**: a service fails the share of requests its error_rate, crash_loop and image_pull faults give (all
  of them when it is scaled to zero), and its callers fail ``PROPAGATION`` of what it fails, ``HOP_LAG`` later.
- **CPU**: the baseline at the nominal replica count, scaled by nominal / live replicas, plus cpu_saturation
  faults, capped at 100 %.
- **latency (p95)**: the baseline, plus latency faults, network delays and a penalty once CPU passes
  ``SATURATION_PCT``; callers wait for what they call, so they feel all of it too.
- **pods**: crash_loop faults put a share of the pods in CrashLoopBackOff (restarting with Kubernetes' back-off),
  image_pull faults keep the new version's pods in ImagePullBackOff; neither is ready.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from actiondesk.adapters.sandbox.index import index
from actiondesk.adapters.sandbox.timeline import (
    active_faults,
    digest,
    live_version,
    nominal_replicas,
    replicas_at,
    service_record,
    unit,
)
from actiondesk.adapters.sandbox.world import EstateState, FaultKind, FaultRecord
from actiondesk.core.errors import ActionFailedError
from actiondesk.core.estate import PodState, Point, Series, ServicePods

# Like Prometheus: a range query may not ask for more points than this.
MAX_POINTS = 11_000

ERROR_FAULTS = frozenset({FaultKind.ERROR_RATE, FaultKind.CRASH_LOOP, FaultKind.IMAGE_PULL})
LATENCY_FAULTS = frozenset({FaultKind.LATENCY})
DELAY_FAULTS = frozenset({FaultKind.NETWORK_DELAY})
CPU_FAULTS = frozenset({FaultKind.CPU_SATURATION})
CRASH_FAULTS = frozenset({FaultKind.CRASH_LOOP})
PULL_FAULTS = frozenset({FaultKind.IMAGE_PULL})

PROPAGATION = 0.8  # share of an upstream's failed requests its callers answer with a 5xx
HOP_LAG = timedelta(seconds=5)  # how much later a caller feels what the service it calls does
SATURATION_PCT = 80.0  # CPU above this slows every request
SATURATION_PENALTY = 3.0  # at 100 % CPU, p95 latency grows by this many baselines
BACKOFF_SECONDS = (10, 20, 40, 80, 160)  # kubelet's crash back-off, then every BACKOFF_CAP seconds
BACKOFF_CAP = 300
# Jitter factors kept across states: a scenario played again reads the same instants. One investigation reads about
# 3,100 (13 series of 241 points); a served estate's instants follow the clock, so one case's never repeat another's
# (not one hit in 100 cases, measured). 8,192 hold two investigations' worth in about 2 MiB (65,536 held 16 MiB).
JITTER_CACHE = 1 << 13
NAME_CACHE = 4096  # pod names by (service, version, ordinal)


@lru_cache(maxsize=JITTER_CACHE)
def _jitter(service: str, metric: str, timestamp: float) -> float:
    return 0.9 + 0.2 * unit("jitter", service, metric, timestamp)


def jitter(service: str, metric: str, at: datetime) -> float:
    """A factor in [0.9, 1.1], the same for the same service, metric and instant."""
    return _jitter(str(service), str(metric), at.timestamp())


# What is remembered, and why it is the same answer:
# - a service's own load and added latency depend on the instant only through its era (Index.moments): the
#   faults, versions, replicas and settings in force. They are kept per era, not per instant.
# - a walk down the call graph (failing_fraction, added_latency_ms) reads each service it reaches a hop later,
#   so its answer depends on the instant only through the eras of at, at - HOP_LAG, ... (Index.eras): kept per
#   those, so the points of a series between two moments share one walk. It skips what it has already seen on
#   its path, so only a cycle back into the path can stop it: the answer depends on ``seen`` only through the
#   services the service reaches; kept for ``seen`` cut to those (the empty set when no cycle is below it), so
#   every path to a service shares one answer.
def _callees(state: EstateState, service: str, seen: frozenset[str]) -> list[str]:
    service_record(state, service)
    return [d for d in index(state).callees[service] if d not in seen]


def own_failure(state: EstateState, service: str, at: datetime) -> float:
    """The share of requests the service itself fails at ``at``: its faults, or all when it has no replica."""
    if replicas_at(state, service, at) == 0:
        return 1.0
    return min(1.0, sum(f.value for f in active_faults(state, (service,), ERROR_FAULTS, at)))


def failing_fraction(state: EstateState, service: str, at: datetime, seen: frozenset[str] = frozenset()) -> float:
    """The share of requests that fail: its own failures, and the failures of what it calls, felt a hop later."""
    found = index(state)
    seen &= found.reach(service)  # what it answers depends on no other member of seen (see _callees)
    eras = found.eras(service, at, HOP_LAG)
    return found.remembered(("failing", service, eras, seen), lambda: _failing(state, service, at, seen))


def _failing(state: EstateState, service: str, at: datetime, seen: frozenset[str]) -> float:
    own = own_failure(state, service, at)
    seen = seen | {service}
    upstream = max(
        (PROPAGATION * failing_fraction(state, d, at - HOP_LAG, seen) for d in _callees(state, service, seen)),
        default=0.0,
    )
    return min(1.0, 1.0 - (1.0 - own) * (1.0 - upstream))


def fault_error_fraction(state: EstateState, service: str, at: datetime) -> float:
    """The share of requests failing because of faults (the service's own and those propagated to it)."""
    return failing_fraction(state, service, at)


def _load(state: EstateState, service: str, at: datetime) -> float | None:
    """CPU use before jitter; None when the service has no replica."""
    record = service_record(state, service)
    replicas = replicas_at(state, service, at)
    if replicas == 0:
        return None
    load = record.baseline_cpu_pct * nominal_replicas(state, service) / replicas
    return load + sum(f.value for f in active_faults(state, (service,), CPU_FAULTS, at))


def cpu_pct_at(state: EstateState, service: str, at: datetime, *, jittered: bool = True) -> float:
    found = index(state)
    load = found.remembered(("load", service, found.era(at)), lambda: _load(state, service, at))
    if load is None:
        return 0.0
    if jittered:
        load *= jitter(service, "cpu", at)
    return round(min(100.0, load), 3)


def _own_added_ms(state: EstateState, service: str, at: datetime) -> float:
    found = index(state)
    return found.remembered(("own_added", service, found.era(at)), lambda: _own_added(state, service, at))


def _own_added(state: EstateState, service: str, at: datetime) -> float:
    record = service_record(state, service)
    added = sum(f.value for f in active_faults(state, (service,), LATENCY_FAULTS | DELAY_FAULTS, at))
    cpu = cpu_pct_at(state, service, at, jittered=False)
    if cpu > SATURATION_PCT:
        added += record.baseline_latency_ms * SATURATION_PENALTY * (cpu - SATURATION_PCT) / (100.0 - SATURATION_PCT)
    return added


def added_latency_ms(state: EstateState, service: str, at: datetime, seen: frozenset[str] = frozenset()) -> float:
    """What faults and saturation add to the service's p95, its own and that of everything it calls."""
    found = index(state)
    seen &= found.reach(service)  # what it answers depends on no other member of seen (see _callees)
    eras = found.eras(service, at, HOP_LAG)
    return found.remembered(("added", service, eras, seen), lambda: _added(state, service, at, seen))


def _added(state: EstateState, service: str, at: datetime, seen: frozenset[str]) -> float:
    seen = seen | {service}
    return _own_added_ms(state, service, at) + sum(
        added_latency_ms(state, d, at - HOP_LAG, seen) for d in _callees(state, service, seen)
    )


def error_rate_at(state: EstateState, service: str, at: datetime) -> float:
    baseline = service_record(state, service).baseline_error_rate * jitter(service, "error_rate", at)
    return round(min(1.0, baseline + fault_error_fraction(state, service, at)), 6)


def latency_p95_at(state: EstateState, service: str, at: datetime) -> float:
    baseline = service_record(state, service).baseline_latency_ms * jitter(service, "latency_p95", at)
    return round(baseline + added_latency_ms(state, service, at), 3)


def instants(start: datetime, end: datetime, step_seconds: int) -> list[datetime]:
    """start, start + step, ... up to and including ``end``."""
    if step_seconds <= 0:
        raise ActionFailedError(f"step must be a positive number of seconds, got {step_seconds}")
    if end < start:
        return []
    count = int((end - start).total_seconds() // step_seconds) + 1
    if count > MAX_POINTS:
        raise ActionFailedError(
            f"exceeded maximum resolution of {MAX_POINTS} points per series; "
            f"asked for {count} (try a larger step or a shorter window)"
        )
    return [start + timedelta(seconds=step_seconds * i) for i in range(count)]


def error_rate_series(state: EstateState, service: str, start: datetime, end: datetime, step: int) -> Series:
    service_record(state, service)
    points = tuple(Point(at, error_rate_at(state, service, at)) for at in instants(start, end, step))
    return Series(service=service, metric="error_rate", points=points)


def latency_series(state: EstateState, service: str, start: datetime, end: datetime, step: int) -> Series:
    service_record(state, service)
    points = tuple(Point(at, latency_p95_at(state, service, at)) for at in instants(start, end, step))
    return Series(service=service, metric="latency_p95_ms", points=points)


def cpu_series(state: EstateState, service: str, start: datetime, end: datetime, step: int) -> Series:
    service_record(state, service)
    points = tuple(Point(at, cpu_pct_at(state, service, at)) for at in instants(start, end, step))
    return Series(service=service, metric="cpu_pct", points=points)


# Pods


def _restarts(fault: FaultRecord, at: datetime) -> int:
    """Restarts of a crash-looping container since the fault began, with kubelet's growing back-off."""
    elapsed = (at - fault.start).total_seconds()
    count, spent = 0, 0.0
    for wait in BACKOFF_SECONDS:
        if spent > elapsed:
            return count
        count, spent = count + 1, spent + wait
    return count + max(0, int((elapsed - spent) // BACKOFF_CAP) + 1)


@dataclass(frozen=True, slots=True)
class _Trouble:
    state: str
    reason: str
    restarts: int


def pods_at(state: EstateState, service: str, at: datetime) -> ServicePods:
    """The service's pods at ``at``: names follow the running version (a new ReplicaSet per version)."""
    service_record(state, service)
    found = index(state)
    # restarts grow with the time a crash loop has run; without one the pods are the same all through an era
    crashing = any(f.kind in CRASH_FAULTS for f in found.faults.get(service, ()))
    when: object = at if crashing else found.era(at)
    desired, pods = found.remembered(("pods", service, when), lambda: _pods(state, service, at))
    return ServicePods(service=service, at=at, desired=desired, pods=pods)


@lru_cache(maxsize=NAME_CACHE)
def _pod_name(service: str, version: str, i: int) -> str:
    return f"{service}-{digest('replicaset', service, version)[:10]}-{digest('pod', service, version, i)[:5]}"


def _pods(state: EstateState, service: str, at: datetime) -> tuple[int, tuple[PodState, ...]]:
    replicas = replicas_at(state, service, at)
    version = live_version(state, service, at)
    trouble: list[_Trouble] = []
    for fault in active_faults(state, (service,), CRASH_FAULTS, at):
        crashing = max(1, math.ceil(replicas * min(1.0, fault.value)))
        trouble += [_Trouble("CrashLoopBackOff", "Error (exit code 1)", _restarts(fault, at))] * crashing
    for fault in active_faults(state, (service,), PULL_FAULTS, at):
        pulling = max(1, math.ceil(replicas * min(1.0, fault.value)))
        reason = f"Back-off pulling image registry.example.com/{service}:{version}: manifest unknown"
        trouble += [_Trouble("ImagePullBackOff", reason, 0)] * pulling
    pods: list[PodState] = []
    for i in range(replicas):
        name = _pod_name(service, version, i)
        if i < len(trouble):
            t = trouble[i]
            pods.append(
                PodState(name=name, version=version, ready=False, state=t.state, reason=t.reason, restarts=t.restarts)
            )
        else:
            pods.append(PodState(name=name, version=version, ready=True, state="Running", reason="", restarts=0))
    return replicas, tuple(pods)


def unready_series(state: EstateState, service: str, start: datetime, end: datetime, step: int) -> Series:
    def unready(at: datetime) -> float:
        pods = pods_at(state, service, at)
        return float(pods.desired - pods.ready)

    points = tuple(Point(at, unready(at)) for at in instants(start, end, step))
    return Series(service=service, metric="unready_replicas", points=points)


def restart_series(state: EstateState, service: str, start: datetime, end: datetime, step: int) -> Series:
    points = tuple(Point(at, float(pods_at(state, service, at).restarts)) for at in instants(start, end, step))
    return Series(service=service, metric="restarts", points=points)
