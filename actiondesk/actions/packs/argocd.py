"""Argo CD applications: deployment history and rollback to an earlier history entry."""

from __future__ import annotations

from pydantic import Field, JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import K8sName
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.systems import Application


class AppInput(ActionInput):
    application: K8sName


class AppOutput(ActionOutput):
    application: Application

    def summary(self) -> str:
        a = self.application
        recent = ", ".join(f"#{r.id} {r.revision[:7]}" for r in a.history[-5:])
        return f"{a.name} runs {a.revision[:7]} ({a.sync_status}, {a.health}); history {recent}"


class GetApplication(ActionSpec[AppInput, AppOutput]):
    name = "get_application"
    description = "An Argo CD application's live revision, sync and health status, and deployment history."
    pack, scope, risk = "argocd", "argocd:read", Risk.READ
    input_model, output_model = AppInput, AppOutput

    target_kind = "application"

    def target(self, params: AppInput) -> str:
        return params.application

    def run(self, ctx: ActionContext, params: AppInput) -> AppOutput:
        return AppOutput(application=need(ctx.releases, "Argo CD").application(params.application))


class RollbackAppInput(AppInput):
    to_id: int | None = Field(default=None, ge=0, description="History id to go back to; default the previous one.")
    from_revision: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{7,40}$",
        description="The git revision expected live now; the rollback aborts if another is.",
    )


class RollbackApplication(ActionSpec[RollbackAppInput, AppOutput]):
    name = "rollback_application"
    description = "Roll an Argo CD application back to an earlier deployment in its history (default: previous)."
    pack, scope, risk = "argocd", "argocd:write", Risk.MEDIUM
    destructive = True
    input_model, output_model = RollbackAppInput, AppOutput

    target_kind = "application"

    def target(self, params: RollbackAppInput) -> str:
        return params.application

    def observe(self, ctx: ActionContext, params: RollbackAppInput) -> dict[str, JsonValue]:
        app = need(ctx.releases, "Argo CD").application(params.application)
        history = list(app.history)
        live = next((r for r in reversed(history) if r.revision == app.revision), None)
        if params.to_id is not None:
            target = next((r for r in history if r.id == params.to_id), None)
        else:
            target = next((r for r in reversed(history) if r.revision != app.revision), None)
        return {
            "revision": app.revision,
            "live_id": live.id if live else None,
            "target_id": target.id if target else None,
            "target_revision": target.revision if target else None,
        }

    def drift(self, observed: dict[str, JsonValue], params: RollbackAppInput) -> str | None:
        live = observed.get("revision")
        if params.from_revision is not None and live != params.from_revision:
            return f"{params.application} runs {live} now, not {params.from_revision}; someone deployed since"
        if observed.get("target_id") is None:
            return f"{params.application} has no such earlier deployment in its history"
        if observed.get("target_revision") == live:
            return f"{params.application} already runs {live}"
        return None

    def snapshot(self, ctx: ActionContext, params: RollbackAppInput) -> dict[str, JsonValue]:
        observed = self.observe(ctx, params)
        return {"revision": observed["revision"], "id": observed["live_id"]}

    def inverse(self, snapshot: dict[str, JsonValue], params: RollbackAppInput) -> ActionCall | None:
        release = snapshot.get("id")
        if not isinstance(release, int):
            return None
        return ActionCall(action=self.name, params={"application": params.application, "to_id": release})

    def run(self, ctx: ActionContext, params: RollbackAppInput) -> AppOutput:
        target = self.observe(ctx, params)["target_id"]
        assert isinstance(target, int)
        return AppOutput(application=need(ctx.releases, "Argo CD").rollback(params.application, target))

    def verify(self, ctx: ActionContext, params: RollbackAppInput, output: AppOutput) -> str | None:
        app = need(ctx.releases, "Argo CD").application(params.application)
        wanted = next((r.revision for r in app.history if params.to_id is not None and r.id == params.to_id), None)
        if wanted is not None and app.revision != wanted:
            return f"{app.name} runs {app.revision}, not {wanted}"
        return None if app.health != "Degraded" else f"{app.name} is Degraded after the rollback"


ARGOCD = Pack(
    name="argocd",
    scopes=frozenset({"argocd:read", "argocd:write"}),
    actions=(GetApplication(), RollbackApplication()),
    service_account="actiondesk-argocd",
    credential="argocd",
    description="Argo CD applications: deployment history and rollback.",
)
