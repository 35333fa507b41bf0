"""Metrics of the sandbox: a baseline with deterministic jitter plus the faults active at each instant."""

from __future__ import annotations

from datetime import datetime, timedelta

from actiondesk.adapters.sandbox.timeline import active_faults, dependencies, service_record, unit
from actiondesk.adapters.sandbox.world import EstateState, FaultKind
from actiondesk.core.errors import ActionFailedError
from actiondesk.core.estate import Point, Series

# Like Prometheus: a range query may not ask for more points than this.
MAX_POINTS = 11_000

ERROR_FAULTS = frozenset({FaultKind.ERROR_RATE, FaultKind.CRASH_LOOP})
LATENCY_FAULTS = frozenset({FaultKind.LATENCY})
DELAY_FAULTS = frozenset({FaultKind.NETWORK_DELAY})


def jitter(service: str, metric: str, at: datetime) -> float:
    """A factor in [0.9, 1.1], the same for the same service, metric and instant."""
    return 0.9 + 0.2 * unit("jitter", service, metric, at.timestamp())


def fault_error_fraction(state: EstateState, service: str, at: datetime) -> float:
    """The share of requests the active error_rate and crash_loop faults make fail (at most 1)."""
    return min(1.0, sum(f.value for f in active_faults(state, (service,), ERROR_FAULTS, at)))


def added_latency_ms(state: EstateState, service: str, at: datetime) -> float:
    """Latency faults on the service plus network delays on it or on anything it calls."""
    own = sum(f.value for f in active_faults(state, (service,), LATENCY_FAULTS, at))
    felt = (service, *dependencies(state, service))
    return own + sum(f.value for f in active_faults(state, felt, DELAY_FAULTS, at))


def error_rate_at(state: EstateState, service: str, at: datetime) -> float:
    baseline = service_record(state, service).baseline_error_rate * jitter(service, "error_rate", at)
    return round(min(1.0, baseline + fault_error_fraction(state, service, at)), 6)


def latency_p99_at(state: EstateState, service: str, at: datetime) -> float:
    baseline = service_record(state, service).baseline_latency_ms * jitter(service, "latency_p99", at)
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
    points = tuple(Point(at, latency_p99_at(state, service, at)) for at in instants(start, end, step))
    return Series(service=service, metric="latency_p99", points=points)
