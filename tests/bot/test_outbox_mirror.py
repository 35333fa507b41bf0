"""What a case looks like in the service desks: `scenario run` with ServiceNow and JSM both on delivers
before it reports; each step is a work note / internal comment, CAB approvals raise a change request, the
resolution closes the incident and transitions the request by name; people's own messages are not mirrored."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_outbox_delivery import markers, mirrored
from ticketfake_http import ThreadedServer
from ticketfake_jsm import FakeJsm, fake_jsm
from ticketfake_snow import FakeServiceNow, fake_servicenow

from actiondesk.adapters.sandbox import load_scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.agents.mirror import TicketMirror
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.core.audit import AuditDraft, AuditKind
from actiondesk.core.tickets import OutboxStatus, UpdateKind

ROOT = Path(__file__).resolve().parents[2]
AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desks() -> Iterator[tuple[ThreadedServer, FakeServiceNow, ThreadedServer, FakeJsm]]:
    with fake_servicenow() as (snow_server, snow), fake_jsm() as (jsm_server, jsm):
        yield snow_server, snow, jsm_server, jsm


def test_scenario_run_mirrors_a_cab_case_into_both_desks_before_it_reports(
    desks: tuple[ThreadedServer, FakeServiceNow, ThreadedServer, FakeJsm], store: SqlStore, database_url: str
) -> None:
    snow_server, snow, jsm_server, jsm = desks
    settings = mirrored(database_url, snow=snow_server.url, jsm=jsm_server.url, drain=30.0)
    report = run_scenario(load_scenario(ROOT / "scenarios" / "freeze-routes-to-cab.yaml"), settings, store)
    assert report.passed, report.mismatches
    case_id = report.cases[0]
    assert store.outbox.rows(OutboxStatus.PENDING) == []
    assert store.outbox.rows(OutboxStatus.DEAD) == []

    (incident,) = snow.tables["incident"].values()
    assert (incident["correlation_id"], incident["state"], incident["close_code"]) == (
        case_id,
        "6",
        "Solution provided",
    )
    notes = "\n".join(e["value"] for e in snow.journal(incident["sys_id"]) if e["element"] == "work_notes")
    steps = ("Finding (bad_deploy", "Plan (", "Governance: approve for rollback_deployment", "approved by carol",
             "rollback_deployment succeeded")  # fmt: skip
    for expected in steps:
        assert expected in notes
    assert "refused by bob: bob is not in the approver group cab" in notes
    assert incident["close_notes"].startswith("Verification: payment-gateway's 5xx rate is back to")
    (change,) = snow.tables["change_request"].values()
    assert change["parent"] == incident["sys_id"]
    assert incident["rfc"] == change["sys_id"]
    assert change["short_description"].startswith("rollback_deployment on payment-gateway")

    (issue,) = jsm.issues.values()
    assert issue["summary"].startswith(f"[{case_id}] ")
    assert (issue["status"], issue["category"]) == ("Resolve", "done")
    internal = [c for c in issue["comments"] if not c["public"]]
    assert any("Finding (bad_deploy" in c["body"] for c in internal)
    assert any(c["body"].startswith("rollback_deployment on payment-gateway") for c in internal)  # CAB
    rows = store.outbox.rows(OutboxStatus.DONE)
    notes = [r.id for r in rows if r.system == "jsm" and r.update.kind.value != "attach"]
    assert [m for c in issue["comments"] for m in markers(c["body"])] == notes
    (attached,) = issue["files"]  # the post-mortem, as a Markdown file
    assert (attached["filename"], attached["mimeType"]) == (f"postmortem-{case_id}.md", "text/markdown")
    assert "## Root cause" in attached["text"]
    assert jsm.invalid == []


def _draft(kind: AuditKind, actor: str, **payload: object) -> AuditDraft:
    return AuditDraft(kind=kind, case_id="C-1", actor=actor, at=AT, payload=payload)  # type: ignore[arg-type]


def test_the_mapping_mirrors_the_agents_steps_not_peoples_messages() -> None:
    mirror = TicketMirror(["servicenow"], "actiondesk", frozenset({"cab"}))
    people = mirror.updates([_draft(AuditKind.MESSAGE, "alice", text="it is still down, password=hunter2")])
    assert people == []
    escalated = mirror.updates(
        [
            _draft(AuditKind.MESSAGE, "actiondesk", text="Policy refuses it. token=abc123"),
            _draft(AuditKind.CASE_ESCALATED, "actiondesk", reason="denied by policy"),
        ]
    )
    assert [u.kind for u in escalated] == [UpdateKind.ESCALATE]
    assert escalated[0].text == "Policy refuses it. token=[REDACTED]\nHanded to a person: denied by policy"
    cab = mirror.updates(
        [
            _draft(
                AuditKind.APPROVAL_REQUESTED,
                "actiondesk",
                id="A-1",
                group="cab",
                target="payment-gateway",
                call={"action": "rollback_deployment", "params": {}},
                reasons=["freeze"],
            ),
            _draft(AuditKind.MESSAGE, "actiondesk", text="Approval needed from cab."),
        ]
    )
    assert [u.kind for u in cab] == [UpdateKind.NOTE, UpdateKind.CHANGE]
    assert cab[1].change is not None
    assert cab[1].change.correlation_id == "A-1"
    sre = mirror.updates(
        [_draft(AuditKind.APPROVAL_REQUESTED, "actiondesk", id="A-2", group="sre", target="x", call={}, reasons=[])]
    )
    assert sre == []  # an ordinary approval is a step, not a change for CAB


def test_a_resolution_through_jsms_default_workflow_lands_and_the_thread_says_which_transition(
    desks: tuple[ThreadedServer, FakeServiceNow, ThreadedServer, FakeJsm], store: SqlStore, database_url: str
) -> None:
    _, _, jsm_server, jsm = desks
    jsm.workflow = [
        ("761", "In Progress", "indeterminate"),
        ("811", "Resolve this issue", "done"),
        ("951", "Cancel", "done"),
    ]
    settings = mirrored(database_url, jsm=jsm_server.url, drain=30.0)  # JSM_RESOLVE_TRANSITION left at "Resolve"
    report = run_scenario(load_scenario(ROOT / "scenarios" / "low-risk-autonomous.yaml"), settings, store)
    assert report.passed, report.mismatches
    (issue,) = jsm.issues.values()
    assert (issue["status"], issue["category"]) == ("Resolve this issue", "done")
    assert store.outbox.rows(OutboxStatus.DEAD) == []
    said = [str(e.payload.get("text")) for e in store.audit(report.cases[0]) if e.kind is AuditKind.MESSAGE]
    assert any("resolved with 'Resolve this issue'" in text for text in said)
