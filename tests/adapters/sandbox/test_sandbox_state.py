from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from actiondesk.adapters.sandbox import (
    DEFAULT_START,
    ConfigChangeEvent,
    DeployEvent,
    EstateState,
    FaultEvent,
    FaultKind,
    MessageEvent,
    SandboxEstate,
    ScaleEvent,
    ScenarioEvent,
    SessionStatus,
    default_estate,
)
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import NotFoundError, ScenarioError

PG = "payment-gateway"


def _busy(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(DeployEvent(service=PG, version="v2.5.0", commit="9f3c2ab"))
    clock.advance(30)
    estate.apply(ConfigChangeEvent(service=PG, key="POOL_SIZE", value=20))
    estate.apply(ScaleEvent(service="checkout", replicas=8))
    estate.apply(FaultEvent(service=PG, kind=FaultKind.ERROR_RATE, value=0.35, duration=600))
    estate.apply(FaultEvent(kind=FaultKind.DISK_FULL))
    estate.apply(FaultEvent(kind=FaultKind.ACCOUNT_LOCKED, user="alice"))
    clock.advance(30)
    estate.rollback(PG, "v2.4.1", reason="bad deploy")


def test_state_json_round_trips(estate: SandboxEstate, clock: SimulatedClock) -> None:
    _busy(estate, clock)
    state = estate.state
    text = state.model_dump_json()
    again = EstateState.model_validate_json(text)
    assert again == state
    assert again.model_dump_json() == text


def test_a_restored_estate_answers_the_same(estate: SandboxEstate, clock: SimulatedClock) -> None:
    _busy(estate, clock)
    restored = SandboxEstate(EstateState.model_validate_json(estate.state.model_dump_json()), clock)
    end = clock.now()
    assert restored.error_rate(PG, end - timedelta(hours=1), end, 60) == estate.error_rate(
        PG, end - timedelta(hours=1), end, 60
    )
    assert restored.logs("checkout", end - timedelta(minutes=5), end) == estate.logs(
        "checkout", end - timedelta(minutes=5), end
    )
    assert restored.deployments(PG) == estate.deployments(PG)


def test_on_change_gets_the_state_after_every_mutation(
    estate: SandboxEstate, clock: SimulatedClock, snapshots: list[str]
) -> None:
    estate.error_rate(PG, clock.now(), clock.now(), 60)
    estate.logs(PG, clock.now() - timedelta(minutes=1), clock.now())
    assert snapshots == []
    _busy(estate, clock)
    assert len(snapshots) == 7
    assert EstateState.model_validate_json(snapshots[-1]) == estate.state
    assert EstateState.model_validate_json(snapshots[0]).deployments[-1].version == "v2.5.0"


def test_the_state_property_is_a_copy(estate: SandboxEstate) -> None:
    copy = estate.state
    copy.people["mallory"] = copy.people["alice"]
    assert estate.person("mallory") is None


def test_disk_full_and_its_remediation(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(FaultEvent(kind=FaultKind.DISK_FULL))
    assert estate.volume("worker-1").used_pct == 100.0
    assert estate.state.faults[0].host == "worker-1"
    clock.advance(60)
    assert estate.clear_volume("worker-1").used_pct < 62
    assert estate.state.faults[0].end == clock.now()
    with pytest.raises(NotFoundError):
        estate.volume("worker-9")


def test_account_locked_and_unlock(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(FaultEvent(kind=FaultKind.ACCOUNT_LOCKED, user="alice"))
    assert estate.vpn_session("alice") is SessionStatus.LOCKED
    assert estate.unlock_vpn_session("alice") is SessionStatus.ACTIVE
    assert estate.state.faults[0].end == clock.now()
    with pytest.raises(NotFoundError):
        estate.vpn_session("bob")


def test_apply_takes_a_scenario_event_and_an_explicit_instant(estate: SandboxEstate) -> None:
    earlier = DEFAULT_START - timedelta(minutes=10)
    event = ScenarioEvent(deploy=DeployEvent(service="search", version="v1.9.0", commit="3b7e1c4"))
    estate.apply(event, at=earlier)
    assert estate.deployments("search", 1)[0].deployed_at == earlier
    assert estate.live_version("search", earlier - timedelta(seconds=1)) == "v1.8.2"


def test_conversation_events_are_for_the_runner(estate: SandboxEstate, snapshots: list[str]) -> None:
    with pytest.raises(ScenarioError, match="runner"):
        estate.apply(ScenarioEvent(message=MessageEvent(user="alice", text="hi")))
    assert snapshots == []


def test_concurrent_rollbacks_are_serialised() -> None:
    clock = SimulatedClock(DEFAULT_START)
    snapshots: list[str] = []
    estate = SandboxEstate(default_estate(DEFAULT_START), clock, snapshots.append)
    versions = ["v2.4.0", "v2.3.9"] * 20

    def roll(version: str) -> None:
        estate.rollback(PG, version, reason="race")

    threads = [threading.Thread(target=roll, args=(v,)) for v in versions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(estate.state.deployments) == len(default_estate(DEFAULT_START).deployments) + 40
    assert len(snapshots) == 40
    assert EstateState.model_validate_json(snapshots[-1]) == estate.state
