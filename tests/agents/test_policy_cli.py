"""`actiondesk policy check` and `actiondesk policy test`, run in-process against a throwaway database."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actiondesk.agents.governance import load_policies
from actiondesk.agents.governance.cedar import builtin_dir
from actiondesk.bot.cli.main import app

TABLE = Path(__file__).with_name("decision-table.yaml")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's is read
    return {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "ACTIONDESK_LOG_LEVEL": "WARNING"}


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env, catch_exceptions=False)


def test_check_prints_the_decision_and_its_policies(env: dict[str, str]) -> None:
    result = run(env, "policy", "check", "--action", "rollback_deployment", "--service", "payment-gateway")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("approve by sre")
    assert "ladder.approve" in result.output
    assert load_policies().hash in result.output


def test_check_json_at_a_time_in_a_freeze(env: dict[str, str]) -> None:
    env = {
        **env,
        "ACTIONDESK_FREEZE_WINDOWS": '[{"name": "Sale", "start": "2026-12-24T00:00:00Z", '
        '"end": "2026-12-27T00:00:00Z", "services": ["orders-db"]}]',
    }
    args = ["policy", "check", "--action", "rollback_deployment", "--service", "payment-gateway", "--json"]
    inside = json.loads(run(env, *args, "--at", "2026-12-25T10:00:00Z", "--requester", "alice").output)
    assert inside["outcome"] == "approve"
    assert inside["approver_groups"] == ["cab"], "payment-gateway depends on orders-db, which is frozen"
    assert "freeze[Sale]" in inside["policy_ids"]
    assert inside["policy_hash"] == load_policies().hash
    outside = json.loads(run(env, *args, "--at", "2026-12-28T10:00:00Z").output)
    assert outside["approver_groups"] == ["sre"]
    staging = json.loads(run(env, *args, "--env", "staging").output)
    assert staging["outcome"] == "allow"


def test_check_confidence_gates_level_3(env: dict[str, str]) -> None:
    env = {
        **env,
        "ACTIONDESK_AUTONOMY": '{"payment-gateway": 3}',
        "ACTIONDESK_CONFIDENCE_THRESHOLDS": '{"tier:1": 0.9}',
    }
    args = ["policy", "check", "--action", "rollback_deployment", "--service", "payment-gateway", "--json"]
    sure = json.loads(run(env, *args, "--confidence", "0.95").output)
    assert (sure["outcome"], sure["confidence"], sure["confidence_threshold"]) == ("allow", 0.95, 0.9)
    assert "confidence.threshold[tier:1]" in sure["policy_ids"]
    unsure = json.loads(run(env, *args, "--confidence", "0.6").output)
    assert (unsure["outcome"], unsure["approver_groups"]) == ("approve", ["sre"])
    assert "ladder.autonomous.unsure" in unsure["policy_ids"]
    assert any("60% sure, below the threshold of 90%" in r for r in unsure["reasons"])
    text = run(
        env, "policy", "check", "--action", "rollback_deployment", "--service", "payment-gateway", "--confidence", "0.6"
    ).output
    assert text.startswith("approve by sre")
    assert "ladder.autonomous.unsure" in text
    bad = CliRunner().invoke(app, [*args, "--confidence", "1.5"], env=env)
    assert bad.exit_code == 2
    assert "less than or equal to 1" in bad.output


def test_check_with_an_unknown_action_or_service_exits_2(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["policy", "check", "--action", "drop_everything", "--service", "payment-gateway"], env=env
    )
    assert result.exit_code == 2
    assert "unknown action" in result.output


def test_an_invalid_policy_dir_exits_2_naming_file_and_line(env: dict[str, str], tmp_path: Path) -> None:
    directory = tmp_path / "policies"
    shutil.copytree(builtin_dir(), directory, ignore=shutil.ignore_patterns("__pycache__"))
    (directory / "zz.cedar").write_text('\n\n@id("x")\npermit (principal, action, resource) when { nope };\n')
    result = CliRunner().invoke(
        app,
        ["policy", "check", "--action", "rollback_deployment", "--service", "search"],
        env={**env, "ACTIONDESK_POLICY_DIR": str(directory)},
    )
    assert result.exit_code == 2
    assert "zz.cedar:3" in result.output


def test_policy_test_runs_a_table(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "policy", "test", str(TABLE))
    assert result.exit_code == 0, result.output
    assert "16 passed, 0 failed" in result.output

    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("cases:\n  - {action: rollback_deployment, service: search, expect: deny}\n")
    result = run(env, "policy", "test", str(wrong), "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert report["failed"] == 1
    assert report["cases"][0]["problems"] == ["outcome allow, expected deny"]
