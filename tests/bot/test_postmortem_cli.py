"""`actiondesk postmortem CASE [--format md|json]` on the bad-deploy scenario: every section, with the
scenario's real (simulated) times and the commit; the same post-mortem reaches the ticket as an attachment and
the ticket is assigned to the owner's group on a hand-off."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from ticketfake_http import ThreadedServer
from ticketfake_snow import PASSWORD, USER, FakeServiceNow, fake_servicenow
from typer.testing import CliRunner

from actiondesk.adapters.sandbox import load_scenario
from actiondesk.agents.postmortem.markdown import SECTIONS
from actiondesk.bot.cli.main import app
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.bot.wiring.root import open_store
from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BAD_DEPLOY = ROOT / "scenarios" / "bad-deploy-rollback.yaml"


@pytest.fixture
def snow() -> Iterator[tuple[ThreadedServer, FakeServiceNow]]:
    with fake_servicenow() as pair:
        yield pair


def played(tmp_path: Path, **settings: object) -> tuple[dict[str, str], str]:
    url = f"sqlite:///{tmp_path / 'pm.db'}"
    env = {"DATABASE_URL": url, "ACTIONDESK_LOG_LEVEL": "WARNING"}
    configured = Settings(_env_file=None, database_url=url, **settings)  # type: ignore[call-arg]
    report = run_scenario(load_scenario(BAD_DEPLOY), configured, open_store(configured))
    assert report.passed, report.mismatches
    return env, report.cases[0]


def test_postmortem_prints_every_section_with_the_real_times_and_commit(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    env, case_id = played(tmp_path)
    result = CliRunner().invoke(app, ["postmortem", case_id], env=env)
    assert result.exit_code == 0, result.output
    text = result.output
    assert text.startswith(f"# Post-mortem {case_id}: payment gateway is throwing 500s")
    for section in SECTIONS:
        assert f"\n## {section}" in text
    # the scenario: deploy at 09:00:00, errors from 09:01:00, alice's report at 09:02:00, bob's approval at 09:05:00
    for fact in (
        "09:00:00 · dave · payment-gateway v2.5.0 (commit 9f3c2ab) deployed by dave",
        "Started: 2026-11-02 09:01:00 UTC",
        "Detected: 2026-11-02 09:02:00 UTC (case opened by alice)",
        "approved by bob at 09:05:00 after 3 min",
        "commit 9f3c2ab, deployed 2026-11-02 09:00:00 UTC by dave; the version before was v2.4.1",
        "Time to resolve (report to verified resolution): 3 min 10 s",
        "Of which waiting for approval: 3 min (without it: 10 s)",
        "proposed by actiondesk, governance: approve at level 1, approved by bob, run by actiondesk: succeeded",
    ):
        assert fact in text, fact
    as_json = CliRunner().invoke(app, ["postmortem", case_id, "--format", "json"], env=env)
    assert as_json.exit_code == 0
    data = json.loads(as_json.output)
    assert (data["root_cause"]["commit"], data["mttr_seconds"], data["owner_team"]) == ("9f3c2ab", 190.0, "payments")
    assert data["model_summary"] is None


def test_postmortem_of_an_unknown_or_unfinished_case(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    env, case_id = played(tmp_path)
    missing = CliRunner().invoke(app, ["postmortem", "C-nope"], env=env)
    assert missing.exit_code == 2
    assert "C-nope" in missing.output
    bad = CliRunner().invoke(app, ["postmortem", case_id, "--format", "pdf"], env=env)
    assert bad.exit_code == 2
    assert "use md or json" in bad.output


def test_the_ticket_gets_the_postmortem_and_a_hand_off_assigns_the_owner_group(
    tmp_path: Path, snow: tuple[ThreadedServer, FakeServiceNow], monkeypatch
) -> None:
    server, fake = snow
    monkeypatch.chdir(tmp_path)
    payments = fake.add_group("payments-oncall")
    env, case_id = played(
        tmp_path,
        servicenow_instance_url=server.url,
        servicenow_username=USER,
        servicenow_password=PASSWORD,
        outbox_drain_seconds=10.0,
    )
    (incident,) = fake.tables["incident"].values()
    (attached,) = fake.files(incident["sys_id"])
    assert (attached["file_name"], attached["content_type"]) == (f"postmortem-{case_id}.md", "text/markdown")
    shown = CliRunner().invoke(app, ["postmortem", case_id], env=env).output
    assert attached["text"] == shown
    assert incident["assignment_group"] == ""  # resolved by the agent: never handed to people

    from actiondesk.adapters.servicenow import BasicAuth, ServiceNowClient, ServiceNowTicketSystem
    from actiondesk.core.tickets import TicketRef

    system = ServiceNowTicketSystem(ServiceNowClient(server.url, BasicAuth(USER, PASSWORD)))
    ticket = TicketRef(system="servicenow", key=incident["sys_id"], number=incident["number"])
    system.escalate(ticket, "Handed to payments on-call: grace", "payments-oncall")
    assert incident["assignment_group"] == payments
    system.escalate(ticket, "Handed to nobody we know", "no-such-group")
    assert incident["assignment_group"] == payments  # unknown: the configured group (none here) is left alone
    assert "No assignment group named 'no-such-group'" in fake.journal(incident["sys_id"])[-1]["value"]
