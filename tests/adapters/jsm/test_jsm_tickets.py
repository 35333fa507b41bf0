"""JsmTicketSystem against a local JSM site following the servicedeskapi and platform v3 contracts, every
request validated against OpenAPI documents of Atlassian's shapes (tests/data/jira/openapi; the published ones
too when ../shared/fixtures/jira/openapi is there)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from ticketfake_http import ThreadedServer
from ticketfake_jsm import DESK, EMAIL, REQUEST_TYPE, TOKEN, FakeJsm, fake_jsm

from actiondesk.adapters.jsm import JsmClient, JsmTicketSystem
from actiondesk.core.errors import TicketRejectedError, TicketUnavailableError
from actiondesk.core.tickets import ChangeDraft, TicketDraft

DRAFT = TicketDraft(case_id="C-5e6f7a8b9c", title="VPN locked for jane", description="since this morning")


def _system(url: str, transition: str = "Resolve") -> JsmTicketSystem:
    client = JsmClient(url, EMAIL, TOKEN)
    return JsmTicketSystem(
        client, service_desk_id=DESK, request_type_id=REQUEST_TYPE, resolve_transition=transition, email=EMAIL
    )


@pytest.fixture
def jsm() -> Iterator[tuple[JsmTicketSystem, FakeJsm, ThreadedServer]]:
    with fake_jsm() as (server, fake):
        yield _system(server.url), fake, server
        assert fake.invalid == []  # nothing the adapter sent broke the OpenAPI documents


def test_the_request_is_created_once_and_found_again_by_its_case_id(jsm) -> None:
    system, fake, _ = jsm
    assert system.find(DRAFT.case_id) is None
    ticket = system.create(DRAFT)
    assert ticket.key == ticket.number == "ITSM-1"
    assert fake.issues["ITSM-1"]["summary"] == "[C-5e6f7a8b9c] VPN locked for jane"
    assert system.find(DRAFT.case_id) == ticket
    assert system.find("C-5e6f7a8b9") is None  # a prefix of another case id is not that case
    method, path, body = fake.writes()[0]
    assert (method, path) == ("POST", "/rest/servicedeskapi/request")
    assert (body["serviceDeskId"], body["requestTypeId"]) == ("10", "25")  # ids are strings


def test_internal_and_public_comments_are_strings_with_public(jsm) -> None:
    system, fake, _ = jsm
    ticket = system.create(DRAFT)
    system.add_note(ticket, "Finding: account locked after 5 failures\n\n[ActionDesk C-5e6f7a8b9c #3]", public=False)
    system.add_note(ticket, "Your VPN session is unlocked.", public=True)
    bodies = [b for m, p, b in fake.writes() if p.endswith("/comment")]
    assert [(type(b["body"]), b["public"]) for b in bodies] == [(str, False), (str, True)]
    assert system.has_entry(ticket, "[ActionDesk C-5e6f7a8b9c #3]")
    assert not system.has_entry(ticket, "[ActionDesk C-5e6f7a8b9c #4]")


def test_resolve_looks_the_transition_up_by_name_and_comments_in_adf(jsm) -> None:
    system, fake, _ = jsm
    ticket = system.create(DRAFT)
    system.resolve(ticket, "Verified: the session is active.\nResolved.")
    issue = fake.issues[ticket.key]
    assert (issue["status"], issue["category"]) == ("Resolve", "done")
    (_, _, body) = next(w for w in fake.writes() if w[1].endswith("/transitions"))
    assert body["transition"] == {"id": "931"}  # this workflow's id for "Resolve", found by name
    doc = body["update"]["comment"][0]["add"]["body"]
    assert (doc["type"], doc["version"], len(doc["content"])) == ("doc", 1, 2)
    assert issue["comments"][-1]["body"] == "Verified: the session is active.\nResolved."
    system.resolve(ticket, "again")  # already done: no transition, a comment says how it ended
    assert issue["comments"][-1]["body"] == "again"
    other = system.create(DRAFT.model_copy(update={"case_id": "C-2"}))
    said = _system(system._client.base_url, "Close").resolve(other, "x")  # no "Close": the done one saying resolve
    assert said is not None
    assert "'Resolve'" in said


def test_escalation_and_cab_changes_are_internal_comments(jsm) -> None:
    system, fake, _ = jsm
    ticket = system.create(DRAFT)
    system.escalate(ticket, "Handed to a person: suggest only")
    number = system.open_change(ticket, ChangeDraft(correlation_id="A-9", title="reset_vpn_session", description="CAB"))
    assert number == ticket.number
    assert [(c["body"].splitlines()[0], c["public"]) for c in fake.issues[ticket.key]["comments"]] == [
        ("Handed to a person: suggest only", False),
        ("reset_vpn_session", False),
    ]


def test_comments_come_back_page_by_page_once_each_without_our_own(jsm) -> None:
    system, fake, _ = jsm
    ticket = system.create(DRAFT)
    system.add_note(ticket, "step\n\n[ActionDesk C-5e6f7a8b9c #1]", public=False)
    for i in range(60):  # more than one page of 50
        fake.add_comment(ticket.key, f"comment {i}")
    comments, cursor = system.comments_since(ticket, None)
    assert [c.text for c in comments] == [f"comment {i}" for i in range(60)]
    assert (comments[0].author, comments[0].public) == ("Fred F. User", True)
    assert comments[0].at > datetime(2025, 1, 1, tzinfo=UTC)
    starts = [q.get("start") for m, p, q, _ in fake.requests if p.endswith("/comment") and m == "GET"]
    assert starts[-2:] == ["0", "50"]
    assert system.comments_since(ticket, cursor)[0] == []
    fake.add_comment(ticket.key, "still locked", public=False)
    later, _ = system.comments_since(ticket, cursor)
    assert [(c.text, c.public) for c in later] == [("still locked", False)]


def test_failures_are_retryable_or_rejected_with_jiras_messages(jsm) -> None:
    system, fake, server = jsm
    ticket = system.create(DRAFT)
    fake.fail(429, {"Retry-After": "5", "RateLimit-Reason": "jira-per-issue-on-write"})
    with pytest.raises(TicketUnavailableError) as per_issue:
        system.add_note(ticket, "x", public=False)
    assert per_issue.value.retry_after == 5
    assert not per_issue.value.whole_system  # only this issue pauses
    reset = (datetime.now(UTC) + timedelta(seconds=40)).isoformat()
    fake.fail(429, {"X-RateLimit-Reset": reset, "RateLimit-Reason": "jira-quota-tenant-based"})
    with pytest.raises(TicketUnavailableError) as tenant:
        system.add_note(ticket, "x", public=False)
    assert tenant.value.whole_system
    assert tenant.value.retry_after is not None
    assert 35 <= tenant.value.retry_after <= 40
    fake.fail(503, {"Retry-After": "2"})
    with pytest.raises(TicketUnavailableError, match="503"):
        system.add_note(ticket, "x", public=False)
    with pytest.raises(TicketRejectedError, match="The request could not be found"):
        system.add_note(ticket.model_copy(update={"key": "ITSM-404"}), "x", public=False)
    server.down()
    with pytest.raises(TicketUnavailableError, match="unreachable"):
        system.find(DRAFT.case_id)
    server.up()
    assert system.find(DRAFT.case_id) == ticket


def test_requests_that_break_the_openapi_documents_are_caught() -> None:
    """The validation is real: an ADF body on the JSM comment API and a numeric serviceDeskId are refused."""
    with fake_jsm() as (server, fake):
        auth = (EMAIL, TOKEN)
        created = httpx.post(
            f"{server.url}/rest/servicedeskapi/request",
            auth=auth,
            json={"serviceDeskId": 10, "requestTypeId": "25", "requestFieldValues": {"summary": "x"}},
        )
        assert created.status_code == 400
        good = _system(server.url).create(DRAFT)
        adf = {"body": {"type": "doc", "version": 1, "content": []}, "public": False}
        refused = httpx.post(f"{server.url}/rest/servicedeskapi/request/{good.key}/comment", auth=auth, json=adf)
        assert refused.status_code == 400
        assert len(fake.invalid) == 2
        assert "serviceDeskId" in fake.invalid[0] or "type" in fake.invalid[0]


DEFAULT_DESK_WORKFLOW = [
    ("761", "In Progress", "indeterminate"),
    ("811", "Resolve this issue", "done"),
    ("951", "Cancel", "done"),
]


def test_without_the_named_transition_the_done_transition_that_says_resolve_is_taken_and_said(jsm) -> None:
    """Defect: JSM's default workflow names it "Resolve this issue"; the default setting looked for "Resolve",
    found nothing, and the resolution was dropped."""
    system, fake, _ = jsm
    fake.workflow = list(DEFAULT_DESK_WORKFLOW)
    ticket = system.create(DRAFT)
    said = system.resolve(ticket, "Verified: the session is active.")
    issue = fake.issues[ticket.key]
    assert (issue["status"], issue["category"]) == ("Resolve this issue", "done")  # not "Cancel", also done
    (_, _, body) = next(w for w in fake.writes() if w[1].endswith("/transitions"))
    assert body["transition"] == {"id": "811"}
    assert said is not None
    assert "'Resolve this issue'" in said
    assert "JSM_RESOLVE_TRANSITION" in said


def test_with_no_done_transition_that_says_resolve_it_fails_loudly(jsm) -> None:
    system, fake, _ = jsm
    fake.workflow = [("761", "In Progress", "indeterminate"), ("951", "Cancel", "done")]
    ticket = system.create(DRAFT)
    with pytest.raises(TicketRejectedError, match=r"no transition named 'Resolve'.*In Progress, Cancel"):
        system.resolve(ticket, "x")
    assert fake.issues[ticket.key]["category"] != "done"
