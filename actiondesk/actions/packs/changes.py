"""Changes of every kind on one timeline, and the inverse of each kind that is not a deploy: set a config key
back, switch a feature flag back, scale back to the previous replica count. (A deploy's inverse is
``rollback_deployment`` in the deployments pack.)"""

from __future__ import annotations

from abc import abstractmethod
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import ServiceName
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.estate import Change
from actiondesk.core.finding import Culprit
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.ports import Configurator

ConfigKey = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$",
        description="A configuration key or feature-flag name as the service knows it, e.g. cartFailure.",
    ),
]
ConfigValue = Annotated[str, Field(max_length=500, description="The value, as text.")]
Replicas = Annotated[int, Field(ge=0, le=500, description="A replica count.")]


class ChangeEntry(BaseModel):
    """One change of any kind; the fields of its kind are set, the others are null."""

    model_config = ConfigDict(frozen=True)

    id: str
    service: str
    kind: str = Field(description="deploy, rollback, config_change, flag, scale or restart.")
    at: datetime
    author: str
    version: str | None = None
    previous_version: str | None = None
    commit: str | None = None
    previous_commit: str | None = None
    key: str | None = None
    value: str | None = None
    previous_value: str | None = None
    replicas: int | None = None
    previous_replicas: int | None = None

    def described(self) -> str:
        """The change as people read it: ``shipping v1.9.0 (5be1c0d)``, ``cart config cartFailure=true (was
        false)``."""
        return self.culprit().described(with_previous=True)

    def culprit(self) -> Culprit:
        """This change as the cause of trouble (a finding's culprit)."""
        return Culprit(
            service=self.service,
            kind=self.kind,
            at=self.at,
            change_id=self.id,
            author=self.author,
            version=self.version,
            commit=self.commit,
            previous_version=self.previous_version,
            previous_commit=self.previous_commit,
            key=self.key,
            value=self.value,
            previous_value=self.previous_value,
            replicas=self.replicas,
            previous_replicas=self.previous_replicas,
        )


class ListChangesInput(ActionInput):
    service: ServiceName
    minutes: int = Field(default=1440, ge=1, le=20160, description="How far back to look.")


class ListChangesOutput(ActionOutput):
    service: str
    changes: tuple[ChangeEntry, ...] = Field(description="Oldest first.")

    def summary(self) -> str:
        if not self.changes:
            return f"no changes to {self.service}"
        newest = self.changes[-1]
        return f"{len(self.changes)} changes to {self.service}; newest {newest.kind} at {newest.at:%H:%M:%S}"


def _entry(change: Change) -> ChangeEntry:
    d = change.detail
    fields: dict[str, JsonValue] = {}
    if change.kind in ("config_change", "flag"):
        fields = {"key": d.get("key"), "value": d.get("value"), "previous_value": d.get("previous")}
    elif change.kind in ("scale", "restart"):
        fields = {"replicas": int(d["replicas"]) if "replicas" in d else None}
        if "previous" in d:
            fields["previous_replicas"] = int(d["previous"])
    return ChangeEntry.model_validate(
        {"id": change.id, "service": change.service, "kind": change.kind, "at": change.at, "author": change.author}
        | fields
    )


class ListChanges(ActionSpec[ListChangesInput, ListChangesOutput]):
    name = "list_changes"
    description = (
        "List every change to a service on one timeline, oldest first: deploys and rollbacks (version, commit), "
        "config changes and feature flags (key, value, previous value), scaling (replicas, previous) and restarts."
    )
    pack = "changes"
    scope = "changes:read"
    risk = Risk.READ
    input_model = ListChangesInput
    output_model = ListChangesOutput

    def run(self, ctx: ActionContext, params: ListChangesInput) -> ListChangesOutput:
        ctx.inventory.service(params.service)
        end = ctx.clock.now()
        start = end - timedelta(minutes=params.minutes)
        history = ctx.deployer.deployments(params.service, 100)  # newest first
        entries: list[ChangeEntry] = []
        for i, d in enumerate(history):
            if not start <= d.deployed_at <= end:
                continue
            before = history[i + 1] if i + 1 < len(history) else None
            entries.append(
                ChangeEntry(
                    id=d.id or f"{d.service}@{d.version}",
                    service=d.service,
                    kind=d.kind,
                    at=d.deployed_at,
                    author=d.author,
                    version=d.version,
                    commit=d.commit,
                    previous_version=d.previous_version or (before.version if before else None),
                    previous_commit=before.commit if before and d.previous_version in ("", before.version) else None,
                )
            )
        entries += [_entry(c) for c in ctx.deployer.changes(params.service, start, end)]
        entries.sort(key=lambda e: e.at)
        return ListChangesOutput(service=params.service, changes=tuple(entries))


# The inverses


class SetConfigInput(ActionInput):
    service: ServiceName
    key: ConfigKey
    value: ConfigValue | None = Field(description="The value to set; null removes the key.")
    expected: ConfigValue | None = Field(
        default=None, description="The value expected to be live now; the change aborts if another is."
    )
    reason: str = Field(default="", max_length=500, description="Why, for the change record.")


class SettingOutput(ActionOutput):
    service: str
    key: str
    value: str | None
    change_id: str

    def summary(self) -> str:
        return f"{self.service} {self.key} is now {self.value if self.value is not None else '(unset)'}"


class _SetKey(ActionSpec[SetConfigInput, SettingOutput]):
    """Shared by config keys and feature flags: the same observe, drift, snapshot, inverse and verify."""

    input_model = SetConfigInput
    output_model = SettingOutput

    @abstractmethod
    def _current(self, port: Configurator, service: str) -> dict[str, str]:
        """The live keys this action sets (config keys or feature flags)."""

    @abstractmethod
    def _set(self, port: Configurator, params: SetConfigInput) -> Change:
        """Make the change through the port; the Change it recorded."""

    def run(self, ctx: ActionContext, params: SetConfigInput) -> SettingOutput:
        ctx.inventory.service(params.service)
        change = self._set(self._port(ctx), params)
        return SettingOutput(service=params.service, key=params.key, value=params.value, change_id=change.id)

    def _port(self, ctx: ActionContext) -> Configurator:
        return need(ctx.configurator, "runtime configuration")

    def observe(self, ctx: ActionContext, params: SetConfigInput) -> dict[str, JsonValue]:
        current = self._current(self._port(ctx), params.service)
        return {"service": params.service, "key": params.key, "value": current.get(params.key)}

    def drift(self, observed: dict[str, JsonValue], params: SetConfigInput) -> str | None:
        live = observed.get("value")
        if live == params.value:
            return f"{params.service} {params.key} is already {params.value}; nothing to change"
        if params.expected is not None and live != params.expected:
            return f"{params.service} {params.key} is now {live}, not {params.expected} as planned; someone changed it"
        return None

    def already_done(self, observed: dict[str, JsonValue], params: SetConfigInput) -> bool:
        return observed.get("value") == params.value

    def snapshot(self, ctx: ActionContext, params: SetConfigInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: SetConfigInput) -> ActionCall | None:
        if "value" not in snapshot:
            return None
        before = snapshot["value"]
        return ActionCall(
            action=self.name,
            params={
                "service": params.service,
                "key": params.key,
                "value": before if isinstance(before, str) else None,
                "expected": params.value,
                "reason": f"undo: set {params.key} back",
            },
        )

    def verify(self, ctx: ActionContext, params: SetConfigInput, output: SettingOutput) -> str | None:
        live = self._current(self._port(ctx), params.service).get(params.key)
        if live != params.value:
            return f"{params.service} {params.key} reads {live} after the change, not {params.value}"
        return None


class SetConfigValue(_SetKey):
    name = "set_config_value"
    description = (
        "Set a service's configuration key to a value (null removes it); used to revert a bad config change "
        "to its previous value."
    )
    pack = "changes"
    scope = "config:write"
    risk = Risk.MEDIUM

    def _current(self, port: Configurator, service: str) -> dict[str, str]:
        return port.config(service)

    def _set(self, port: Configurator, params: SetConfigInput) -> Change:
        return port.set_config(params.service, params.key, params.value, reason=params.reason)


class SetFeatureFlag(_SetKey):
    name = "set_feature_flag"
    description = (
        "Switch a service's feature flag to a value (null removes it); used to switch a flag that broke the "
        "service back to its previous value."
    )
    pack = "changes"
    scope = "flags:write"
    risk = Risk.LOW

    def _current(self, port: Configurator, service: str) -> dict[str, str]:
        return port.flags(service)

    def _set(self, port: Configurator, params: SetConfigInput) -> Change:
        return port.set_flag(params.service, params.key, params.value, reason=params.reason)


class ScaleInput(ActionInput):
    service: ServiceName
    replicas: Replicas
    expected_replicas: Replicas | None = Field(
        default=None, description="The replica count expected now; the scaling aborts if another is live."
    )
    reason: str = Field(default="", max_length=500, description="Why, for the change record.")


class ScaleOutput(ActionOutput):
    service: str
    replicas: int
    change_id: str

    def summary(self) -> str:
        return f"{self.service} scaled to {self.replicas} replicas"


class ScaleService(ActionSpec[ScaleInput, ScaleOutput]):
    name = "scale_service"
    description = "Scale a service to a replica count; used to scale back a change that left it short of capacity."
    pack = "changes"
    scope = "scale:write"
    risk = Risk.MEDIUM
    input_model = ScaleInput
    output_model = ScaleOutput

    def observe(self, ctx: ActionContext, params: ScaleInput) -> dict[str, JsonValue]:
        return {"service": params.service, "replicas": need(ctx.configurator, "scaling").replicas(params.service)}

    def drift(self, observed: dict[str, JsonValue], params: ScaleInput) -> str | None:
        live = observed.get("replicas")
        if live == params.replicas:
            return f"{params.service} already runs {params.replicas} replicas; nothing to scale"
        if params.expected_replicas is not None and live != params.expected_replicas:
            return f"{params.service} now runs {live} replicas, not {params.expected_replicas} as planned"
        return None

    def already_done(self, observed: dict[str, JsonValue], params: ScaleInput) -> bool:
        return observed.get("replicas") == params.replicas

    def snapshot(self, ctx: ActionContext, params: ScaleInput) -> dict[str, JsonValue]:
        return self.observe(ctx, params)

    def inverse(self, snapshot: dict[str, JsonValue], params: ScaleInput) -> ActionCall | None:
        before = snapshot.get("replicas")
        if not isinstance(before, int):
            return None
        return ActionCall(
            action=self.name,
            params={
                "service": params.service,
                "replicas": before,
                "expected_replicas": params.replicas,
                "reason": f"undo: scale {params.service} back to {before}",
            },
        )

    def run(self, ctx: ActionContext, params: ScaleInput) -> ScaleOutput:
        ctx.inventory.service(params.service)
        change = need(ctx.configurator, "scaling").scale(params.service, params.replicas, reason=params.reason)
        return ScaleOutput(service=params.service, replicas=params.replicas, change_id=change.id)

    def verify(self, ctx: ActionContext, params: ScaleInput, output: ScaleOutput) -> str | None:
        live = need(ctx.configurator, "scaling").replicas(params.service)
        if live != params.replicas:
            return f"{params.service} runs {live} replicas after scaling, not {params.replicas}"
        return None


CHANGES = Pack(
    name="changes",
    scopes=frozenset({"changes:read", "config:write", "flags:write", "scale:write"}),
    actions=(ListChanges(), SetConfigValue(), SetFeatureFlag(), ScaleService()),
)
