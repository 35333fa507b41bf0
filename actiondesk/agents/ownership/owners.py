"""Owners: who a case belongs to when a person must take over, as data.

A service's owner comes from the inventory (a service catalog, the sandbox's services); what the inventory does
not say — other services, service-desk staples, request types, the fallback — comes from an owners file (the
built-in ``owners.yaml``, or ``ACTIONDESK_OWNERS_FILE``), which also says, per team, where its notices go and
which assignment group its tickets get.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from actiondesk.core import yamltext
from actiondesk.core.case import Case
from actiondesk.core.errors import ActionDeskError, ConfigurationError
from actiondesk.core.estate import Owner
from actiondesk.core.ports import Inventory


class OwnerSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    team: str = Field(min_length=1, max_length=100)
    group: str = Field(min_length=1, max_length=100)

    def owner(self) -> Owner:
        return Owner(self.team, self.group)


class TeamSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    slack_channel: str | None = None
    slack_usergroup: str | None = Field(default=None, description="Slack user group id (S...), mentioned at once.")
    teams_channel: str | None = None
    assignment_group: str | None = None


class OwnersFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    default: OwnerSpec
    services: dict[str, OwnerSpec] = Field(default_factory=dict)
    staples: dict[str, OwnerSpec] = Field(default_factory=dict)
    request_types: dict[str, OwnerSpec] = Field(default_factory=dict)
    teams: dict[str, TeamSpec] = Field(default_factory=dict)


def builtin_owners_path() -> Path:
    return Path(str(resources.files("actiondesk.agents.ownership") / "owners.yaml"))


class OwnerBook:
    def __init__(self, data: OwnersFile, inventory: Inventory) -> None:
        self.data = data
        self.inventory = inventory

    @classmethod
    def from_file(cls, path: Path | None, inventory: Inventory) -> OwnerBook:
        """Read and check an owners file (default: the built-in one); raise ConfigurationError naming the problem."""
        path = path or builtin_owners_path()
        try:
            raw = yamltext.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"{path}: cannot read the owners file: {exc}") from None
        try:
            return cls(OwnersFile.model_validate(raw), inventory)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
            raise ConfigurationError(f"{path}: {problems}") from None

    def service_owner(self, name: str) -> Owner | None:
        try:
            owner = self.inventory.service(name).owner
        except ActionDeskError:
            owner = None
        if owner is None and name in self.data.services:
            owner = self.data.services[name].owner()
        return owner

    def owner_of(self, case: Case) -> tuple[Owner, str]:
        """The case's owner and where that came from (``service:X``, ``staple:K``, ``request_type:R``, ``default``)."""
        service = case.service or (case.finding.service if case.finding else None)
        if service:
            owner = self.service_owner(service)
            if owner is not None:
                return owner, f"service:{service}"
        if case.finding is not None and case.finding.kind.value in self.data.staples:
            return self.data.staples[case.finding.kind.value].owner(), f"staple:{case.finding.kind.value}"
        kind = case.plan.runbook if case.plan is not None else None
        if kind and kind in self.data.request_types:
            return self.data.request_types[kind].owner(), f"request_type:{kind}"
        return self.data.default.owner(), "default"

    def team(self, name: str) -> TeamSpec:
        return self.data.teams.get(name, TeamSpec())

    def assignment_group(self, owner: Owner) -> str:
        return self.team(owner.team).assignment_group or owner.group
