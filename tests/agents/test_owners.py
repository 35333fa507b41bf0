"""Owners as data: services from the inventory (the sandbox's services carry theirs), the rest from an owners
file — other services, staples, request types, the fallback — with each team's channels and assignment group;
a bad file is refused naming the problem."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from actiondesk.adapters.sandbox import SandboxEstate, Scenario, default_estate
from actiondesk.agents.ownership import OwnerBook
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.estate import Owner
from actiondesk.core.finding import Finding, FindingKind
from actiondesk.core.plan import Plan

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ESTATE = SandboxEstate(default_estate(NOW), SimulatedClock(NOW))


def case(service: str | None = None, finding: FindingKind | None = None, runbook: str | None = None) -> Case:
    found = None
    if finding is not None:
        found = Finding(kind=finding, service=None, summary="s", confidence=0.95, abstained=False)
    plan = Plan(runbook=runbook, goal="g", steps=()) if runbook else None
    return Case(
        id="C-1",
        kind=CaseKind.REQUEST,
        title="t",
        text="t",
        reporter="alice",
        service=service,
        finding=found,
        plan=plan,
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_built_in_owners() -> None:
    book = OwnerBook.from_file(None, ESTATE)
    assert book.owner_of(case("payment-gateway")) == (Owner("payments", "payments-oncall"), "service:payment-gateway")
    assert book.owner_of(case("orders-db"))[0] == Owner("data", "dba-oncall")
    assert book.owner_of(case(finding=FindingKind.DISK_FULL)) == (Owner("platform", "sre"), "staple:disk_full")
    assert book.owner_of(case(finding=FindingKind.VPN_LOCKED))[0] == Owner("service-desk", "support")
    assert book.owner_of(case(runbook="onboarding")) == (Owner("it-support", "support"), "request_type:onboarding")
    assert book.owner_of(case("no-such-service")) == (Owner("service-desk", "support"), "default")
    assert ESTATE.members("payments-oncall") == frozenset({"grace"})


def test_an_owners_file_adds_services_teams_and_request_types(tmp_path: Path) -> None:
    path = tmp_path / "owners.yaml"
    path.write_text(
        """
default: {team: helpdesk, group: helpdesk}
services:
  ledger: {team: finance, group: finance-oncall}
  payment-gateway: {team: not-used, group: not-used}   # the inventory's own owner wins
request_types:
  rollback: {team: release, group: release-managers}
teams:
  payments: {slack_channel: C0PAY, teams_channel: "19:pay@thread.tacv2", assignment_group: Payments On-Call}
"""
    )
    book = OwnerBook.from_file(path, ESTATE)
    assert book.owner_of(case("ledger")) == (Owner("finance", "finance-oncall"), "service:ledger")
    assert book.owner_of(case("payment-gateway"))[0] == Owner("payments", "payments-oncall")
    assert book.owner_of(case(runbook="rollback"))[0] == Owner("release", "release-managers")
    assert book.owner_of(case(finding=FindingKind.DISK_FULL)) == (Owner("helpdesk", "helpdesk"), "default")
    assert book.team("payments").slack_channel == "C0PAY"
    assert book.assignment_group(Owner("payments", "payments-oncall")) == "Payments On-Call"
    assert book.assignment_group(Owner("finance", "finance-oncall")) == "finance-oncall"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("services: {}\n", "default: Field required"),
        ("default: {team: x}\n", "default.group: Field required"),
        (
            "default: {team: x, group: y}\nstaples: {disk_full: {team: p, group: q, pager: z}}\n",
            "staples.disk_full.pager",
        ),
        ("default: {team: x, group: y}\nteams: {p: {slack: C1}}\n", "teams.p.slack"),
        ("default: [oops\n", "cannot read the owners file"),
    ],
)
def test_a_bad_owners_file_is_refused_naming_the_problem(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "owners.yaml"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        OwnerBook.from_file(path, ESTATE)
    assert problem in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_owners_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot read the owners file"):
        OwnerBook.from_file(tmp_path / "nope.yaml", ESTATE)


def test_a_scenario_world_can_name_a_services_owner() -> None:
    world = {"services": {"search": {"owner": {"team": "discovery", "group": "discovery-oncall"}}}}
    state = Scenario.model_validate({"name": "t", "world": world}).build_world()
    estate = SandboxEstate(state, SimulatedClock(NOW))
    assert estate.service("search").owner == Owner("discovery", "discovery-oncall")
    assert estate.service("checkout").owner == Owner("storefront", "storefront-oncall")
    with pytest.raises(ValueError, match="group"):
        Scenario.model_validate({"name": "t", "world": {"services": {"search": {"owner": {"team": "x"}}}}})
