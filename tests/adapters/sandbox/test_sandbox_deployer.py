from __future__ import annotations

from datetime import timedelta

import pytest

from actiondesk.adapters.sandbox import ConfigChangeEvent, DeployEvent, SandboxEstate, ScaleEvent
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ActionFailedError, UnknownServiceError

PG = "payment-gateway"


def test_a_scripted_deploy_is_newest_and_sets_the_version(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(DeployEvent(service=PG, version="v2.5.0", commit="9f3c2ab", author="dave"))
    newest = estate.deployments(PG, limit=2)
    assert [d.version for d in newest] == ["v2.5.0", "v2.4.1"]
    assert (newest[0].commit, newest[0].deployed_at, newest[0].author) == ("9f3c2ab", clock.now(), "dave")
    assert estate.service(PG).version == "v2.5.0"
    assert estate.state.deployments[-1].scripted
    assert estate.live_version(PG, clock.now() - timedelta(seconds=1)) == "v2.4.1"
    assert estate.live_version(PG, clock.now()) == "v2.5.0"


def test_rollback_records_a_rollback_with_the_old_commit(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(DeployEvent(service=PG, version="v2.5.0", commit="9f3c2ab"))
    clock.advance(300)
    deployment = estate.rollback(PG, "v2.4.1", reason="5xx after v2.5.0")
    assert (deployment.version, deployment.commit, deployment.kind) == ("v2.4.1", "c7d19e4", "rollback")
    assert (deployment.author, deployment.deployed_at) == ("actiondesk", clock.now())
    assert estate.deployments(PG, 1) == [deployment]
    assert estate.service(PG).version == "v2.4.1"
    assert estate.state.deployments[-1].reason == "5xx after v2.5.0"


def test_rollback_to_a_version_never_deployed_fails(estate: SandboxEstate, snapshots: list[str]) -> None:
    with pytest.raises(ActionFailedError, match=r"v9\.9\.9"):
        estate.rollback(PG, "v9.9.9", reason="typo")
    with pytest.raises(ActionFailedError):
        estate.rollback(PG, "v15.4", reason="another service's version")
    with pytest.raises(UnknownServiceError):
        estate.rollback("billing", "v1", reason="no such service")
    assert estate.service(PG).version == "v2.4.1"
    assert snapshots == []


def test_deployments_limit(estate: SandboxEstate) -> None:
    assert len(estate.deployments(PG, limit=1)) == 1
    assert estate.deployments(PG, limit=0) == []
    with pytest.raises(UnknownServiceError):
        estate.deployments("billing")


def test_config_changes_and_scaling_are_listed_in_their_window(estate: SandboxEstate, clock: SimulatedClock) -> None:
    start = clock.now()
    estate.apply(ConfigChangeEvent(service=PG, key="ACQUIRER_TIMEOUT_MS", value="800"))
    clock.advance(30)
    estate.apply(ScaleEvent(service=PG, replicas=2))
    clock.advance(30)
    changes = estate.changes(PG, start, clock.now())
    assert [(c.kind, c.at) for c in changes] == [("config_change", start), ("scale", start + timedelta(seconds=30))]
    assert changes[0].detail == {"key": "ACQUIRER_TIMEOUT_MS", "value": "800"}
    assert changes[1].detail == {"replicas": "2", "previous": "4"}
    assert estate.state.services[0].replicas == 2
    assert estate.changes(PG, start + timedelta(seconds=1), clock.now()) == changes[1:]
    assert estate.changes("checkout", start, clock.now()) == []
    assert estate.deployments(PG, 1)[0].version == "v2.4.1"  # not deployments


def test_a_config_change_keeps_the_previous_value(estate: SandboxEstate, clock: SimulatedClock) -> None:
    estate.apply(ConfigChangeEvent(service=PG, key="RETRIES", value=3))
    estate.apply(ConfigChangeEvent(service=PG, key="RETRIES", value=True))
    assert estate.changes(PG, clock.now(), clock.now())[-1].detail == {
        "key": "RETRIES",
        "value": "true",
        "previous": "3",
    }
