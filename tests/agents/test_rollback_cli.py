"""`actiondesk rollback RUN_KEY` and `actiondesk actions list|show|validate`: the real command in a subprocess,
with a clean environment (only what each test sets) and its own SQLite database."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BAD_DEPLOY = ROOT / "scenarios" / "bad-deploy-rollback.yaml"
STATUSPAGE = ROOT / "actiondesk" / "actions" / "packs" / "http" / "statuspage.yaml"


def cli(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd), "LANG": "C.UTF-8", "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "actiondesk", *args],
        cwd=cwd,
        env={**clean, "DATABASE_URL": f"sqlite:///{cwd / 'actiondesk.db'}", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_rollback_of_a_played_production_rollback_waits_for_sre(tmp_path: Path) -> None:
    played = cli(tmp_path, "scenario", "run", str(BAD_DEPLOY), "--json")
    assert played.returncode == 0, played.stderr
    with sqlite3.connect(tmp_path / "actiondesk.db") as db:
        (key,) = db.execute("SELECT key FROM action_runs WHERE status = 'succeeded'").fetchone()

    done = cli(tmp_path, "rollback", key, "--by", "carol", "--json")

    assert done.returncode == 0, done.stderr
    case = json.loads(done.stdout)
    assert (case["kind"], case["reporter"], case["status"]) == ("request", "carol", "awaiting_approval")
    (step,) = case["plan"]["steps"]
    assert step["call"]["action"] == "rollback_deployment"
    assert step["call"]["params"]["to_version"] == "v2.5.0"


def test_rollback_of_an_unknown_run_is_a_clear_error(tmp_path: Path) -> None:
    done = cli(tmp_path, "rollback", "C-nope/step-0")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == "error: no action run C-nope/step-0"


def test_actions_list_says_what_is_enabled_and_why_not(tmp_path: Path) -> None:
    done = cli(tmp_path, "actions", "list", "--json", ACTIONDESK_GRANTED_SCOPES='{"identity": ["identity:read"]}')
    assert done.returncode == 0, done.stderr
    rows = {r["name"]: r for r in json.loads(done.stdout)}
    assert rows["clear_log_volume"]["state"] == "enabled"
    assert rows["clear_log_volume"]["destructive"] is True
    assert rows["undo_rollout"]["state"] == "not configured: set ACTIONDESK_KUBERNETES_URL"
    assert rows["reset_password"]["state"] == "refused: scope identity:write not granted"
    assert rows["set_status_component"]["service_account"] == "actiondesk-statuspage"


def test_a_configured_pack_without_its_credential_is_a_clear_error(tmp_path: Path) -> None:
    listed = cli(tmp_path, "actions", "list", ACTIONDESK_KUBERNETES_URL="https://k8s.internal:6443")
    assert listed.returncode == 2
    assert "pack kubernetes: missing credential 'kubernetes' for service account actiondesk-kubernetes" in (
        listed.stderr
    )
    secret = "k8s-token-never-printed"
    ok = cli(
        tmp_path,
        "actions",
        "validate",
        "--json",
        ACTIONDESK_KUBERNETES_URL="https://k8s.internal:6443",
        ACTIONDESK_PACK_CREDENTIALS=json.dumps({"kubernetes": secret}),
    )
    assert ok.returncode == 0, ok.stderr
    assert "kubernetes" in json.loads(ok.stdout)["packs"]
    assert secret not in ok.stdout + ok.stderr


def test_actions_show_names_the_contract_and_refuses_an_unknown_action(tmp_path: Path) -> None:
    shown = cli(tmp_path, "actions", "show", "clear_log_volume", "--json")
    assert shown.returncode == 0, shown.stderr
    contract = json.loads(shown.stdout)
    assert (contract["pack"], contract["scope"], contract["destructive"]) == ("hosts", "hosts:write", True)
    assert contract["parameters"]["required"] == ["host"]
    unknown = cli(tmp_path, "actions", "show", "delete_everything")
    assert unknown.returncode == 2
    assert (
        unknown.stderr.strip()
        .splitlines()[-1]
        .startswith("error: unknown action 'delete_everything'; the catalog has ")
    )


@pytest.mark.parametrize("as_json", [False, True])
def test_actions_validate_a_pack_file(tmp_path: Path, as_json: bool) -> None:
    flag = ["--json"] if as_json else []
    good = cli(tmp_path, "actions", "validate", str(STATUSPAGE), *flag)
    assert good.returncode == 0, good.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text(STATUSPAGE.read_text().replace("operation: updateComponent", "operation: nukeComponent"))
    (tmp_path / "statuspage.openapi.yaml").write_text((STATUSPAGE.parent / "statuspage.openapi.yaml").read_text())
    bad = cli(tmp_path, "actions", "validate", str(broken), *flag)
    assert bad.returncode == 1
    text = bad.stdout if as_json else bad.stderr
    assert "operationId 'nukeComponent' is not in statuspage.openapi.yaml" in text
    if as_json:
        assert json.loads(bad.stdout)["ok"] is False
