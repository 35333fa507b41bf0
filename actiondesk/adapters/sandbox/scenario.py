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


class RootCause(_Strict):
    service: str
    commit: Commit


class Expect(_Strict):
    """What a run must show. A key left out is not checked; ``root_cause: null`` means triage must abstain."""

    root_cause: RootCause | None = None
    actions: tuple[str, ...] | None = None
    decisions: tuple[Outcome, ...] | None = None
    status: Literal["resolved", "escalated", "failed", "awaiting_approval", "scheduled"] | None = None

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

    def prelude(self) -> tuple[ScenarioEvent, ...]:
        """The world events before the first message, alert, approve or reject (what ``serve`` starts from)."""
        head: list[ScenarioEvent] = []
        for event in self.events:
            if event.world_event is None:
                break
            head.append(event)
        return tuple(head)
