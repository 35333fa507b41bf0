"""A service's deployments on one timeline: what CI/CD reported (the stored change events) and what Argo CD and
Kubernetes remember (application history, rollout revisions), newest first.

The stored event of a release and the cluster's record of the same release are one deployment: a history entry
whose version a stored deploy names within ``SAME_RELEASE`` of it is left out (the event says more: its author,
commit and previous version).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from actiondesk.core.catalog import ArgoCdRef, ChangeEvent, KubernetesRef
from actiondesk.core.estate import Deployment
from actiondesk.core.ports import Cluster, Releases
from actiondesk.core.systems import Application, Release, RolloutRevision

SAME_RELEASE = timedelta(minutes=15)


def image_tag(image: str) -> str:
    """``registry:5000/shop/pay:v2.5.0`` → ``v2.5.0``; a digest or an untagged image → the image itself."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else image


def same_commit(a: str, b: str) -> bool:
    """Short and full hashes of one commit match."""
    return bool(a) and bool(b) and (a.startswith(b) or b.startswith(a))


def release_version(release: Release, events: Sequence[ChangeEvent]) -> str:
    """What people call the release: the version a stored deploy of its commit names, else its target revision
    (a tag), else its short commit."""
    for event in reversed(events):
        if event.kind == "deploy" and event.version and same_commit(event.commit or "", release.revision):
            return event.version
    return release.target_revision or release.revision[:12]


def stored(events: Sequence[ChangeEvent]) -> list[Deployment]:
    return [
        Deployment(
            service=e.service,
            version=e.version or "",
            commit=e.commit or "",
            deployed_at=e.at,
            author=e.author,
            kind="deploy",
            id=e.id,
            previous_version=e.previous_version or "",
        )
        for e in events
        if e.kind == "deploy"
    ]


def from_argocd(service: str, app: Application, events: Sequence[ChangeEvent]) -> list[Deployment]:
    return [
        Deployment(
            service=service,
            version=release_version(r, events),
            commit=r.revision[:12],
            deployed_at=r.deployed_at,
            author="argocd",
            kind="deploy",
            id=f"argocd:{app.name}#{r.id}",
        )
        for r in sorted(app.history, key=lambda r: r.id, reverse=True)  # newest first: ties keep that order
        if r.deployed_at is not None
    ]


def from_rollouts(service: str, ref: KubernetesRef, revisions: Sequence[RolloutRevision]) -> list[Deployment]:
    return [
        Deployment(
            service=service,
            version=image_tag(r.images[0]) if r.images else "",
            commit="",
            deployed_at=r.created_at,
            author=r.change_cause or "kubernetes",
            kind="deploy",
            id=f"kubernetes:{ref.namespace}/{ref.deployment}#{r.revision}",
        )
        for r in sorted(revisions, key=lambda r: r.revision, reverse=True)  # newest first: ties keep that order
        if r.created_at is not None
    ]


def merged(reported: list[Deployment], remembered: list[Deployment]) -> list[Deployment]:
    """Newest first; a remembered release that a reported deploy already stands for is left out."""

    def known(d: Deployment) -> bool:
        return any(r.version == d.version and abs(r.deployed_at - d.deployed_at) <= SAME_RELEASE for r in reported)

    every = list(reversed(reported)) + [d for d in remembered if not known(d)]
    return sorted(every, key=lambda d: d.deployed_at, reverse=True)  # stable: equal times stay newest first


def argocd_history(releases: Releases, ref: ArgoCdRef) -> Application:
    return releases.application(ref.application)


def rollout_history(cluster: Cluster, ref: KubernetesRef) -> list[RolloutRevision]:
    return cluster.history(ref.namespace, ref.deployment)


def newest(items: Sequence[Deployment], before: datetime | None = None) -> Deployment | None:
    found = [d for d in items if before is None or d.deployed_at <= before]
    return max(found, key=lambda d: d.deployed_at, default=None)
