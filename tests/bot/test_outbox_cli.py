"""`actiondesk outbox status|retry|drain` as a person runs them, against a local ServiceNow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from test_outbox_delivery import BAD_DEPLOY, mirrored
from ticketfake_snow import PASSWORD, USER, fake_servicenow

from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.core.tickets import OutboxStatus


def outbox(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "actiondesk", "outbox", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_status_shows_the_dead_letter_retry_requeues_it_drain_delivers(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'actiondesk.db'}"
    upgrade(url)
    engine = make_engine(url)
    store = SqlStore(engine)
    with fake_servicenow() as (server, fake):
        fake.fail(400, method="POST")  # creating the incident is refused once
        run_scenario(BAD_DEPLOY, mirrored(url, snow=server.url, drain=0.0), store)  # one pass, then report
        (dead,) = store.outbox.rows(OutboxStatus.DEAD)
        pending = len(store.outbox.rows(OutboxStatus.PENDING))
        assert pending > 0
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "LANG": "C.UTF-8",
            "DATABASE_URL": url,
            "SERVICENOW_INSTANCE_URL": server.url,
            "SERVICENOW_USERNAME": USER,
            "SERVICENOW_PASSWORD": PASSWORD,
        }

        status = outbox(tmp_path, env, "status", "--json")
        assert status.returncode == 1, status.stderr
        report = json.loads(status.stdout)
        assert report["enabled"] == ["servicenow"]
        assert [d["id"] for d in report["dead"]] == [dead.id]
        assert "400" in report["dead"][0]["error"]
        assert report["counts"]["servicenow"] == {"dead": 1, "pending": pending}
        assert PASSWORD not in status.stdout + status.stderr
        text = outbox(tmp_path, env, "status")
        assert f"dead {dead.id}: case {dead.case_id} servicenow" in text.stdout

        assert outbox(tmp_path, env, "retry", "99999").returncode == 2
        retried = outbox(tmp_path, env, "retry", str(dead.id))
        assert retried.returncode == 0, retried.stderr
        assert f"outbox row {dead.id}" in retried.stdout

        drained = outbox(tmp_path, env, "drain", "--timeout", "30")
        assert drained.returncode == 0, drained.stdout + drained.stderr
        assert "drained: 0 still pending, 0 dead" in drained.stdout
        (incident,) = fake.tables["incident"].values()
        assert incident["state"] == "6"
    engine.dispose()
