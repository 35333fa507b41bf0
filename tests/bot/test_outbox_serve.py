"""`actiondesk serve` with ServiceNow on: the running server mirrors a console case into the incident as it
goes (delivery worker) and brings a person's comment on the incident back into the case (comment poller)."""

from __future__ import annotations

from pathlib import Path

from serverproc import ROOT, ServerProcess, server_env, signed_in, wait_for
from ticketfake_snow import PASSWORD, USER, fake_servicenow


def test_serve_mirrors_the_case_and_reads_comments_back(tmp_path: Path) -> None:
    with fake_servicenow() as (snow_server, fake):
        env = server_env(
            f"sqlite:///{tmp_path / 'actiondesk.db'}",
            SERVICENOW_INSTANCE_URL=snow_server.url,
            SERVICENOW_USERNAME=USER,
            SERVICENOW_PASSWORD=PASSWORD,
            ACTIONDESK_TICKET_POLL_SECONDS="0.5",
        )
        server = ServerProcess.start(env, ROOT)
        try:
            alice, bob = signed_in(server.url, "alice"), signed_in(server.url, "bob")
            opened = alice.post("/api/cases", json={"text": "the payment gateway is throwing 500s"}).json()
            case_id = opened["id"]

            def incident() -> dict[str, str] | None:
                with fake.lock:
                    found = [r for r in fake.tables["incident"].values() if r["correlation_id"] == case_id]
                    return dict(found[0]) if found else None

            def journal_says(text: str) -> bool:
                record = incident()
                with fake.lock:
                    return record is not None and any(text in e["value"] for e in fake.journal(record["sys_id"]))

            wait_for(
                lambda: journal_says("Approval needed from sre"), "the approval request on the incident", timeout=60.0
            )
            detail = alice.get(f"/api/cases/{case_id}").json()
            approval_id = detail["approvals"][0]["id"]
            bob.post(f"/api/approvals/{approval_id}", json={"decision": "approve"})
            wait_for(lambda: (i := incident()) is not None and i["state"] == "6", "the incident resolved", timeout=60.0)

            record = incident()
            assert record is not None
            fake.add_comment(record["sys_id"], "Merchants confirm charges go through.")

            def commented() -> bool:
                timeline = alice.get(f"/api/cases/{case_id}").json()["timeline"]
                return any(
                    e["kind"] == "message" and e["payload"].get("text") == "Merchants confirm charges go through."
                    for e in timeline
                )

            wait_for(commented, "the comment in the case thread", timeout=60.0)
        finally:
            server.stop()
        with fake.lock:
            assert len(fake.tables["incident"]) == 1
