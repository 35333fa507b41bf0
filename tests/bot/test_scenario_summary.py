"""`actiondesk scenario run DIR --summary`: one row per scenario and the totals that say how good the
investigation is; and the shipped suite's breadth (scenarios and controls)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_cli import ROOT, cli, sqlite_url

from actiondesk.adapters.sandbox import load_scenario

SHIPPED = sorted((ROOT / "scenarios").glob("*.yaml"))
WRONG = """
name: wrong-expectation
events:
  - {at: 0, deploy: {service: search, version: v1.9.0, commit: 3b7e1c4}}
  - {at: 60, fault: {service: search, kind: error_rate, value: 0.3}}
  - {at: 150, message: {user: alice, text: "search is returning errors"}}
expect:
  root_cause: {service: search, change: {kind: config_change, key: shards}}
"""


def test_the_shipped_suite_is_broad_enough() -> None:
    scenarios = [load_scenario(p) for p in SHIPPED]
    controls = [s.name for s in scenarios if s.control]
    kinds = {s.expect.root_cause.change.kind for s in scenarios if s.expect.root_cause and s.expect.root_cause.change}
    faults = {e.fault.kind.value for s in scenarios for e in s.events if e.fault is not None}
    assert len(scenarios) >= 25
    assert len(controls) >= 8, controls
    assert kinds >= {"config_change", "flag", "scale"}
    assert faults >= {"error_rate", "latency", "crash_loop", "image_pull", "cpu_saturation"}
    assert any(e.reply is not None for s in scenarios for e in s.events), "a clarifying conversation"


def test_summary_prints_each_scenario_and_the_totals_and_fails_on_a_miss(tmp_path: Path) -> None:
    folder = tmp_path / "suite"
    folder.mkdir()
    for name in ("bad-deploy-rollback", "no-deploy-control", "ad-high-cpu-flag"):
        shutil.copy(ROOT / "scenarios" / f"{name}.yaml", folder)
    (folder / "wrong.yaml").write_text(WRONG, encoding="utf-8")

    shown = cli(sqlite_url(tmp_path / "unused.db"), tmp_path, "scenario", "run", str(folder), "--summary")
    as_json = cli(sqlite_url(tmp_path / "unused.db"), tmp_path, "scenario", "run", str(folder), "--json")

    assert shown.code == 1, "one scenario's expectation does not hold"
    for fragment in ("bad-deploy-rollback", "payment-gateway@9f3c2ab", "ad flag adHighCpu", "set_feature_flag"):
        assert fragment in shown.out, fragment
    assert "culprits invented on controls 0/1" in shown.out
    summary = json.loads(as_json.out)["summary"]
    assert (summary["scenarios"], summary["passed"]) == (4, 3)
    assert (summary["culprits_named"], summary["culprits_correct"], summary["causes_expected"]) == (3, 2, 3)
    assert summary["culprit_precision"] == round(2 / 3, 3)
    assert (summary["fixes_expected"], summary["fixes_correct"]) == (2, 2)
    assert (summary["controls"], summary["invented_on_controls"]) == (1, 0)
    assert not (tmp_path / "unused.db").exists(), "a folder's scenarios play in throwaway databases"
