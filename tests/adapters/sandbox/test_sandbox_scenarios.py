from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from actiondesk.adapters.sandbox import (
    DEFAULT_START,
    DeployEvent,
    FaultEvent,
    SandboxEstate,
    Scenario,
    load_scenario,
    parse_scenario,
)
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ScenarioError

SCENARIOS = sorted((Path(__file__).parents[3] / "scenarios").glob("*.yaml"))

MINIMAL = """
name: t
events:
  - {at: 0, deploy: {service: payment-gateway, version: v2.5.0, commit: 9f3c2ab}}
  - {at: 60, fault: {service: payment-gateway, kind: error_rate, value: 0.35}}
  - {at: 120, message: {user: alice, text: "payment gateway is throwing 500s"}}
  - {approve: {user: bob}}
"""


def test_there_are_scenarios() -> None:
    names = {p.stem for p in SCENARIOS}
    assert names >= {"bad-deploy-rollback", "low-risk-autonomous", "tier0-not-autonomous", "no-deploy-control"}


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_scenario_file_parses_and_builds_its_world(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.name == path.stem
    world = scenario.build_world()
    clock = SimulatedClock(scenario.start)
    estate = SandboxEstate(world, clock)
    for event in scenario.events:
        when = scenario.instant(event)
        if when is not None:
            clock.set(when)
        if event.world_event is not None:
            estate.apply(event.world_event)
    assert scenario.expect.status is not None


def test_the_bad_deploy_scenario_reads_as_designed() -> None:
    scenario = load_scenario(next(p for p in SCENARIOS if p.stem == "bad-deploy-rollback"))
    assert scenario.start == DEFAULT_START
    assert [e.kind for e in scenario.events] == ["deploy", "fault", "message", "approve"]
    assert [e.at for e in scenario.events] == [0, 60, 120, 300]
    deploy = scenario.events[0].deploy
    assert deploy == DeployEvent(service="payment-gateway", version="v2.5.0", commit="9f3c2ab", author="dave")
    assert scenario.expect.root_cause is not None
    assert scenario.expect.root_cause.commit == "9f3c2ab"
    assert scenario.expect.actions == ("rollback_deployment",)
    assert scenario.expect.decisions == ("approve",)
    assert [e.kind for e in scenario.prelude()] == ["deploy", "fault"]
    assert scenario.policy.freeze[0].start == datetime(2026, 12, 24, tzinfo=UTC)


def test_root_cause_null_means_abstain_and_absent_means_unchecked() -> None:
    abstain = parse_scenario("name: a\nexpect: {root_cause: null, status: escalated}")
    unchecked = parse_scenario("name: b\nexpect: {status: escalated}")
    assert abstain.expect.checks_root_cause
    assert abstain.expect.root_cause is None
    assert not unchecked.expect.checks_root_cause
    assert unchecked.expect.actions is None


def test_world_overrides_and_additions() -> None:
    scenario = parse_scenario(
        """
name: w
start: "2026-11-20T09:00:00Z"
world:
  services:
    payment-gateway: {version: v2.4.2, replicas: 6}
    ledger: {tier: 2, environment: production, version: v4.1.0, depends_on: [orders-db]}
    checkout: {depends_on: [payment-gateway, ledger]}
  people:
    zoe: {groups: [sre]}
    alice: {groups: [support, cab]}
"""
    )
    estate = SandboxEstate(scenario.build_world(), SimulatedClock(scenario.start))
    assert estate.service("payment-gateway").version == "v2.4.2"
    assert [d.version for d in estate.deployments("payment-gateway", 2)] == ["v2.4.2", "v2.4.1"]
    assert [d.version for d in estate.deployments("ledger")] == ["v4.1.0", "v4.0.0"]
    assert estate.service("checkout").depends_on == ("payment-gateway", "ledger")
    zoe = estate.person("zoe")
    assert zoe is not None
    assert zoe.email == "zoe@example.com"
    assert zoe.groups == frozenset({"sre"})
    assert estate.members("cab") >= {"alice", "carol", "erin"}
    assert all(d.deployed_at < scenario.start for d in estate.state.deployments)


def test_instants_and_the_fault_binding_rule() -> None:
    scenario = parse_scenario(MINIMAL)
    assert scenario.instant(scenario.events[1]) == DEFAULT_START + timedelta(seconds=60)
    assert scenario.instant(scenario.events[3]) is None
    estate = SandboxEstate(scenario.build_world(), SimulatedClock(DEFAULT_START))
    for event in scenario.prelude():
        estate.apply(event, at=scenario.instant(event))
    assert estate.state.faults[0].bound_version == "v2.5.0"
    assert estate.state.deployments[-1].scripted


def _problem(text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "scenarios/broken.yaml")
    message = str(caught.value)
    assert message.startswith("scenarios/broken.yaml: ")
    return message


def test_not_yaml() -> None:
    assert "not valid YAML" in _problem("name: [unclosed\nevents: {")


def test_not_a_mapping() -> None:
    assert "a scenario is a mapping" in _problem("- name: t\n")
    assert "empty file" in _problem("")


def test_missing_name() -> None:
    assert "scenarios/broken.yaml: name: required key is missing" in _problem("events: []\n")


def test_unknown_top_level_key() -> None:
    assert "expects: unknown key 'expects'" in _problem("name: t\nexpects: {status: resolved}\n")


def test_unknown_event_kind() -> None:
    message = _problem("name: t\nevents:\n  - {at: 0, restart: {service: checkout}}\n")
    assert "events[0].restart: unknown event kind 'restart'" in message


def test_event_without_a_kind() -> None:
    assert "events[0]: an event needs one kind" in _problem("name: t\nevents:\n  - {at: 5}\n")


def test_two_kinds_in_one_event() -> None:
    text = MINIMAL + "  - {at: 200, approve: {user: bob}, reject: {user: carol}}\n"
    assert "events[4]: an event has exactly one kind, this one has 2: approve, reject" in _problem(text)


def test_bad_fault_kind() -> None:
    text = MINIMAL.replace("kind: error_rate", "kind: meltdown")
    message = _problem(text)
    assert "events[1].fault.kind: " in message
    assert "'meltdown'" in message


def test_bad_types() -> None:
    text = "name: t\nevents:\n  - {at: soon, scale: {service: checkout, replicas: many}}\n"
    message = _problem(text)
    assert "events[0].at: " in message
    assert "'soon'" in message
    assert "events[0].scale.replicas: " in message
    assert "'many'" in message
    assert "events[0].deploy.commit" in _problem(
        "name: t\nevents: [{deploy: {service: search, version: v2, commit: XYZ}}]"
    )
    assert "start: " in _problem("name: t\nstart: next tuesday\n")


def test_at_must_not_decrease() -> None:
    text = MINIMAL.replace("at: 120", "at: 30")
    assert "events[2].at: at 30 is before events[1].at 60" in _problem(text)


def test_unknown_service_in_an_event() -> None:
    text = MINIMAL.replace("fault: {service: payment-gateway", "fault: {service: payment-gatway")
    assert "events[1].fault.service: unknown service 'payment-gatway'" in _problem(text)


@pytest.mark.parametrize(
    ("event", "path"),
    [
        ("{message: {user: mallory, text: hi}}", "events[4].message.user"),
        ("{approve: {user: mallory}}", "events[4].approve.user"),
        ("{reject: {user: mallory, reason: no}}", "events[4].reject.user"),
    ],
)
def test_unknown_person(event: str, path: str) -> None:
    assert f"{path}: unknown person 'mallory'" in _problem(MINIMAL + f"  - {event}\n")


def test_a_person_added_in_the_world_is_known() -> None:
    text = "name: t\nworld: {people: {zoe: {groups: [sre]}}}\n" + MINIMAL.removeprefix("\nname: t\n")
    assert parse_scenario(text + "  - {approve: {user: zoe}}\n").events[-1].approve is not None


def test_fault_needs_what_its_kind_needs() -> None:
    assert "events[0].fault: a error_rate fault needs a service" in _problem(
        "name: t\nevents: [{fault: {kind: error_rate}}]"
    )
    assert "events[0].fault: an account_locked fault needs a user" in _problem(
        "name: t\nevents: [{fault: {kind: account_locked}}]"
    )
    assert "events[0].fault.host: unknown host 'worker-9'" in _problem(
        "name: t\nevents: [{fault: {kind: disk_full, host: worker-9}}]"
    )


def test_world_and_policy_are_checked() -> None:
    message = _problem("name: t\nworld: {services: {ledger: {tier: 2, depends_on: [vault]}}}\n")
    assert "world.services.ledger.environment: required for a new service" in message
    assert "world.services.ledger.version: required for a new service" in message
    assert "world.services.ledger.depends_on[0]: unknown service 'vault'" in message
    message = _problem(
        """
name: t
policy:
  autonomy: {billing: 2, "tier:1": 7, "search@staging": 3}
  chaos_days: [{service: x, start: "2026-11-02T00:00:00Z", end: "2026-11-03T00:00:00Z"}]
"""
    )
    assert "policy.autonomy.billing: unknown service 'billing'" in message
    assert "policy.autonomy.tier:1: a level is 0 (suggest) to 3 (autonomous), got 7" in message
    assert "policy.chaos_days[0].service: unknown service 'x'" in message
    assert "search@staging" not in message
    freeze = "[{name: f, start: 2026-12-24T00:00:00Z, end: 2026-12-23T00:00:00Z}]"
    assert "policy.freeze[0]: end must be after start" in _problem(f"name: t\npolicy: {{freeze: {freeze}}}")


def test_a_key_given_twice_is_refused() -> None:
    text = """
name: t
events:
  - at: 0
    fault: {service: search, kind: error_rate}
    fault: {service: checkout, kind: latency}
"""
    assert "appears twice" in _problem(text)


def test_load_scenario_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: t\nevents: [{at: 0, fault: {service: nope, kind: error_rate}}]\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"bad\.yaml: events\[0\]\.fault\.service: unknown service 'nope'"):
        load_scenario(path)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yaml")


def test_scenario_models_are_typed() -> None:
    scenario = parse_scenario(MINIMAL)
    assert isinstance(scenario, Scenario)
    fault = scenario.events[1].world_event
    assert isinstance(fault, FaultEvent)
    assert fault.size == 0.35
    assert scenario.events[2].world_event is None


def test_free_text_stays_text() -> None:
    scenario = parse_scenario(
        MINIMAL + "  - {reject: {user: bob, reason: no}}\n  - {message: {user: alice, text: 502}}\n"
    )
    assert scenario.events[4].reject is not None
    assert scenario.events[4].reject.reason == "no"
    assert scenario.events[5].message is not None
    assert scenario.events[5].message.text == "502"
