"""The Kubernetes adapter against a local API server that follows the documented contract (k8sfake)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from k8sfake import TOKEN, FakeCluster, fake_api_server

from actiondesk.adapters.kubernetes import KubernetesCluster
from actiondesk.core.errors import ActionFailedError, NotFoundError


@pytest.fixture
def api() -> Iterator[tuple[KubernetesCluster, FakeCluster]]:
    with fake_api_server() as (url, fake):
        yield KubernetesCluster.connect(url, TOKEN), fake


def test_reads_deployment_history_pods_and_events(api: tuple[KubernetesCluster, FakeCluster]) -> None:
    cluster, _ = api
    web = cluster.deployment("shop", "web")
    assert (web.replicas, web.revision, web.images) == (3, 2, ("registry.example/web:1.1",))
    assert [(r.revision, r.images) for r in cluster.history("shop", "web")] == [
        (1, ("registry.example/web:1.0",)),
        (2, ("registry.example/web:1.1",)),
    ]
    pods = cluster.pods("shop", "web")
    assert len(pods) == 3
    assert all(p.ready and p.phase == "Running" for p in pods)
    (event,) = cluster.events("shop", "web")
    assert (event.type, event.reason, event.count) == ("Warning", "BackOff", 4)


def test_restart_patches_the_template_annotation_like_kubectl(api: tuple[KubernetesCluster, FakeCluster]) -> None:
    cluster, fake = api
    at = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)

    restarted = cluster.restart("shop", "web", at)

    assert restarted.restarted_at == "2026-11-25T10:30:00Z"
    assert restarted.revision == 3, "a template change makes a new ReplicaSet revision"
    assert ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", "application/strategic-merge-patch+json") in (
        fake.requests
    )
    template = fake.deployments[("shop", "web")]["spec"]["template"]
    assert template["metadata"]["annotations"] == {"kubectl.kubernetes.io/restartedAt": "2026-11-25T10:30:00Z"}


def test_undo_puts_the_revisions_template_back(api: tuple[KubernetesCluster, FakeCluster]) -> None:
    cluster, fake = api
    undone = cluster.undo("shop", "web", 1)
    assert undone.images == ("registry.example/web:1.0",)
    assert undone.revision == 3, "the old ReplicaSet comes back as the newest revision"
    template = fake.deployments[("shop", "web")]["spec"]["template"]
    assert "pod-template-hash" not in template["metadata"]["labels"]
    assert [r.revision for r in cluster.history("shop", "web")] == [2, 3]


def test_scale_uses_the_scale_subresource(api: tuple[KubernetesCluster, FakeCluster]) -> None:
    cluster, fake = api
    assert cluster.scale("shop", "web", 5).replicas == 5
    assert fake.requests[-2] == (
        "PATCH",
        "/apis/apps/v1/namespaces/shop/deployments/web/scale",
        "application/merge-patch+json",
    )


def test_errors_are_ours_with_the_api_servers_message(api: tuple[KubernetesCluster, FakeCluster]) -> None:
    cluster, _ = api
    with pytest.raises(NotFoundError, match=r'deployments\.apps "nope" not found'):
        cluster.deployment("shop", "nope")
    with pytest.raises(NotFoundError, match="no revision 9"):
        cluster.undo("shop", "web", 9)


def test_a_wrong_token_is_refused_without_leaking_it() -> None:
    with fake_api_server() as (url, _):
        cluster = KubernetesCluster.connect(url, "wrong-token")
        with pytest.raises(ActionFailedError, match="refused the service account") as caught:
            cluster.deployment("shop", "web")
        assert "wrong-token" not in str(caught.value)


def test_an_unreachable_api_server_is_an_action_failure() -> None:
    with fake_api_server() as (url, _):
        pass
    with pytest.raises(ActionFailedError, match="unreachable"):
        KubernetesCluster.connect(url, TOKEN).deployment("shop", "web")
