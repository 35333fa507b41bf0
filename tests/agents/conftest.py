"""Builders for the agents' integration tests: the product's runtime over the real store and sandbox estate,
on simulated time, with every setting given explicitly (nothing is read from the developer's environment)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from pydantic import JsonValue

from actiondesk.adapters.sandbox import (
    DEFAULT_START,
    DeployEvent,
    DeployKind,
    EstateState,
    FaultEvent,
    SandboxEstate,
    Scenario,
    default_estate,
)
from actiondesk.adapters.store import SqlStore
from actiondesk.agents.governance import PolicyData
from actiondesk.bot.wiring.root import Runtime, build_runtime
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.case import Case
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.settings import Settings

START = DEFAULT_START
BAD_REPORT = "payment gateway is throwing 500s"


def make_settings(database_url: str, **overrides: object) -> Settings:
    """Every field the loop depends on, set explicitly; no .env file is read."""
    fields: dict[str, object] = {
        "database_url": database_url,
        "agent_identity": "actiondesk",
        "max_steps": 12,
        "approval_ttl_seconds": 3600,
        "verify_timeout_seconds": 120.0,
        "verify_interval_seconds": 10.0,
        "triage_lookback_minutes": 60,
        "change_window_minutes": 30,
        "lease_seconds": 30.0,
        "autonomy": {},
        "granted_scopes": {},
        "runbook_dir": None,
        "sandbox_scenario": None,
    }
    fields.update(overrides)
    return Settings(_env_file=None, **fields)  # type: ignore[call-arg]


def world_state(world: dict[str, JsonValue] | None) -> EstateState:
    """The default estate at START, with a scenario-style ``world`` (services, people) laid over it."""
    if not world:
        return default_estate(START)
    return Scenario.model_validate({"name": "test", "world": world}).build_world()


@dataclass
class Desk:
    """One runtime, as the product builds it, plus the handles a test pokes at."""

    runtime: Runtime
    store: SqlStore
    estate: SandboxEstate
    clock: SimulatedClock

    # The world
    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def deploy(self, service: str, version: str, commit: str) -> None:
        self.estate.apply(DeployEvent(service=service, version=version, commit=commit, author="dave"))

    def fault(self, service: str, value: float = 0.35, kind: str = "error_rate") -> None:
        self.estate.apply(FaultEvent(service=service, kind=kind, value=value))

    def bad_deploy(self, service: str = "payment-gateway", version: str = "v2.5.0", commit: str = "9f3c2ab") -> None:
        """The classic story: a deploy, a minute later a third of the requests fail, a minute later a report."""
        self.deploy(service, version, commit)
        self.wait(60)
        self.fault(service)
        self.wait(60)

    def rollbacks(self, service: str) -> list[str]:
        """Versions the service was rolled back to, oldest first."""
        return [
            d.version for d in self.estate.state.deployments if d.service == service and d.kind is DeployKind.ROLLBACK
        ]

    # The conversation
    def report(self, text: str = BAD_REPORT, user: str = "alice") -> Case:
        case = self.runtime.loop.open_case(text, user)
        return self.runtime.loop.run(case.id)

    def pending(self, case_id: str) -> list[Approval]:
        return self.store.approvals(case_id, ApprovalStatus.PENDING)

    def approve(self, case_id: str, person: str = "bob") -> Case:
        (approval,) = self.pending(case_id)
        self.runtime.approvals.decide(approval.id, person, True)
        return self.runtime.loop.run(case_id)

    def audit(self, case_id: str) -> list[AuditEntry]:
        return list(self.store.audit(case_id))

    def kinds(self, case_id: str) -> list[AuditKind]:
        return [e.kind for e in self.audit(case_id)]


MakeDesk = Callable[..., Desk]


@pytest.fixture
def make_desk(store: SqlStore, database_url: str) -> MakeDesk:
    """``make_desk(policy=..., world=..., state=..., estate_type=..., **settings)``: a fresh runtime on the test's
    store (``estate_type``: a SandboxEstate subclass that breaks on purpose)."""

    def build(
        *,
        policy: PolicyData | None = None,
        world: dict[str, JsonValue] | None = None,
        state: EstateState | None = None,
        estate_type: type[SandboxEstate] = SandboxEstate,
        **settings: object,
    ) -> Desk:
        clock = SimulatedClock(START)
        estate = estate_type(state if state is not None else world_state(world), clock)
        runtime = build_runtime(make_settings(database_url, **settings), store, estate, clock, policy or PolicyData())
        return Desk(runtime, store, estate, clock)

    return build


@pytest.fixture
def desk(make_desk: MakeDesk) -> Desk:
    """The default estate and default policy (production asks sre; staging runs on its own)."""
    return make_desk()
