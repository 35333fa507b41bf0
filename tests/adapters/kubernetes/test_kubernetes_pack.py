"""The kubernetes pack through the real executor and store against the local API server: execute, snapshot
and rollback of restart, undo and scale; the drift abort of the destructive ones (undo, scale)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from k8sfake import TOKEN, FakeCluster, fake_api_server
from packbench import execute, executor_with, refuses_drift, undo

from actiondesk.actions.executor import Executor
from actiondesk.actions.packs.kubernetes import KUBERNETES
from actiondesk.adapters.kubernetes import KubernetesCluster
from actiondesk.adapters.store import SqlStore
from actiondesk.core.errors import InvalidParametersError
from actiondesk.core.plan import ActionCall

WEB = {"namespace": "shop", "deployment": "web"}


@pytest.fixture
def k8s(store: SqlStore) -> Iterator[tuple[Executor, KubernetesCluster, FakeCluster]]:
    with fake_api_server() as (url, fake):
        cluster = KubernetesCluster.connect(url, TOKEN)
        yield executor_with(store, [KUBERNETES], cluster=cluster), cluster, fake


def test_restart_and_roll_it_back(k8s: tuple[Executor, KubernetesCluster, FakeCluster], store: SqlStore) -> None:
    executor, cluster, _ = k8s
    run = execute(executor, ActionCall(action="restart_deployment", params=WEB), "k/restart")

    assert cluster.deployment("shop", "web").restarted_at is not None
    assert run.snapshot == {"revision": 2, "restarted_at": None, "images": ["registry.example/web:1.1"]}
    undone = undo(executor, store, "k/restart")
    assert undone.params["to_revision"] == 2
    live = cluster.deployment("shop", "web")
    assert (live.restarted_at, live.images) == (None, ("registry.example/web:1.1",))


def test_undo_rollout_and_roll_it_back(k8s: tuple[Executor, KubernetesCluster, FakeCluster], store: SqlStore) -> None:
    executor, cluster, _ = k8s
    call = ActionCall(action="undo_rollout", params={**WEB, "from_revision": 2})

    run = execute(executor, call, "k/undo")

    assert cluster.deployment("shop", "web").images == ("registry.example/web:1.0",)
    assert run.snapshot == {"revision": 2, "images": ["registry.example/web:1.1"]}
    undo(executor, store, "k/undo")
    assert cluster.deployment("shop", "web").images == ("registry.example/web:1.1",)


def test_undo_rollout_aborts_when_someone_rolled_out_since(
    k8s: tuple[Executor, KubernetesCluster, FakeCluster], store: SqlStore
) -> None:
    executor, cluster, fake = k8s
    fake.set_image("shop", "web", "registry.example/web:1.2")  # revision 3 went out after the plan was made
    call = ActionCall(action="undo_rollout", params={**WEB, "from_revision": 2})
    refuses_drift(executor, store, call, "k/undo", "revision 3 now, not 2; someone rolled it since")
    assert cluster.deployment("shop", "web").images == ("registry.example/web:1.2",)


def test_scale_and_roll_it_back(k8s: tuple[Executor, KubernetesCluster, FakeCluster], store: SqlStore) -> None:
    executor, cluster, _ = k8s
    run = execute(executor, ActionCall(action="scale_deployment", params={**WEB, "replicas": 1}), "k/scale")

    assert cluster.deployment("shop", "web").replicas == 1
    assert run.snapshot == {"replicas": 3}
    undone = undo(executor, store, "k/scale")
    assert undone.params == {**WEB, "replicas": 3, "from_replicas": 1}
    assert cluster.deployment("shop", "web").replicas == 3


def test_scale_aborts_when_the_replica_count_drifted(
    k8s: tuple[Executor, KubernetesCluster, FakeCluster], store: SqlStore
) -> None:
    executor, cluster, _ = k8s
    call = ActionCall(action="scale_deployment", params={**WEB, "replicas": 0, "from_replicas": 5})
    refuses_drift(executor, store, call, "k/scale", "has 3 replicas now, not 5; someone scaled it since")
    assert cluster.deployment("shop", "web").replicas == 3


def test_reads_go_through_the_executor_as_probes(k8s: tuple[Executor, KubernetesCluster, FakeCluster]) -> None:
    executor, _, _ = k8s
    assert "3 pods, 3 ready" in executor.probe(ActionCall(action="list_pods", params=WEB), None).summary()
    history = executor.probe(ActionCall(action="rollout_history", params=WEB), None).summary()
    assert history == "rev 1: registry.example/web:1.0, rev 2: registry.example/web:1.1"
    events = executor.probe(ActionCall(action="list_kubernetes_events", params=WEB), None).summary()
    assert "BackOff" in events


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"namespace": "shop", "deploymnet": "web"}, "deploymnet: Extra inputs are not permitted"),
        ({**WEB, "replicas": "three"}, "replicas: Input should be a valid integer"),
        ({"namespace": "../kube-system", "deployment": "web", "replicas": 1}, "namespace: String should match"),
        ({"namespace": "shop", "deployment": "web; kubectl delete ns shop", "replicas": 1}, "deployment: String"),
    ],
)
def test_hallucinated_parameters_never_reach_the_api(
    k8s: tuple[Executor, KubernetesCluster, FakeCluster], params: dict, problem: str
) -> None:
    executor, _, fake = k8s
    with pytest.raises(InvalidParametersError, match=problem):
        executor.execute(ActionCall(action="scale_deployment", params=params), case_id=None, key="k/bad")
    assert fake.requests == []
