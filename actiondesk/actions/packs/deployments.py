"""Deployment history and rollback."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import ServiceName, Version
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall


class DeploymentRecord(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    version: str
    commit: str
    deployed_at: datetime
    author: str
    kind: str


class ListDeploymentsInput(ActionInput):
    service: ServiceName
    limit: int = Field(default=10, ge=1, le=100, description="At most this many, newest first.")


class ListDeploymentsOutput(ActionOutput):
    service: str
    deployments: tuple[DeploymentRecord, ...]

    def summary(self) -> str:
        if not self.deployments:
            return f"no deployments of {self.service}"
        newest = self.deployments[0]
        return f"{len(self.deployments)} deployments of {self.service}; newest {newest.version} ({newest.commit})"


class ListDeployments(ActionSpec[ListDeploymentsInput, ListDeploymentsOutput]):
    name = "list_deployments"
    description = "List a service's recent deployments with their versions and commit hashes, newest first."
    pack = "deployments"
    scope = "deployments:read"
    risk = Risk.READ
    input_model = ListDeploymentsInput
    output_model = ListDeploymentsOutput

    def run(self, ctx: ActionContext, params: ListDeploymentsInput) -> ListDeploymentsOutput:
        ctx.inventory.service(params.service)
        found = ctx.deployer.deployments(params.service, params.limit)
        records = tuple(
            DeploymentRecord(
                service=d.service,
                version=d.version,
                commit=d.commit,
                deployed_at=d.deployed_at,
                author=d.author,
                kind=d.kind,
            )
            for d in found
        )
        return ListDeploymentsOutput(service=params.service, deployments=records)


class RollbackInput(ActionInput):
    service: ServiceName
    to_version: Version = Field(description="The earlier version to deploy again.")
    from_version: Version | None = Field(
        default=None, description="The version expected to be live now; the rollback aborts if another is."
    )
    reason: str = Field(default="", max_length=500, description="Why, for the deployment record.")


class RollbackOutput(ActionOutput):
    service: str
    version: str
    commit: str
    deployed_at: datetime

    def summary(self) -> str:
        return f"{self.service} now runs {self.version} ({self.commit})"


class RollbackDeployment(ActionSpec[RollbackInput, RollbackOutput]):
    name = "rollback_deployment"
    description = "Deploy an earlier version of a service again (roll back a bad deploy)."
    pack = "deployments"
    scope = "deployments:write"
    risk = Risk.MEDIUM
    input_model = RollbackInput
    output_model = RollbackOutput

    def observe(self, ctx: ActionContext, params: RollbackInput) -> dict[str, JsonValue]:
        live = ctx.inventory.service(params.service)
        return {"service": params.service, "version": live.version}

    def drift(self, observed: dict[str, JsonValue], params: RollbackInput) -> str | None:
        live = observed.get("version")
        if live == params.to_version:
            return f"{params.service} already runs {params.to_version}; nothing to roll back"
        if params.from_version is not None and live != params.from_version:
            return (
                f"{params.service} now runs {live}, not {params.from_version} as planned; someone else changed it since"
            )
        return None

    def already_done(self, observed: dict[str, JsonValue], params: RollbackInput) -> bool:
        return observed.get("version") == params.to_version

    def snapshot(self, ctx: ActionContext, params: RollbackInput) -> dict[str, JsonValue]:
        current = ctx.deployer.deployments(params.service, 1)
        if not current:
            return {"service": params.service, "version": None, "commit": None}
        return {"service": params.service, "version": current[0].version, "commit": current[0].commit}

    def inverse(self, snapshot: dict[str, JsonValue], params: RollbackInput) -> ActionCall | None:
        version = snapshot.get("version")
        if not isinstance(version, str):
            return None
        return ActionCall(
            action=self.name,
            params={
                "service": params.service,
                "to_version": version,
                "from_version": params.to_version,
                "reason": f"undo rollback of {params.service} to {params.to_version}",
            },
        )

    def run(self, ctx: ActionContext, params: RollbackInput) -> RollbackOutput:
        deployed = ctx.deployer.rollback(params.service, params.to_version, reason=params.reason)
        return RollbackOutput(
            service=deployed.service,
            version=deployed.version,
            commit=deployed.commit,
            deployed_at=deployed.deployed_at,
        )

    def verify(self, ctx: ActionContext, params: RollbackInput, output: RollbackOutput) -> str | None:
        live = ctx.inventory.service(params.service).version
        if live != params.to_version:
            return f"{params.service} runs {live} after the rollback, not {params.to_version}"
        return None


DEPLOYMENTS = Pack(
    name="deployments",
    scopes=frozenset({"deployments:read", "deployments:write"}),
    actions=(ListDeployments(), RollbackDeployment()),
)
