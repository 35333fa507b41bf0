from __future__ import annotations

from datetime import timedelta

import pytest

from actiondesk.adapters.sandbox import (
    DEFAULT_START,
    DeployEvent,
    FaultEvent,
    FaultKind,
    SandboxEstate,
    default_estate,
)
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ActionFailedError, UnknownServiceError

PG = "payment-gateway"
BASELINE = 0.004  # payment-gateway's baseline error rate in the default estate


def _bad_deploy(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(DeployEvent(service=PG, version="v2.5.0", commit="9f3c2ab"))
    clock.advance(60)
    estate.apply(FaultEvent(service=PG, kind=FaultKind.ERROR_RATE, value=0.35))
    clock.advance(600)


def test_series_points_run_from_start_by_step_up_to_end(estate: SandboxEstate, clock: SimulatedClock) -> None:
    end = clock.now()
    series = estate.error_rate(PG, end - timedelta(minutes=10), end, 60)
    assert series.service == PG
    assert series.metric == "error_rate"
    assert [p.at for p in series.points] == [end - timedelta(minutes=10 - i) for i in range(11)]
    assert all(0.9 * BASELINE <= p.value <= 1.1 * BASELINE for p in series.points)
    assert len({p.value for p in series.points}) > 1  # jittered, not flat
    assert estate.error_rate(PG, end, end - timedelta(seconds=1), 60).points == ()


def test_same_inputs_give_the_same_series() -> None:
    def run() -> tuple[object, ...]:
        clock = SimulatedClock(DEFAULT_START)
        estate = SandboxEstate(default_estate(DEFAULT_START), clock)
        _bad_deploy(estate, clock)
        end = clock.now()
        return (
            estate.error_rate(PG, end - timedelta(hours=1), end, 60),
            estate.latency_p95("checkout", end - timedelta(hours=1), end, 30),
            estate.logs("checkout", end - timedelta(minutes=5), end, limit=100),
        )

    assert run() == run()


def test_onset_is_visible_from_the_fault_on(estate: SandboxEstate, clock: SimulatedClock) -> None:
    _bad_deploy(estate, clock)
    fault_at = DEFAULT_START + timedelta(seconds=60)
    series = estate.error_rate(PG, DEFAULT_START - timedelta(minutes=5), clock.now(), 30)
    before = [p.value for p in series.points if p.at < fault_at]
    after = [p.value for p in series.points if p.at >= fault_at]
    assert before
    assert after
    assert max(before) <= 1.1 * BASELINE
    assert all(0.35 <= v <= 0.35 + 1.1 * BASELINE for v in after)


def test_rollback_of_a_scripted_bad_deploy_returns_to_baseline_at_the_next_point(
    estate: SandboxEstate, clock: SimulatedClock
) -> None:
    _bad_deploy(estate, clock)
    rolled_at = clock.now()
    estate.rollback(PG, "v2.4.1", reason="5xx after v2.5.0")
    assert estate.service(PG).version == "v2.4.1"
    clock.advance(120)
    series = estate.error_rate(PG, rolled_at - timedelta(seconds=60), clock.now(), 60)
    values = [p.value for p in series.points]
    assert values[0] > 0.35  # the minute before the rollback
    assert all(v <= 1.1 * BASELINE for v in values[1:])  # from the rollback on
    assert estate.state.faults[0].bound_version == "v2.5.0"


def test_rolling_forward_again_brings_a_bound_fault_back(estate: SandboxEstate, clock: SimulatedClock) -> None:
    _bad_deploy(estate, clock)
    estate.rollback(PG, "v2.4.1", reason="bad")
    clock.advance(60)
    estate.rollback(PG, "v2.5.0", reason="undo")
    assert estate.error_rate(PG, clock.now(), clock.now(), 60).points[0].value > 0.35


def test_a_fault_with_no_preceding_change_survives_a_rollback(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(FaultEvent(service=PG, kind=FaultKind.ERROR_RATE, value=0.3))
    assert estate.state.faults[0].bound_version is None
    clock.advance(300)
    estate.rollback(PG, "v2.4.0", reason="try the release before")
    clock.advance(120)
    series = estate.error_rate(PG, clock.now() - timedelta(minutes=2), clock.now(), 60)
    assert all(p.value >= 0.3 for p in series.points)


def test_a_fault_with_a_duration_ends_by_itself(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(FaultEvent(service="search", kind=FaultKind.ERROR_RATE, value=0.2, duration=120))
    clock.advance(300)
    values = [p.value for p in estate.error_rate("search", DEFAULT_START, clock.now(), 60).points]
    assert values[:2] == [pytest.approx(v, abs=0.01) for v in (0.205, 0.205)]
    assert all(v < 0.01 for v in values[2:])


def test_latency_and_network_delay(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(FaultEvent(service="orders-db", kind=FaultKind.NETWORK_DELAY, value=400))
    estate.apply(FaultEvent(service="search", kind=FaultKind.LATENCY, value=900))
    clock.advance(10)  # a caller feels what it calls one hop (5 s) later
    now = clock.now()
    p95 = {s.name: estate.latency_p95(s.name, now, now, 60).points[0].value for s in estate.services()}
    assert p95["orders-db"] >= 400 + 0.9 * 120
    assert p95["payment-gateway"] >= 400 + 0.9 * 180  # it calls orders-db
    assert p95["checkout"] >= 400 + 0.9 * 240  # through payment-gateway
    assert 900 + 0.9 * 150 <= p95["search"] <= 900 + 1.1 * 150
    assert estate.error_rate("checkout", now, now, 60).points[0].value < 0.01


def test_crash_loop_raises_the_error_rate_until_a_restart(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(FaultEvent(service="checkout", kind=FaultKind.CRASH_LOOP))
    clock.advance(60)
    assert estate.error_rate("checkout", clock.now(), clock.now(), 60).points[0].value >= 0.5
    estate.restart_service("checkout")
    assert estate.error_rate("checkout", clock.now(), clock.now(), 60).points[0].value < 0.01


def test_bad_queries(estate: SandboxEstate, clock: SimulatedClock) -> None:
    now = clock.now()
    with pytest.raises(UnknownServiceError):
        estate.error_rate("billing", now - timedelta(minutes=5), now, 60)
    with pytest.raises(ActionFailedError, match="step"):
        estate.error_rate(PG, now - timedelta(minutes=5), now, 0)
    with pytest.raises(ActionFailedError, match="maximum resolution"):
        estate.latency_p95(PG, now - timedelta(days=30), now, 1)
