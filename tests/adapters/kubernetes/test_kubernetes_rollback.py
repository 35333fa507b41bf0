"""End to end through the product's composition root: ACTIONDESK_KUBERNETES_URL and the pack's credential
enable the kubernetes pack; a scale runs; `rollbacks.request` undoes it through governance (production: sre
approves) and the executor, against the local API server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from k8sfake import TOKEN, FakeCluster, fake_api_server

from actiondesk.adapters.sandbox import DEFAULT_START, SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore
from actiondesk.agents.governance import PolicyData
from actiondesk.bot.wiring.root import Runtime, build_runtime
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.plan import ActionCall
from actiondesk.core.runs import RunStatus
from actiondesk.core.settings import Settings

SCALE = {"namespace": "payments", "deployment": "payment-gateway"}


@pytest.fixture
def runtime(store: SqlStore, database_url: str) -> Iterator[tuple[Runtime, FakeCluster]]:
    with fake_api_server() as (url, fake):
        fake.add("payments", "payment-gateway", "registry.example/payment-gateway:2.4.1", replicas=4)
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=database_url,
            kubernetes_url=url,
            pack_credentials={"kubernetes": TOKEN},
            verify_interval_seconds=1.0,
        )
        clock = SimulatedClock(DEFAULT_START)
        estate = SandboxEstate(default_estate(DEFAULT_START), clock)
        yield build_runtime(settings, store, estate, clock, PolicyData()), fake


def test_a_scale_is_rolled_back_through_governance(runtime: tuple[Runtime, FakeCluster]) -> None:
    rt, fake = runtime
    assert "scale_deployment" in rt.catalog.names()
    call = ActionCall(action="scale_deployment", params={**SCALE, "replicas": 2, "from_replicas": 4})
    run = rt.executor.execute(call, case_id=None, key="ops/scale-1").run
    assert run.status is RunStatus.SUCCEEDED
    assert fake.deployments[("payments", "payment-gateway")]["spec"]["replicas"] == 2

    case = rt.loop.run(rt.rollbacks.request("ops/scale-1", "carol").id)

    assert case.status is CaseStatus.AWAITING_APPROVAL, "production: the undo waits for sre like any change"
    (approval,) = rt.store.approvals(case.id, ApprovalStatus.PENDING)
    assert (approval.group, approval.requested_by) == ("sre", "carol")
    assert approval.call.params == {**SCALE, "replicas": 4, "from_replicas": 2}
    assert fake.deployments[("payments", "payment-gateway")]["spec"]["replicas"] == 2
    rt.approvals.decide(approval.id, "bob", True)
    case = rt.loop.run(case.id)
    assert case.status is CaseStatus.RESOLVED
    assert fake.deployments[("payments", "payment-gateway")]["spec"]["replicas"] == 4


def test_a_missing_credential_stops_the_runtime_from_building(store: SqlStore, database_url: str) -> None:
    settings = Settings(_env_file=None, database_url=database_url, kubernetes_url="http://127.0.0.1:9")  # type: ignore[call-arg]
    clock = SimulatedClock(DEFAULT_START)
    with pytest.raises(ConfigurationError, match="pack kubernetes: missing credential 'kubernetes'"):
        build_runtime(settings, store, SandboxEstate(default_estate(DEFAULT_START), clock), clock, PolicyData())
