"""The scenario file model (DESIGN §8). Keys are a contract: extend, never rename.

``parse_scenario`` / ``load_scenario`` in ``loader.py`` validate a file against it and against the world
it describes (known services and people, non-decreasing ``at``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from actiondesk.adapters.sandbox.default import default_estate
from actiondesk.adapters.sandbox.events import Commit, ScenarioEvent
from actiondesk.adapters.sandbox.overrides import WorldSpec, apply_world
from actiondesk.adapters.sandbox.world import EstateState, UtcDatetime
from actiondesk.core.governance import Outcome

DEFAULT_START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Window(_Strict):
    start: UtcDatetime
    end: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


class FreezeWindow(_Window):
    name: str
    services: tuple[str, ...] | None = Field(default=None, description="None: every service.")


class ChaosDay(_Window):
    service: str


class Policy(_Strict):
    freeze: tuple[FreezeWindow, ...] = ()
    chaos_days: tuple[ChaosDay, ...] = ()
    autonomy: dict[str, int] = Field(
        default_factory=dict, description='Level 0-3 per service, "service@environment" or "tier:N".'
    )


class ChangeSpec(_Strict):
    """The kind of change a root cause is, with the fields that identify it (a field left out is not checked)."""

    kind: Literal["deploy", "config_change", "flag", "scale"]
    key: str | None = Field(default=None, min_length=1, description="config_change and flag: the key.")
    replicas: int | None = Field(default=None, ge=0, description="scale: the replica count it set.")
    version: str | None = Field(default=None, description="deploy: the version.")
    commit: Commit | None = Field(default=None, description="deploy: the commit.")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> ChangeSpec:
        allowed = {
            "deploy": {"version", "commit"},
            "config_change": {"key"},
            "flag": {"key"},
            "scale": {"replicas"},
        }[self.kind]
        extra = sorted(self.model_fields_set - allowed - {"kind"})
        if extra:
            raise ValueError(f"a {self.kind} change has no {', '.join(extra)}")
        return self


class RootCause(_Strict):
    """``{service, commit}`` for a deploy (as before), or ``{service, change: {kind, ...}}`` for any kind."""

    service: str
    commit: Commit | None = None
    change: ChangeSpec | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RootCause:
        if (self.commit is None) == (self.change is None):
            raise ValueError("a root_cause names either a commit (a deploy) or a change: {kind, ...}")
        return self

    def shown(self) -> str:
        if self.commit is not None:
            return f"{self.service}@{self.commit}"
        assert self.change is not None
        detail = self.change.key or self.change.commit or self.change.version
        if self.change.replicas is not None:
            detail = f"replicas={self.change.replicas}"
        return f"{self.service} {self.change.kind}" + (f" {detail}" if detail else "")


class Expect(_Strict):
    """What a run must show. A key left out is not checked; ``root_cause: null`` means triage must abstain."""

    root_cause: RootCause | None = None
    actions: tuple[str, ...] | None = None
    decisions: tuple[Outcome, ...] | None = None
    status: Literal["resolved", "escalated", "failed", "awaiting_approval", "awaiting_reply", "scheduled"] | None = None

    @property
    def checks_root_cause(self) -> bool:
        return "root_cause" in self.model_fields_set


class Scenario(_Strict):
    name: str = Field(min_length=1)
    description: str | None = None
    world: WorldSpec = Field(default_factory=WorldSpec)
    policy: Policy = Field(default_factory=Policy)
    start: UtcDatetime = DEFAULT_START
    events: tuple[ScenarioEvent, ...] = ()
    expect: Expect = Field(default_factory=Expect)

    def build_world(self) -> EstateState:
        """The default estate at ``start`` with ``world`` laid over it."""
        return apply_world(default_estate(self.start), self.world, self.start)

    def instant(self, event: ScenarioEvent) -> datetime | None:
        """``start + at`` for an event with an ``at``; None for one that happens whenever it is reached."""
        return None if event.at is None else self.start + timedelta(seconds=event.at)

    @property
    def control(self) -> bool:
        """A control scenario: nothing should be blamed (``root_cause: null``)."""
        return self.expect.checks_root_cause and self.expect.root_cause is None

    def prelude(self) -> tuple[ScenarioEvent, ...]:
        """The world events before the first message, reply, alert, approve or reject (what ``serve`` starts
        from)."""
        head: list[ScenarioEvent] = []
        for event in self.events:
            if event.world_event is None:
                break
            head.append(event)
        return tuple(head)
