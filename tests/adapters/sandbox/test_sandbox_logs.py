from __future__ import annotations

import re
from datetime import timedelta

import pytest

from actiondesk.adapters.sandbox import DeployEvent, FaultEvent, FaultKind, SandboxEstate
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import UnknownServiceError

PG = "payment-gateway"


@pytest.fixture
def failing(estate: SandboxEstate, clock: SimulatedClock) -> SandboxEstate:
    estate.apply(DeployEvent(service=PG, version="v2.5.0", commit="9f3c2ab"))
    clock.advance(60)
    estate.apply(FaultEvent(service=PG, kind=FaultKind.ERROR_RATE, value=0.35))
    clock.advance(600)
    return estate


def test_lines_are_oldest_first_within_the_window_with_trace_ids(estate: SandboxEstate, clock: SimulatedClock) -> None:
    end = clock.now()
    start = end - timedelta(minutes=5)
    lines = estate.logs("checkout", start, end, limit=500)
    assert 60 <= len(lines) <= 120  # a few requests every 10 s
    assert [ln.at for ln in lines] == sorted(ln.at for ln in lines)
    assert all(start <= ln.at <= end and ln.service == "checkout" for ln in lines)
    assert all(re.fullmatch(r"[0-9a-f]{32}", ln.trace_id) for ln in lines)
    assert {ln.level for ln in lines} == {"INFO"}
    assert all(ln.version == "v3.12.0" for ln in lines)


def test_limit_keeps_the_newest(estate: SandboxEstate, clock: SimulatedClock) -> None:
    end = clock.now()
    every = estate.logs(PG, end - timedelta(minutes=5), end, limit=500)
    assert estate.logs(PG, end - timedelta(minutes=5), end, limit=7) == every[-7:]
    assert estate.logs(PG, end - timedelta(minutes=5), end) == every[-50:]
    assert estate.logs(PG, end - timedelta(minutes=5), end, limit=0) == []


def test_errors_name_the_version_in_proportion_to_the_fault(failing: SandboxEstate, clock: SimulatedClock) -> None:
    end = clock.now()
    lines = failing.logs(PG, end - timedelta(minutes=5), end, limit=500)
    errors = [ln for ln in lines if ln.level == "ERROR"]
    assert 0.2 <= len(errors) / len(lines) <= 0.5
    assert all("-> 500 PaymentRouterError" in ln.message and "(version v2.5.0)" in ln.message for ln in errors)
    assert failing.logs(PG, end - timedelta(minutes=5), end, level="error", limit=500) == errors
    before = failing.logs(PG, end - timedelta(minutes=30), end - timedelta(minutes=11), level="ERROR")
    assert before == []


def test_a_trace_is_found_in_every_service_it_crossed(failing: SandboxEstate, clock: SimulatedClock) -> None:
    end = clock.now()
    start = end - timedelta(minutes=10)
    error = failing.logs(PG, start, end, level="ERROR", limit=1)[0]
    in_checkout = failing.logs("checkout", start, end, trace_id=error.trace_id)
    assert len(in_checkout) == 1
    assert in_checkout[0].level == "ERROR"
    assert "502 upstream payment-gateway" in in_checkout[0].message
    assert failing.logs(PG, start, end, trace_id=error.trace_id) == [error]
    downstream = failing.logs("orders-db", start, end, trace_id=error.trace_id)
    assert len(downstream) == 1
    assert downstream[0].level == "INFO"
    assert failing.logs("search", start, end, trace_id=error.trace_id) == []


def test_trace_filter_respects_the_window_and_bad_ids(failing: SandboxEstate, clock: SimulatedClock) -> None:
    end = clock.now()
    error = failing.logs(PG, end - timedelta(minutes=10), end, level="ERROR", limit=1)[0]
    assert failing.logs(PG, end - timedelta(hours=2), end - timedelta(hours=1), trace_id=error.trace_id) == []
    assert failing.logs(PG, end - timedelta(minutes=10), end, trace_id="not-a-trace") == []
    assert failing.logs(PG, end - timedelta(minutes=10), end, trace_id="0" * 32) == []


def test_rollback_stops_the_errors(failing: SandboxEstate, clock: SimulatedClock) -> None:
    failing.rollback(PG, "v2.4.1", reason="bad deploy")
    start = clock.now()
    clock.advance(300)
    assert failing.logs(PG, start, clock.now(), level="ERROR") == []
    assert failing.logs("checkout", start, clock.now(), level="ERROR") == []


def test_long_windows_are_bounded_work(estate: SandboxEstate, clock: SimulatedClock) -> None:
    end = clock.now()
    assert estate.logs(PG, end - timedelta(days=30), end, level="ERROR") == []
    assert len(estate.logs(PG, end - timedelta(days=30), end, limit=10_000)) == 1_000
    assert estate.logs(PG, end - timedelta(days=1), end, level="DEBUG") == []


def test_unknown_service(estate: SandboxEstate, clock: SimulatedClock) -> None:
    with pytest.raises(UnknownServiceError):
        estate.logs("billing", clock.now() - timedelta(minutes=1), clock.now())


def test_crash_loop_and_latency_show_in_the_logs(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(FaultEvent(service="search", kind=FaultKind.CRASH_LOOP, value=0.6))
    estate.apply(FaultEvent(service="checkout", kind=FaultKind.LATENCY, value=1500))
    clock.advance(120)
    start = clock.now() - timedelta(minutes=2)
    warn = estate.logs("search", start, clock.now(), level="WARN")
    assert any("Back-off restarting failed container search" in ln.message for ln in warn)
    assert any("503" in ln.message for ln in estate.logs("search", start, clock.now(), level="ERROR"))
    assert all("(slow)" in ln.message for ln in estate.logs("checkout", start, clock.now(), level="WARN"))
    assert estate.logs("checkout", start, clock.now(), level="WARNING")


def test_a_rollback_between_log_buckets_takes_effect_at_once(failing: SandboxEstate, clock: SimulatedClock) -> None:
    clock.advance(5.5)  # not on a 10-second boundary
    rolled_at = clock.now()
    failing.rollback(PG, "v2.4.1", reason="bad deploy")
    clock.advance(60)
    lines = failing.logs(PG, rolled_at - timedelta(seconds=30), clock.now(), limit=500)
    assert all(ln.version == "v2.4.1" and ln.level == "INFO" for ln in lines if ln.at >= rolled_at)
    assert all(ln.version == "v2.5.0" for ln in lines if ln.at < rolled_at)
    assert any(ln.level == "ERROR" for ln in lines if ln.at < rolled_at)
