"""Log volumes on hosts: look, clear a full one (its logs archived first), put the archive back."""

from __future__ import annotations

from pydantic import Field, JsonValue

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import HostName
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.governance import Risk
from actiondesk.core.plan import ActionCall
from actiondesk.core.systems import Volume

FULL_PCT = 90.0


class HostInput(ActionInput):
    host: HostName


class VolumeOutput(ActionOutput):
    volume: Volume
    archive: str | None = None

    def summary(self) -> str:
        v = self.volume
        archived = f" (archived to {self.archive})" if self.archive else ""
        return f"{v.host}:{v.path} is {v.used_pct:.0f}% full{archived}"


class GetLogVolume(ActionSpec[HostInput, VolumeOutput]):
    name = "get_log_volume"
    description = "How full a host's log volume is."
    pack = "hosts"
    scope = "hosts:read"
    risk = Risk.READ
    input_model = HostInput
    output_model = VolumeOutput

    target_kind = "host"

    def target(self, params: HostInput) -> str:
        return params.host

    def run(self, ctx: ActionContext, params: HostInput) -> VolumeOutput:
        return VolumeOutput(volume=need(ctx.volumes, "log volumes").volume(params.host))


class ClearLogVolume(ActionSpec[HostInput, VolumeOutput]):
    name = "clear_log_volume"
    description = "Archive a full log volume's logs, then rotate them out (only when the volume is over 90% full)."
    pack = "hosts"
    scope = "hosts:write"
    risk = Risk.MEDIUM
    destructive = True
    input_model = HostInput
    output_model = VolumeOutput

    target_kind = "host"

    def target(self, params: HostInput) -> str:
        return params.host

    def observe(self, ctx: ActionContext, params: HostInput) -> dict[str, JsonValue]:
        return {"host": params.host, "used_pct": need(ctx.volumes, "log volumes").volume(params.host).used_pct}

    def drift(self, observed: dict[str, JsonValue], params: HostInput) -> str | None:
        used = observed.get("used_pct")
        if isinstance(used, int | float) and used < FULL_PCT:
            return f"{params.host}'s log volume is {used:.0f}% full now, under {FULL_PCT:.0f}%; not clearing it"
        return None

    def snapshot(self, ctx: ActionContext, params: HostInput) -> dict[str, JsonValue]:
        volumes = need(ctx.volumes, "log volumes")
        used = volumes.volume(params.host).used_pct
        return {"host": params.host, "used_pct": used, "archive": volumes.archive_volume(params.host)}

    def inverse(self, snapshot: dict[str, JsonValue], params: HostInput) -> ActionCall | None:
        archive, used = snapshot.get("archive"), snapshot.get("used_pct")
        if not isinstance(archive, str) or not isinstance(used, int | float):
            return None
        return ActionCall(
            action="restore_log_volume", params={"host": params.host, "archive": archive, "used_pct": used}
        )

    def run(self, ctx: ActionContext, params: HostInput) -> VolumeOutput:
        return VolumeOutput(volume=need(ctx.volumes, "log volumes").clear_volume(params.host))

    def verify(self, ctx: ActionContext, params: HostInput, output: VolumeOutput) -> str | None:
        used = need(ctx.volumes, "log volumes").volume(params.host).used_pct
        return None if used < FULL_PCT else f"{params.host}'s log volume is still {used:.0f}% full"


class RestoreInput(HostInput):
    archive: str = Field(pattern=r"^archive://[a-z0-9.-]+/[A-Za-z0-9._/-]+$", description="Where the logs went.")
    used_pct: float = Field(ge=0, le=100, description="How full the volume was when it was archived.")


class RestoreLogVolume(ActionSpec[RestoreInput, VolumeOutput]):
    name = "restore_log_volume"
    description = "Put archived logs back on a host's log volume (the undo of clear_log_volume)."
    pack = "hosts"
    scope = "hosts:write"
    risk = Risk.MEDIUM
    input_model = RestoreInput
    output_model = VolumeOutput

    target_kind = "host"

    def target(self, params: RestoreInput) -> str:
        return params.host

    def snapshot(self, ctx: ActionContext, params: RestoreInput) -> dict[str, JsonValue]:
        return {"host": params.host, "used_pct": need(ctx.volumes, "log volumes").volume(params.host).used_pct}

    def inverse(self, snapshot: dict[str, JsonValue], params: RestoreInput) -> ActionCall | None:
        return ActionCall(action="clear_log_volume", params={"host": params.host})

    def run(self, ctx: ActionContext, params: RestoreInput) -> VolumeOutput:
        volume = need(ctx.volumes, "log volumes").restore_volume(params.host, params.archive, params.used_pct)
        return VolumeOutput(volume=volume, archive=params.archive)

    def verify(self, ctx: ActionContext, params: RestoreInput, output: VolumeOutput) -> str | None:
        used = need(ctx.volumes, "log volumes").volume(params.host).used_pct
        return None if abs(used - params.used_pct) < 0.01 else f"{params.host} is {used:.0f}% full, not restored"


HOSTS = Pack(
    name="hosts",
    scopes=frozenset({"hosts:read", "hosts:write"}),
    actions=(GetLogVolume(), ClearLogVolume(), RestoreLogVolume()),
    service_account="actiondesk-hosts",
    description="Log volumes on the estate's hosts.",
)
