"""KubernetesCluster: what kubectl's rollout restart, rollout undo, scale, get pods and describe events do."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from actiondesk.adapters.kubernetes.api import JSON_PATCH, MERGE, STRATEGIC_MERGE, ApiServer
from actiondesk.core.errors import NotFoundError
from actiondesk.core.systems import ClusterEvent, Pod, RolloutRevision, Workload

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Annotations `kubectl rollout undo` leaves alone when it copies a ReplicaSet's annotations back.
_SKIPPED_ANNOTATIONS = frozenset(
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    }
)


def _deployments(namespace: str, name: str) -> str:
    return f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"


def _images(template: dict[str, Any]) -> tuple[str, ...]:
    return tuple(c.get("image", "") for c in template.get("spec", {}).get("containers", []))


def _selector(deployment: dict[str, Any]) -> str:
    labels = deployment.get("spec", {}).get("selector", {}).get("matchLabels", {})
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _workload(body: dict[str, Any]) -> Workload:
    meta, spec, status = body.get("metadata", {}), body.get("spec", {}), body.get("status", {})
    template = spec.get("template", {})
    return Workload(
        namespace=meta.get("namespace", ""),
        name=meta.get("name", ""),
        replicas=int(spec.get("replicas", 1)),
        ready_replicas=int(status.get("readyReplicas", 0)),
        revision=int(meta.get("annotations", {}).get(REVISION, 0)),
        restarted_at=template.get("metadata", {}).get("annotations", {}).get(RESTARTED_AT),
        images=_images(template),
        generation=int(meta.get("generation", 0)),
    )


class KubernetesCluster:
    def __init__(self, api: ApiServer) -> None:
        self._api = api

    @classmethod
    def connect(cls, url: str, token: str, *, verify: bool | str = True) -> KubernetesCluster:
        return cls(ApiServer(url, token, verify=verify))

    def deployment(self, namespace: str, name: str) -> Workload:
        return _workload(self._api.get(_deployments(namespace, name)))

    def restart(self, namespace: str, name: str, at: datetime) -> Workload:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        return _workload(self._api.patch(_deployments(namespace, name), patch, STRATEGIC_MERGE))

    def scale(self, namespace: str, name: str, replicas: int) -> Workload:
        self._api.patch(_deployments(namespace, name) + "/scale", {"spec": {"replicas": replicas}}, MERGE)
        return self.deployment(namespace, name)

    def _replica_sets(self, namespace: str, name: str) -> list[dict[str, Any]]:
        deployment = self._api.get(_deployments(namespace, name))
        uid = deployment.get("metadata", {}).get("uid")
        listed = self._api.get(f"/apis/apps/v1/namespaces/{namespace}/replicasets", labelSelector=_selector(deployment))
        owned = [
            rs
            for rs in listed.get("items", [])
            if any(o.get("uid") == uid for o in rs.get("metadata", {}).get("ownerReferences", []))
        ]
        return sorted(owned, key=lambda rs: int(rs["metadata"].get("annotations", {}).get(REVISION, 0)))

    def history(self, namespace: str, name: str) -> list[RolloutRevision]:
        return [
            RolloutRevision(
                revision=int(rs["metadata"].get("annotations", {}).get(REVISION, 0)),
                replica_set=rs["metadata"]["name"],
                images=_images(rs.get("spec", {}).get("template", {})),
                created_at=rs["metadata"].get("creationTimestamp"),
                change_cause=rs["metadata"].get("annotations", {}).get(CHANGE_CAUSE),
            )
            for rs in self._replica_sets(namespace, name)
        ]

    def undo(self, namespace: str, name: str, to_revision: int) -> Workload:
        """kubectl's rollback: JSON-patch the Deployment's pod template (and annotations) to the ReplicaSet's."""
        sets = self._replica_sets(namespace, name)
        chosen = next((rs for rs in sets if int(rs["metadata"]["annotations"].get(REVISION, 0)) == to_revision), None)
        if chosen is None:
            raise NotFoundError(f"{namespace}/{name} has no revision {to_revision}")
        template = copy.deepcopy(chosen["spec"]["template"])
        template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
        deployment = self._api.get(_deployments(namespace, name))
        annotations = {
            k: v for k, v in deployment["metadata"].get("annotations", {}).items() if k in _SKIPPED_ANNOTATIONS
        }
        annotations |= {
            k: v for k, v in chosen["metadata"].get("annotations", {}).items() if k not in _SKIPPED_ANNOTATIONS
        }
        patch = [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]
        return _workload(self._api.patch(_deployments(namespace, name), patch, JSON_PATCH))

    def pods(self, namespace: str, name: str) -> list[Pod]:
        deployment = self._api.get(_deployments(namespace, name))
        listed = self._api.get(f"/api/v1/namespaces/{namespace}/pods", labelSelector=_selector(deployment))
        pods = []
        for item in listed.get("items", []):
            statuses = item.get("status", {}).get("containerStatuses", [])
            pods.append(
                Pod(
                    name=item["metadata"]["name"],
                    phase=item.get("status", {}).get("phase", "Unknown"),
                    ready=bool(statuses) and all(s.get("ready") for s in statuses),
                    restarts=sum(int(s.get("restartCount", 0)) for s in statuses),
                    node=item.get("spec", {}).get("nodeName"),
                )
            )
        return pods

    def events(self, namespace: str, name: str) -> list[ClusterEvent]:
        selector = f"involvedObject.name={name},involvedObject.namespace={namespace}"
        listed = self._api.get(f"/api/v1/namespaces/{namespace}/events", fieldSelector=selector)
        events = []
        for item in listed.get("items", []):
            involved = item.get("involvedObject", {})
            events.append(
                ClusterEvent(
                    type=item.get("type", ""),
                    reason=item.get("reason", ""),
                    message=item.get("message", ""),
                    object=f"{involved.get('kind', '')}/{involved.get('name', '')}",
                    count=int(item.get("count") or 1),
                    last_seen=item.get("lastTimestamp") or None,
                )
            )
        return events
