"""Kubernetes over its REST API (httpx): Deployments, ReplicaSets, pods and events behind the Cluster port."""

from actiondesk.adapters.kubernetes.cluster import KubernetesCluster

__all__ = ["KubernetesCluster"]
