"""Kubernetes Deployments: read pods, events and rollout history; restart, roll back, scale."""

from __future__ import annotations

from pydantic import Field, JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import K8sName
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Cluster
from actiondesk.core.systems import ClusterEvent, Pod, RolloutRevision, Workload


class WorkloadInput(ActionInput):
    namespace: K8sName
    deployment: K8sName


def _cluster(ctx: ActionContext) -> Cluster:
    return need(ctx.cluster, "Kubernetes")


class _OnDeployment:
    def target(self, params: WorkloadInput) -> str:
        """The Deployment's name: governance decides it as the estate's service of that name."""
        return params.deployment


class WorkloadOutput(ActionOutput):
    workload: Workload

    def summary(self) -> str:
        w = self.workload
        return f"{w.namespace}/{w.name}: revision {w.revision}, {w.ready_replicas}/{w.replicas} ready"


class PodsOutput(ActionOutput):
    pods: tuple[Pod, ...]

    def summary(self) -> str:
        ready = sum(p.ready for p in self.pods)
        return f"{len(self.pods)} pods, {ready} ready, {sum(p.restarts for p in self.pods)} restarts"


class ListPods(_OnDeployment, ActionSpec[WorkloadInput, PodsOutput]):
    name = "list_pods"
    description = "The pods of a Deployment: phase, readiness, restarts, node."
    pack, scope, risk = "kubernetes", "kubernetes:read", Risk.READ
    input_model, output_model = WorkloadInput, PodsOutput

    def run(self, ctx: ActionContext, params: WorkloadInput) -> PodsOutput:
        return PodsOutput(pods=tuple(_cluster(ctx).pods(params.namespace, params.deployment)))


class EventsOutput(ActionOutput):
    events: tuple[ClusterEvent, ...]

    def summary(self) -> str:
        warnings = [e for e in self.events if e.type == "Warning"]
        return f"{len(self.events)} events, {len(warnings)} warnings" + (
            f"; latest warning {warnings[-1].reason}: {warnings[-1].message}" if warnings else ""
        )


class ListEvents(_OnDeployment, ActionSpec[WorkloadInput, EventsOutput]):
    name = "list_kubernetes_events"
    description = "Kubernetes events about a Deployment (what `kubectl describe` shows at the bottom)."
    pack, scope, risk = "kubernetes", "kubernetes:read", Risk.READ
    input_model, output_model = WorkloadInput, EventsOutput

    def run(self, ctx: ActionContext, params: WorkloadInput) -> EventsOutput:
        return EventsOutput(events=tuple(_cluster(ctx).events(params.namespace, params.deployment)))


class HistoryOutput(ActionOutput):
    revisions: tuple[RolloutRevision, ...]

    def summary(self) -> str:
        return ", ".join(f"rev {r.revision}: {' '.join(r.images)}" for r in self.revisions) or "no revisions"


class RolloutHistory(_OnDeployment, ActionSpec[WorkloadInput, HistoryOutput]):
    name = "rollout_history"
    description = "A Deployment's rollout history (revisions and their images), oldest first."
    pack, scope, risk = "kubernetes", "kubernetes:read", Risk.READ
    input_model, output_model = WorkloadInput, HistoryOutput

    def run(self, ctx: ActionContext, params: WorkloadInput) -> HistoryOutput:
        return HistoryOutput(revisions=tuple(_cluster(ctx).history(params.namespace, params.deployment)))


def _undo_to(params: WorkloadInput, snapshot: dict[str, JsonValue], current: int | None) -> ActionCall | None:
    revision = snapshot.get("revision")
    if not isinstance(revision, int) or revision < 1:
        return None
    call: dict[str, JsonValue] = {
        "namespace": params.namespace,
        "deployment": params.deployment,
        "to_revision": revision,
    }
    if current is not None:
        call["from_revision"] = current
    return ActionCall(action="undo_rollout", params=call)


class RestartDeployment(_OnDeployment, ActionSpec[WorkloadInput, WorkloadOutput]):
    name = "restart_deployment"
    description = "Restart a Deployment's pods one by one, as `kubectl rollout restart` does (a hung worker)."
    pack, scope, risk = "kubernetes", "kubernetes:write", Risk.LOW
    input_model, output_model = WorkloadInput, WorkloadOutput

    def snapshot(self, ctx: ActionContext, params: WorkloadInput) -> dict[str, JsonValue]:
        w = _cluster(ctx).deployment(params.namespace, params.deployment)
        return {"revision": w.revision, "restarted_at": w.restarted_at, "images": list(w.images)}

    def inverse(self, snapshot: dict[str, JsonValue], params: WorkloadInput) -> ActionCall | None:
        return _undo_to(params, snapshot, None)  # the pod template as it was before the restart annotation

    def run(self, ctx: ActionContext, params: WorkloadInput) -> WorkloadOutput:
        return WorkloadOutput(workload=_cluster(ctx).restart(params.namespace, params.deployment, ctx.clock.now()))

    def verify(self, ctx: ActionContext, params: WorkloadInput, output: WorkloadOutput) -> str | None:
        live = _cluster(ctx).deployment(params.namespace, params.deployment)
        if live.restarted_at != output.workload.restarted_at or live.restarted_at is None:
            return f"{params.namespace}/{params.deployment} does not carry the restart annotation"
        return None


class UndoInput(WorkloadInput):
    to_revision: int | None = Field(default=None, ge=1, description="Revision to go back to; default the previous.")
    from_revision: int | None = Field(
        default=None, ge=1, description="The revision expected live now; the rollback aborts if another is."
    )


class UndoRollout(_OnDeployment, ActionSpec[UndoInput, WorkloadOutput]):
    name = "undo_rollout"
    description = "Roll a Deployment back to an earlier revision (default: the previous), as `kubectl rollout undo`."
    pack, scope, risk = "kubernetes", "kubernetes:write", Risk.MEDIUM
    destructive = True
    input_model, output_model = UndoInput, WorkloadOutput

    def observe(self, ctx: ActionContext, params: UndoInput) -> dict[str, JsonValue]:
        cluster = _cluster(ctx)
        live = cluster.deployment(params.namespace, params.deployment).revision
        earlier = [r.revision for r in cluster.history(params.namespace, params.deployment) if r.revision < live]
        target = params.to_revision or (max(earlier) if earlier else None)
        return {"revision": live, "target": target}

    def drift(self, observed: dict[str, JsonValue], params: UndoInput) -> str | None:
        live, target = observed.get("revision"), observed.get("target")
        where = f"{params.namespace}/{params.deployment}"
        if params.from_revision is not None and live != params.from_revision:
            return f"{where} is at revision {live} now, not {params.from_revision}; someone rolled it since"
        if target is None:
            return f"{where} has no earlier revision to go back to"
        if target == live:
            return f"{where} already runs revision {live}"
        return None

    def snapshot(self, ctx: ActionContext, params: UndoInput) -> dict[str, JsonValue]:
        w = _cluster(ctx).deployment(params.namespace, params.deployment)
        return {"revision": w.revision, "images": list(w.images)}

    def inverse(self, snapshot: dict[str, JsonValue], params: UndoInput) -> ActionCall | None:
        return _undo_to(params, snapshot, None)

    def run(self, ctx: ActionContext, params: UndoInput) -> WorkloadOutput:
        cluster = _cluster(ctx)
        target = self.observe(ctx, params)["target"]
        assert isinstance(target, int)
        return WorkloadOutput(workload=cluster.undo(params.namespace, params.deployment, target))

    def verify(self, ctx: ActionContext, params: UndoInput, output: WorkloadOutput) -> str | None:
        cluster = _cluster(ctx)
        live = cluster.deployment(params.namespace, params.deployment)
        newest = max(cluster.history(params.namespace, params.deployment), key=lambda r: r.revision)
        return None if live.images == newest.images else f"{live.name} runs {live.images}, not the rolled-back images"


class ScaleInput(WorkloadInput):
    replicas: int = Field(ge=0, le=200, description="The number of pods wanted.")
    from_replicas: int | None = Field(
        default=None, ge=0, description="The replica count expected now; scaling aborts if another is."
    )


class ScaleDeployment(_OnDeployment, ActionSpec[ScaleInput, WorkloadOutput]):
    name = "scale_deployment"
    description = "Set a Deployment's replica count (scaling down removes pods)."
    pack, scope, risk = "kubernetes", "kubernetes:write", Risk.MEDIUM
    destructive = True
    input_model, output_model = ScaleInput, WorkloadOutput

    def observe(self, ctx: ActionContext, params: ScaleInput) -> dict[str, JsonValue]:
        return {"replicas": _cluster(ctx).deployment(params.namespace, params.deployment).replicas}

    def drift(self, observed: dict[str, JsonValue], params: ScaleInput) -> str | None:
        live = observed.get("replicas")
        if params.from_replicas is not None and live != params.from_replicas:
            return (
                f"{params.namespace}/{params.deployment} has {live} replicas now, not {params.from_replicas}; "
                "someone scaled it since"
            )
        return None

    def already_done(self, observed: dict[str, JsonValue], params: ScaleInput) -> bool:
        return observed.get("replicas") == params.replicas

    def snapshot(self, ctx: ActionContext, params: ScaleInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: ScaleInput) -> ActionCall | None:
        replicas = snapshot.get("replicas")
        if not isinstance(replicas, int):
            return None
        return ActionCall(
            action=self.name,
            params={
                "namespace": params.namespace,
                "deployment": params.deployment,
                "replicas": replicas,
                "from_replicas": params.replicas,
            },
        )

    def run(self, ctx: ActionContext, params: ScaleInput) -> WorkloadOutput:
        return WorkloadOutput(workload=_cluster(ctx).scale(params.namespace, params.deployment, params.replicas))

    def verify(self, ctx: ActionContext, params: ScaleInput, output: WorkloadOutput) -> str | None:
        live = _cluster(ctx).deployment(params.namespace, params.deployment).replicas
        return None if live == params.replicas else f"{params.deployment} has {live} replicas, not {params.replicas}"


KUBERNETES = Pack(
    name="kubernetes",
    scopes=frozenset({"kubernetes:read", "kubernetes:write"}),
    actions=(ListPods(), ListEvents(), RolloutHistory(), RestartDeployment(), UndoRollout(), ScaleDeployment()),
    service_account="actiondesk-kubernetes",
    credential="kubernetes",
    description="Deployments in a Kubernetes cluster, over its API with a service-account token.",
)
