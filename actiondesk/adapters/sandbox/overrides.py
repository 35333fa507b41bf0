"""A scenario's ``world``: overrides of the default services and additions to its directory."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from actiondesk.adapters.sandbox.default import seeded_deployment
from actiondesk.adapters.sandbox.events import ScalarText
from actiondesk.adapters.sandbox.timeline import digest
from actiondesk.adapters.sandbox.world import EstateState, OwnerRecord, PersonRecord, ServiceRecord

NEW_SERVICE_REQUIRES = ("tier", "environment", "version")


class ServiceSpec(BaseModel):
    """Fields left out keep the default estate's value (a new service must name tier, environment, version)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tier: int | None = Field(default=None, ge=0)
    environment: str | None = None
    version: str | None = None
    depends_on: tuple[str, ...] | None = None
    calls: tuple[str, ...] | None = None
    aliases: tuple[str, ...] | None = None
    description: str | None = None
    baseline_error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    baseline_latency_ms: float | None = Field(default=None, gt=0.0)
    baseline_cpu_pct: float | None = Field(default=None, gt=0.0, le=100.0)
    replicas: int | None = Field(default=None, ge=0)
    config: dict[str, ScalarText] | None = None
    flags: dict[str, ScalarText] | None = None
    owner: OwnerRecord | None = None


class PersonSpec(BaseModel):
    """A person added to (or changed in) the directory; ``email`` defaults to name@example.com."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: str | None = None
    groups: tuple[str, ...] | None = None
    slack_user_id: str | None = None
    teams_aad_object_id: str | None = None


class WorldSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    services: dict[str, ServiceSpec] = Field(default_factory=dict)
    people: dict[str, PersonSpec] = Field(default_factory=dict)


def previous_version(version: str) -> str | None:
    """v2.5.0 -> v2.4.0, v15.4 -> v15.3, v3.0.0 -> v2.0.0 style guess at the release before; None if none."""
    numbers = [int(n) for n in re.findall(r"\d+", version)]
    if not numbers or not re.fullmatch(r"[A-Za-z-]*\d+(\.\d+)*", version):
        return None
    for i in range(len(numbers) - 1, -1, -1):
        if numbers[i] > 0:
            numbers[i] -= 1
            prefix = re.match(r"[A-Za-z-]*", version)
            return (prefix.group(0) if prefix else "") + ".".join(str(n) for n in numbers)
    return None


def _changed(record: ServiceRecord, spec: ServiceSpec) -> ServiceRecord:
    fields = spec.model_dump(exclude_none=True)
    return ServiceRecord.model_validate({**record.model_dump(), **fields})  # validated: nested fields stay models


def _new(name: str, spec: ServiceSpec) -> ServiceRecord:
    return ServiceRecord.model_validate({"name": name, **spec.model_dump(exclude_none=True)})


def apply_world(state: EstateState, world: WorldSpec, start: datetime) -> EstateState:
    """The default estate with ``world`` laid over it. New versions get a seeded (not scripted) deployment."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    services = {s.name: s for s in state.services}
    deployments = list(state.deployments)
    for name, spec in world.services.items():
        old = services.get(name)
        record = _changed(old, spec) if old is not None else _new(name, spec)
        services[name] = record
        if old is not None and old.version == record.version:
            continue
        releases = [record.version]
        before = previous_version(record.version)
        if old is None and before is not None:
            releases.insert(0, before)
        for i, version in enumerate(reversed(releases)):
            at = day - timedelta(days=1 + 4 * i) + timedelta(hours=10)
            deployments.append(seeded_deployment(name, version, digest(name, version)[:7], "deploy-bot", at))
    people = dict(state.people)
    for name, person in world.people.items():
        fields = person.model_dump(exclude_none=True)
        current = people.get(name, PersonRecord(email=f"{name}@example.com"))
        people[name] = current.model_copy(update=fields)
    return state.model_copy(
        update={"services": tuple(services.values()), "deployments": tuple(deployments), "people": people}
    )
