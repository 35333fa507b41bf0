"""Whole conversations from scenario files, played by the product's runner on both database backends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from actiondesk.adapters.sandbox import load_scenario, parse_scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.scenario.runner import ScenarioReport, run_scenario
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted((ROOT / "scenarios").glob("*.yaml"))


def settings(database_url: str) -> Settings:
    """Every field the runner depends on, given explicitly; no .env file is read."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        agent_identity="actiondesk",
        max_steps=12,
        approval_ttl_seconds=3600,
        verify_timeout_seconds=120.0,
        verify_interval_seconds=10.0,
        triage_lookback_minutes=60,
        change_window_minutes=30,
        lease_seconds=30.0,
        autonomy={},
        granted_scopes={},
        runbook_dir=None,
    )


def play(text: str, store: SqlStore, database_url: str) -> ScenarioReport:
    return run_scenario(parse_scenario(text, "test"), settings(database_url), store)


BAD_DEPLOY = """
name: bad-deploy
events:
  - {at: 0, deploy: {service: payment-gateway, version: v2.5.0, commit: 9f3c2ab}}
  - {at: 60, fault: {service: payment-gateway, kind: error_rate, value: 0.35}}
  - {at: 120, message: {user: alice, text: "payment gateway is throwing 500s"}}
"""
APPROVED = BAD_DEPLOY + "  - {approve: {user: bob}}\n"


def test_the_scenario_folder_is_not_empty() -> None:
    assert len(FILES) >= 4, FILES


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_every_shipped_scenario_passes(path: Path, store: SqlStore, database_url: str) -> None:
    report = run_scenario(load_scenario(path), settings(database_url), store)

    assert report.mismatches == []
    assert report.passed
    assert report.audit_verified


def test_the_report_has_every_key_of_the_contract(store: SqlStore, database_url: str) -> None:
    report = play(APPROVED, store, database_url).model_dump(mode="json")

    for key in (
        "name",
        "status",
        "passed",
        "root_cause",
        "actions",
        "probes",
        "decisions",
        "mttr_seconds",
        "llm_calls",
        "tokens",
        "audit_verified",
        "mismatches",
    ):
        assert key in report, key
    (action,) = report["actions"]
    assert set(action) >= {"name", "params", "decision", "result"}
    assert (action["name"], action["decision"], action["result"]) == ("rollback_deployment", "approve", "succeeded")
    assert action["params"]["to_version"] == "v2.4.1"
    assert report["root_cause"]["service"] == "payment-gateway"
    assert report["root_cause"]["commit"] == "9f3c2ab"
    assert report["probes"][:4] == ["get_error_rate", "get_latency", "get_cpu", "get_pod_status"]
    assert {"list_changes", "get_logs", "get_trace"} <= set(report["probes"])
    assert report["probes"][-1] == "get_error_rate", "verification reads the signal again"
    assert report["status"] == "resolved"
    assert report["mttr_seconds"] == 10.0  # reported at 120 s, approved at once, verified one interval later
    assert (report["llm_calls"], report["tokens"]) == (0, 0)


WRONG = {
    "root_cause": "root_cause: {service: payment-gateway, commit: deadbee}",
    "actions": "actions: []",
    "decisions": "decisions: [allow]",
    "status": "status: escalated",
}


@pytest.mark.parametrize("key", sorted(WRONG))
def test_a_wrong_expectation_fails_and_names_its_key(store: SqlStore, database_url: str, key: str) -> None:
    report = play(f"{APPROVED}expect:\n  {WRONG[key]}\n", store, database_url)

    assert not report.passed
    assert len(report.mismatches) == 1
    assert report.mismatches[0].startswith(f"{key}:")


def test_an_abstention_expected_but_a_culprit_found_is_a_mismatch(store: SqlStore, database_url: str) -> None:
    report = play(f"{APPROVED}expect:\n  root_cause: null\n", store, database_url)

    assert not report.passed
    assert report.mismatches[0].startswith("root_cause: expected an abstention")


def test_an_approve_with_nothing_pending_is_noted_not_a_mismatch(store: SqlStore, database_url: str) -> None:
    text = """
name: nothing-to-approve
events:
  - {at: 0, deploy: {service: search, version: v1.9.0, commit: 3b7e1c4}}
  - {at: 90, fault: {service: search, kind: error_rate, value: 0.25}}
  - {at: 180, message: {user: alice, text: "search is returning errors"}}
  - {approve: {user: bob}}
expect: {actions: [rollback_deployment], decisions: [allow], status: resolved}
"""
    report = play(text, store, database_url)

    assert report.passed, report.mismatches
    assert report.notes == ["approve by bob ignored: no approval was pending"]


def test_a_reject_escalates_and_nothing_runs(store: SqlStore, database_url: str) -> None:
    text = BAD_DEPLOY + '  - {reject: {user: bob, reason: "not during the sale"}}\n'
    text += "expect: {actions: [], decisions: [approve], status: escalated}\n"
    report = play(text, store, database_url)

    assert report.passed, report.mismatches
    assert report.actions[0].result == "refused"
    assert report.mttr_seconds is None


def normalised(report: ScenarioReport) -> str:
    """The report as JSON with case and approval ids replaced by their order of appearance."""
    text = report.model_dump_json()
    ids: dict[str, str] = {}
    return re.sub(r"\b[CA]-[0-9a-f]{10}\b", lambda m: ids.setdefault(m.group(0), f"id{len(ids)}"), text)


def test_the_same_scenario_twice_gives_the_same_report(store: SqlStore, database_url: str) -> None:
    first = play(APPROVED, store, database_url)
    second = play(APPROVED, store, database_url)

    assert first.cases != second.cases
    assert normalised(first) == normalised(second)


FREEZE = """
policy:
  freeze: [{name: Month-end freeze, start: "2026-11-02T00:00:00Z", end: "2026-11-03T00:00:00Z"}]
"""


def test_during_a_freeze_only_cab_can_approve(store: SqlStore, database_url: str) -> None:
    text = APPROVED + "  - {approve: {user: carol}}\n" + FREEZE
    text += "expect: {actions: [rollback_deployment], decisions: [approve], status: resolved}\n"
    report = play(text, store, database_url)

    assert report.passed, report.mismatches
    (approval,) = store.approvals(report.cases[0])
    assert (approval.group, approval.decided_by, approval.status) == ("cab", "carol", ApprovalStatus.APPROVED)
    assert any(p.startswith("freeze[Month-end freeze]") for p in approval.policy_ids)
    assert len(report.notes) == 1
    assert report.notes[0].startswith("bob could not decide")  # sre alone is not enough during a freeze


def test_a_chaos_day_makes_the_agent_suggest_only(store: SqlStore, database_url: str) -> None:
    text = (
        BAD_DEPLOY
        + """
policy:
  chaos_days: [{service: payment-gateway, start: "2026-11-02T08:00:00Z", end: "2026-11-02T18:00:00Z"}]
expect: {actions: [], decisions: [suggest], status: escalated}
"""
    )
    report = play(text, store, database_url)

    assert report.passed, report.mismatches
    (action,) = report.actions
    assert (action.decision, action.result) == ("suggest", "not_run")
    assert store.approvals(report.cases[0]) == []
    assert store.runs(report.cases[0]) == []


def test_an_alertmanager_alert_opens_the_case_on_the_labelled_service(store: SqlStore, database_url: str) -> None:
    text = """
name: alert-opens-case
events:
  - {at: 0, deploy: {service: payment-gateway, version: v2.5.0, commit: 9f3c2ab}}
  - {at: 60, fault: {service: payment-gateway, kind: error_rate, value: 0.35}}
  - at: 120
    alert:
      labels: {alertname: HighErrorRate, service: payment-gateway, severity: page}
      annotations: {summary: "5xx above 5% for 1 minute"}
  - {approve: {user: bob}}
expect:
  root_cause: {service: payment-gateway, commit: 9f3c2ab}
  actions: [rollback_deployment]
  status: resolved
"""
    report = play(text, store, database_url)

    assert report.passed, report.mismatches
    case = store.get_case(report.cases[0])
    assert (case.reporter, case.surface, case.service) == ("alertmanager", "alert", "payment-gateway")
