"""The world `actiondesk serve` starts in when no scenario is named: beside the bad deploy, one of each thing the
README's walkthrough invites a newcomer to try, each of which ActionDesk can find and fix."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actiondesk.adapters.store import SqlStore
from actiondesk.bot.scenario.runner import scenario_policy
from actiondesk.bot.wiring.boot import serve_estate
from actiondesk.bot.wiring.root import build_runtime
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.finding import FindingKind
from actiondesk.core.settings import Settings

NOW = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)


def default_settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url, sandbox_scenario=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("reporter", "text", "kind", "status"),
    [
        ("alice", "the payment gateway is throwing 500s", FindingKind.BAD_DEPLOY, CaseStatus.AWAITING_APPROVAL),
        ("alice", "search is really slow", FindingKind.BAD_DEPLOY, CaseStatus.RESOLVED),
        ("frank", "my VPN is locked, I can't connect", FindingKind.VPN_LOCKED, CaseStatus.AWAITING_APPROVAL),
        ("alice", "the log disk on worker-1 is full", FindingKind.DISK_FULL, CaseStatus.AWAITING_APPROVAL),
    ],
    ids=["bad-deploy", "slow-search", "locked-vpn", "full-log-volume"],
)
def test_each_thing_to_try_in_the_default_world_is_found(
    store: SqlStore, database_url: str, reporter: str, text: str, kind: FindingKind, status: CaseStatus
) -> None:
    settings = default_settings(database_url)
    clock = SimulatedClock(NOW)
    estate, scenario = serve_estate(settings, store, clock)
    runtime = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings))
    case = runtime.loop.open_case(text, reporter)
    case = runtime.loop.run(case.id)

    assert case.finding is not None
    assert case.finding.kind is kind, case.finding.summary
    assert not case.finding.abstained
    assert case.status is status, [s.error for s in case.plan.steps] if case.plan else case.finding.summary


def test_the_default_world_has_two_chains_of_trouble_so_an_unnamed_report_is_asked_about(
    store: SqlStore, database_url: str
) -> None:
    settings = default_settings(database_url)
    clock = SimulatedClock(NOW)
    estate, scenario = serve_estate(settings, store, clock)
    runtime = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings))
    case = runtime.loop.run(runtime.loop.open_case("something is broken", "alice").id)

    assert case.status is CaseStatus.AWAITING_REPLY
    assert case.finding is not None
    assert set(case.finding.candidates) == {"checkout", "search"}
