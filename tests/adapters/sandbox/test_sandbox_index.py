"""The per-state index and its remembered answers: they must give what a scan of the state gives, and never an
answer of a state that was replaced."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from actiondesk.adapters.sandbox import DeployEvent, FaultEvent, FaultKind, SandboxEstate, default_estate
from actiondesk.adapters.sandbox import index as index_module
from actiondesk.adapters.sandbox.index import index
from actiondesk.adapters.sandbox.signals import (
    CPU_FAULTS,
    DELAY_FAULTS,
    HOP_LAG,
    LATENCY_FAULTS,
    PROPAGATION,
    SATURATION_PCT,
    SATURATION_PENALTY,
    added_latency_ms,
    failing_fraction,
    jitter,
    own_failure,
)
from actiondesk.adapters.sandbox.timeline import (
    active_faults,
    live_version,
    newest_deployment,
    nominal_replicas,
    replicas_at,
    service_record,
    unit,
)
from actiondesk.adapters.sandbox.world import (
    ChangeKind,
    ChangeRecord,
    DeploymentRecord,
    EstateState,
    FaultRecord,
    ServiceRecord,
)
from actiondesk.core.clock import SimulatedClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _cyclic() -> EstateState:
    """a -> b -> c -> a (a cycle), c -> d; b and d fail; d scaled to zero for a while, twice at one instant."""
    return EstateState(
        services=(
            ServiceRecord(name="a", tier=1, environment="prod", version="v1", depends_on=("b",)),
            ServiceRecord(name="b", tier=1, environment="prod", version="v1", depends_on=("c",)),
            ServiceRecord(name="c", tier=1, environment="prod", version="v1", depends_on=("a", "d")),
            ServiceRecord(name="d", tier=2, environment="prod", version="v1", calls=("ghost",)),
        ),
        deployments=(
            DeploymentRecord(id="d2", service="b", version="v3", commit="c3", deployed_at=_at(5), author="x"),
            DeploymentRecord(id="d1", service="b", version="v2", commit="c2", deployed_at=_at(1), author="x"),
            DeploymentRecord(id="d3", service="b", version="v4", commit="c4", deployed_at=_at(5), author="x"),
        ),
        faults=(
            FaultRecord(id="f1", service="b", kind=FaultKind.ERROR_RATE, value=0.3, start=_at(2), bound_version="v2"),
            FaultRecord(id="f2", service="d", kind=FaultKind.ERROR_RATE, value=0.5, start=_at(0), end=_at(8)),
            FaultRecord(id="f3", service="c", kind=FaultKind.LATENCY, value=250.0, start=_at(3)),
            FaultRecord(id="f4", service="d", kind=FaultKind.CPU_SATURATION, value=40.0, start=_at(2), end=_at(9)),
        ),
        changes=(
            ChangeRecord(id="s2", service="d", kind=ChangeKind.SCALE, at=_at(6), detail={"replicas": "3"}),
            ChangeRecord(
                id="s1", service="d", kind=ChangeKind.SCALE, at=_at(4), detail={"replicas": "0", "previous": "2"}
            ),
            ChangeRecord(id="s3", service="d", kind=ChangeKind.SCALE, at=_at(6), detail={"replicas": "1"}),
        ),
    )


def _scan_failing(state: EstateState, service: str, at: datetime, seen: frozenset[str] = frozenset()) -> float:
    """failing_fraction as it was written before the index: a walk that remembers nothing."""
    names = {s.name for s in state.services}
    record = next(s for s in state.services if s.name == service)
    own = own_failure(state, service, at)
    seen = seen | {service}
    callees = [d for d in (*record.depends_on, *record.calls) if d in names and d not in seen]
    upstream = max((PROPAGATION * _scan_failing(state, d, at - HOP_LAG, seen) for d in callees), default=0.0)
    return min(1.0, 1.0 - (1.0 - own) * (1.0 - upstream))


def _scan_added(state: EstateState, service: str, at: datetime, seen: frozenset[str] = frozenset()) -> float:
    """added_latency_ms without remembering anything: the service's own faults and saturation, then its callees'."""
    names = {s.name for s in state.services}
    record = next(s for s in state.services if s.name == service)
    added = sum(f.value for f in active_faults(state, (service,), LATENCY_FAULTS | DELAY_FAULTS, at))
    replicas = replicas_at(state, service, at)
    if replicas:
        load = record.baseline_cpu_pct * nominal_replicas(state, service) / replicas
        cpu = round(min(100.0, load + sum(f.value for f in active_faults(state, (service,), CPU_FAULTS, at))), 3)
        if cpu > SATURATION_PCT:
            added += record.baseline_latency_ms * SATURATION_PENALTY * (cpu - SATURATION_PCT) / (100 - SATURATION_PCT)
    seen = seen | {service}
    callees = [d for d in (*record.depends_on, *record.calls) if d in names and d not in seen]
    return added + sum(_scan_added(state, d, at - HOP_LAG, seen) for d in callees)


def test_every_second_across_the_moments_gives_what_a_plain_walk_gives() -> None:
    """Answers are kept per era (the stretch between two moments, hop by hop): a second before or after a fault
    starts, a scale lands or a deploy happens, at every depth of the walk, must still read its own era."""
    state = _cyclic()
    for second in range(-30, 11 * 60):
        at = _at(second / 60)
        for service in ("a", "b", "c", "d"):
            assert failing_fraction(state, service, at) == _scan_failing(state, service, at), (service, second)
            assert added_latency_ms(state, service, at) == _scan_added(state, service, at), (service, second)


def test_time_ordered_lookups_match_a_scan_with_ties_in_recorded_order() -> None:
    state = _cyclic()
    assert [newest_deployment(state, "b", _at(m)) for m in (0, 1, 4.9)] == [
        None,
        state.deployments[1],
        state.deployments[1],
    ]
    newest = newest_deployment(state, "b", _at(5))
    assert newest is not None
    assert newest.id == "d3"
    assert live_version(state, "b", _at(0)) == "v1"  # before any deployment: the recorded version
    # scaled to 0 at 4 min, then to 3 and to 1 at the same instant (6 min): the one recorded last holds
    assert [replicas_at(state, "d", _at(m)) for m in (3, 4, 5.9, 6, 9)] == [2, 0, 0, 1, 1]


def test_the_walk_down_a_cyclic_call_graph_gives_what_a_plain_walk_gives() -> None:
    """The remembered answers are keyed by the part of the path that can matter; a cycle must not make a service
    reuse an answer computed for another path."""
    state = _cyclic()
    for minutes in (0, 2, 3.5, 4.5, 6, 7.9, 9):
        at = _at(minutes)
        for service in ("a", "b", "c", "d"):
            assert failing_fraction(state, service, at) == _scan_failing(state, service, at), (service, minutes)
            assert failing_fraction(state, service, at, frozenset({"c"})) == _scan_failing(
                state, service, at, frozenset({"c"})
            )
    assert failing_fraction(state, "a", _at(4.5)) > 0  # the walk reached d (scaled to zero) through the cycle
    assert added_latency_ms(state, "a", _at(4)) == pytest.approx(250.0)  # c's latency fault, felt by a


def test_a_replaced_state_gets_its_own_answers() -> None:
    """A mutation replaces the state: reads after it see the new deployment at once, never the old index."""
    clock = SimulatedClock(_at(10))
    estate = SandboxEstate(default_estate(_at(10) - timedelta(days=1)), clock)
    pg = "payment-gateway"
    before = estate.current()
    start = clock.now() - timedelta(minutes=10)
    calm = estate.error_rate(pg, start, clock.now() + timedelta(minutes=5), 60)
    estate.apply(DeployEvent(service=pg, version="v9.9.9", commit="abcdef1"))
    estate.apply(FaultEvent(service=pg, kind=FaultKind.ERROR_RATE, value=0.4))
    after = estate.current()
    assert after is not before
    assert index(after) is not index(before)
    assert live_version(after, pg, clock.now()) == "v9.9.9"
    assert live_version(before, pg, clock.now()) != "v9.9.9"  # the old state's answers are still its own
    failing = estate.error_rate(pg, start, clock.now() + timedelta(minutes=5), 60)
    assert failing.points[-1].value > 0.3 > calm.points[-1].value
    assert failing.points[:10] == calm.points[:10]  # before the deploy nothing changed


def test_remembered_answers_are_dropped_past_the_limit_and_computed_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "MEMO_LIMIT", 5)
    state = _cyclic()
    answers = [failing_fraction(state, "a", _at(m / 10)) for m in range(100)]
    assert len(index(state).memo) <= 5
    assert answers == [_scan_failing(state, "a", _at(m / 10)) for m in range(100)]


def test_lookups_on_one_service_keep_the_faults_in_injected_order_and_unknown_names_fail() -> None:
    state = _cyclic()
    assert [f.id for f in active_faults(state, ("d",), frozenset({FaultKind.ERROR_RATE}), _at(1))] == ["f2"]
    assert [f.id for f in active_faults(state, ["b", "d"], frozenset({FaultKind.ERROR_RATE}), _at(3))] == ["f1", "f2"]
    with pytest.raises(Exception, match="no service named 'nope'"):
        service_record(state, "nope")


def test_unit_and_jitter_are_the_first_52_bits_of_sha256_as_before() -> None:
    """The pinned audit exports and every scenario depend on these exact values."""
    for parts in (("jitter", "checkout", "cpu", 1.5), ("pod", "x", "v1", 0), ("a",)):
        text = "\x1f".join(str(p) for p in parts)
        assert unit(*parts) == int(hashlib.sha256(text.encode()).hexdigest()[:13], 16) / float(16**13)
    at = _at(3)
    assert jitter("checkout", "cpu", at) == 0.9 + 0.2 * unit("jitter", "checkout", "cpu", at.timestamp())
