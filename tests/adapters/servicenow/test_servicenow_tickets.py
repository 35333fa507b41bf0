"""ServiceNowTicketSystem against a local instance following the Table API contract: the incident by
correlation id, the journal, resolution, escalation, change requests for CAB, comments read back page by
page, both kinds of authentication, and every failure as TicketUnavailableError or TicketRejectedError."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fixturefiles import sources
from ticketfake_http import ThreadedServer
from ticketfake_snow import CLIENT_ID, CLIENT_SECRET, PASSWORD, USER, FakeServiceNow, fake_servicenow

from actiondesk.adapters.servicenow import BasicAuth, ClientCredentials, ServiceNowClient, ServiceNowTicketSystem
from actiondesk.core.errors import TicketRejectedError, TicketUnavailableError
from actiondesk.core.tickets import ChangeDraft, TicketDraft

GROUP = "d625dccec0a8016700a222a0f7900d06"
DRAFT = TicketDraft(case_id="C-0a1b2c3d4e", title="payment gateway is throwing 500s", description="since 10:02")


@pytest.fixture
def snow() -> Iterator[tuple[ServiceNowTicketSystem, FakeServiceNow, ThreadedServer]]:
    with fake_servicenow() as (server, fake):
        client = ServiceNowClient(server.url, BasicAuth(USER, PASSWORD))
        yield ServiceNowTicketSystem(client, assignment_group=GROUP, username=USER), fake, server
        client.close()


def test_the_incident_is_created_once_and_found_again_by_its_correlation_id(snow) -> None:
    system, fake, _ = snow
    assert system.find(DRAFT.case_id) is None
    ticket = system.create(DRAFT)
    assert system.find(DRAFT.case_id) == ticket
    record = fake.tables["incident"][ticket.key]
    assert record["correlation_id"] == DRAFT.case_id
    assert (record["state"], record["assignment_group"]) == ("2", GROUP)
    assert ticket.number == record["number"]
    assert ticket.number.startswith("INC")
    method, path, query, body = fake.requests[-2]  # the create (the last request is the find)
    assert (method, path) == ("POST", "/api/now/table/incident")
    assert query["sysparm_exclude_reference_link"] == "true"
    assert all(isinstance(v, str) for v in body.values())


def test_notes_go_to_the_journal_and_are_found_by_their_marker(snow) -> None:
    system, fake, _ = snow
    ticket = system.create(DRAFT)
    assert not system.has_entry(ticket, "[ActionDesk C-0a1b2c3d4e #7]")
    system.add_note(ticket, "Finding: v2.5.0 raised the 5xx rate\n\n[ActionDesk C-0a1b2c3d4e #7]", public=False)
    system.add_note(ticket, "We are on it.", public=True)
    journal = fake.journal(ticket.key)
    assert [(j["element"], j["value"].splitlines()[0]) for j in journal] == [
        ("work_notes", "Finding: v2.5.0 raised the 5xx rate"),
        ("comments", "We are on it."),
    ]
    assert fake.tables["incident"][ticket.key]["work_notes"] == ""  # journal fields are write-append
    assert system.has_entry(ticket, "[ActionDesk C-0a1b2c3d4e #7]")
    assert not system.has_entry(ticket, "[ActionDesk C-0a1b2c3d4e #8]")


def test_resolve_escalate_and_a_change_request_for_cab(snow) -> None:
    system, fake, _ = snow
    ticket = system.create(DRAFT)
    system.escalate(ticket, "Handed to a person: approval expired")
    system.resolve(ticket, "Verified: error rate back to 0.4%.")
    record = fake.tables["incident"][ticket.key]
    assert (record["state"], record["close_code"], record["active"]) == ("6", "Solution provided", "false")
    assert record["close_notes"] == "Verified: error rate back to 0.4%."
    change = ChangeDraft(correlation_id="A-123", title="rollback_deployment on payment-gateway", description="CAB")
    number = system.open_change(ticket, change)
    again = system.open_change(ticket, change)  # a retry finds it by correlation id
    assert number == again
    assert number.startswith("CHG")
    (chg,) = fake.tables["change_request"].values()
    assert (chg["correlation_id"], chg["parent"], chg["type"]) == ("A-123", ticket.key, "normal")
    assert record["rfc"] == chg["sys_id"]


def test_comments_come_back_page_by_page_once_each_without_our_own(snow) -> None:
    system, fake, _ = snow
    ticket = system.create(DRAFT)
    system.add_note(ticket, "step one\n\n[ActionDesk C-0a1b2c3d4e #1]", public=False)
    for i in range(130):  # more than one page of 100: the Link header's rel="next" is followed
        fake.add_comment(ticket.key, f"comment {i}", user="beth.anglin")
    fake.add_comment(ticket.key, "checked the dashboards", user="fred.luddy", element="work_notes")
    comments, cursor = system.comments_since(ticket, None)
    assert [c.text for c in comments] == [*(f"comment {i}" for i in range(130)), "checked the dashboards"]
    assert (comments[0].author, comments[0].public, comments[-1].public) == ("beth.anglin", True, False)
    pages = [q for m, p, q, _ in fake.requests if p.endswith("/sys_journal_field") and "sysparm_offset" in q]
    assert [q["sysparm_offset"] for q in pages[-2:]] == ["0", "100"]
    assert system.comments_since(ticket, cursor)[0] == []
    fake.add_comment(ticket.key, "still broken for me")
    later, _ = system.comments_since(ticket, cursor)
    assert [c.text for c in later] == ["still broken for me"]


def test_oauth_client_credentials_and_a_refreshed_token(snow) -> None:
    _, fake, server = snow
    client = ServiceNowClient(server.url, ClientCredentials(CLIENT_ID, CLIENT_SECRET))
    system = ServiceNowTicketSystem(client)
    ticket = system.create(DRAFT)
    fake.tokens.clear()  # the instance revoked it: one 401, one new token, one retry
    system.add_note(ticket, "after revocation", public=False)
    grants = [r for r in fake.requests if r[1] == "/oauth_token.do"]
    assert len(grants) == 2
    assert fake.journal(ticket.key)[0]["value"] == "after revocation"
    with pytest.raises(TicketRejectedError, match="401"):
        ServiceNowTicketSystem(ServiceNowClient(server.url, ClientCredentials(CLIENT_ID, "wrong"))).find("C-1")


def test_failures_are_retryable_or_rejected_with_servicenows_message(snow) -> None:
    system, fake, server = snow
    ticket = system.create(DRAFT)
    fake.fail(429, {"Retry-After": "7", "X-RateLimit-Limit": "1000", "X-RateLimit-Rule": "b4f5"})
    with pytest.raises(TicketUnavailableError) as busy:
        system.add_note(ticket, "x", public=False)
    assert busy.value.retry_after == 7
    assert busy.value.whole_system
    fake.fail(429, {"X-RateLimit-Reset": str(int(time.time()) + 30)})
    with pytest.raises(TicketUnavailableError) as reset:
        system.add_note(ticket, "x", public=False)
    assert reset.value.retry_after is not None
    assert 25 <= reset.value.retry_after <= 30
    fake.fail(503)
    with pytest.raises(TicketUnavailableError, match="503"):
        system.add_note(ticket, "x", public=False)
    with pytest.raises(TicketRejectedError, match="No Record found: Record doesn't exist"):
        system.add_note(ticket.model_copy(update={"key": "0" * 32}), "x", public=False)
    server.down()
    with pytest.raises(TicketUnavailableError, match="unreachable"):
        system.find(DRAFT.case_id)
    server.up()
    assert system.find(DRAFT.case_id) == ticket
    with pytest.raises(TicketRejectedError, match="cannot query"):
        system.find("C-1^active=true")  # never let a value add a clause to an encoded query


@pytest.mark.parametrize(
    "captured",
    sources("servicenow/incident.create.201.response.json", "servicenow/table-api/incident.create.201.response.json"),
)
def test_created_records_have_the_shape_of_a_captured_one(snow, captured) -> None:
    """The Table API's documented incident record (every field a string, references as {link, value})."""
    real = json.loads(captured.read_text())["result"]
    system, fake, _ = snow
    ticket = system.create(DRAFT)
    ours = fake.tables["incident"][ticket.key]
    assert set(ours) <= set(real)  # every field the fake answers exists on a real incident
    assert all(isinstance(real[k], str | dict) for k in ours)
    assert all(isinstance(v, str) for v in ours.values())
