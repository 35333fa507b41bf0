"""Hand-offs page the owner's on-call through the outbox: local PagerDuty (Events API v2) and Opsgenie (Alert API)
services check the documented request shapes. An escalation triggers one page, a repeat does not page again,
the case's resolution resolves the page, and an outage delays the page and then delivers it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from pagerfake import GENIE_KEY, ROUTING_KEY, FakePager, fake_pager
from ticketfake_http import ThreadedServer

from actiondesk.adapters.pagerduty import PagerDutyPager
from actiondesk.bot.jobs.mirroring import outbox_worker
from actiondesk.bot.jobs.outbox import OutboxWorker
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus
from actiondesk.core.paging import PageDraft
from actiondesk.core.tickets import OutboxStatus

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk

K = AuditKind


@pytest.fixture
def pagerduty() -> Iterator[tuple[ThreadedServer, FakePager]]:
    with fake_pager("pagerduty") as pair:
        yield pair


@pytest.fixture
def opsgenie() -> Iterator[tuple[ThreadedServer, FakePager]]:
    with fake_pager("opsgenie") as pair:
        yield pair


def worker(desk: Desk) -> OutboxWorker:
    out = outbox_worker(desk.runtime.settings, desk.store, desk.clock, "w1", systems={}, paging=desk.runtime.pagers)
    out._base = 1.0
    return out


def deliver(desk: Desk) -> None:
    out = worker(desk)
    for _ in range(50):
        if not desk.store.outbox.rows(OutboxStatus.PENDING):
            return
        out.deliver_due()
        desk.wait(2)
    raise AssertionError(f"still pending: {desk.store.outbox.rows(OutboxStatus.PENDING)}")


def entries(desk: Desk, case_id: str, kind: AuditKind) -> list[dict]:
    return [e.payload for e in desk.audit(case_id) if e.kind is kind]


def said(desk: Desk, case_id: str) -> list[str]:
    return [str(e.payload["text"]) for e in desk.audit(case_id) if e.kind is K.MESSAGE and e.actor == "actiondesk"]


def unexplained(desk: Desk):
    """payment-gateway fails with no change before it: triage abstains, the case goes to people."""
    desk.fault("payment-gateway")
    desk.wait(120)
    case = desk.report()
    assert case.status is CaseStatus.ESCALATED
    return case


def rejected_then_fixed(desk: Desk):
    """A bad deploy; bob rejects the rollback (to people: paged), then asks for it after all; erin approves."""
    desk.bad_deploy()
    case = desk.report()
    (approval,) = desk.pending(case.id)
    desk.runtime.approvals.decide(approval.id, "bob", False, "not during the sale")
    assert desk.store.get_case(case.id).status is CaseStatus.ESCALATED
    return case


def fixed(desk: Desk, case_id: str):
    desk.wait(90)
    desk.runtime.loop.add_message(case_id, "bob", "payment gateway is still throwing 500s, go ahead and roll it back")
    case = desk.runtime.loop.run(case_id)
    assert case.status is CaseStatus.AWAITING_APPROVAL
    return desk.approve(case_id, "erin")


def test_an_escalated_incident_pages_pagerduty_once_with_the_documented_event(
    make_desk: MakeDesk, pagerduty: tuple[ThreadedServer, FakePager]
) -> None:
    server, fake = pagerduty
    desk = make_desk(pagerduty_routing_key=ROUTING_KEY, pagerduty_url=server.url, public_url="https://desk.example.com")
    case = unexplained(desk)

    (handed,) = entries(desk, case.id, K.HANDED_OFF)
    assert (handed["team"], handed["group"], handed["people"]) == ("payments", "payments-oncall", ["grace"])
    assert (handed["paged"], handed["source"], handed["mention"]) == (["pagerduty"], "service:payment-gateway", False)
    assert "Handed to payments on-call: grace (payments-oncall); paged through PagerDuty." in said(desk, case.id)
    (page,) = entries(desk, case.id, K.PAGE)
    assert (page["action"], page["dedup_key"], page["systems"]) == ("trigger", case.id, ["pagerduty"])
    assert fake.requests == []  # nothing leaves before the outbox delivers it

    deliver(desk)
    (alert,) = fake.alerts
    assert (alert.key, alert.status, alert.count) == (case.id, "triggered", 1)
    (event,) = alert.events
    assert event["routing_key"] == ROUTING_KEY
    assert (event["event_action"], event["dedup_key"]) == ("trigger", case.id)
    payload = event["payload"]
    assert payload["summary"].startswith(f"[ActionDesk {case.id}] payment-gateway: triage abstained")
    assert (payload["source"], payload["component"], payload["group"]) == (
        "payment-gateway",
        "payment-gateway",
        "payments-oncall",
    )
    assert payload["severity"] == "critical"  # tier 1, production
    details = payload["custom_details"]
    assert (details["case"], details["team"], details["reason"]) == (case.id, "payments", "triage abstained")
    assert details["console"] == f"https://desk.example.com/#case={case.id}"
    assert event["links"] == [
        {"href": f"https://desk.example.com/#case={case.id}", "text": f"ActionDesk case {case.id}"}
    ]
    assert ROUTING_KEY not in str(desk.audit(case.id)), "the routing key never reaches the audit trail"


def test_a_repeated_escalation_does_not_page_again(
    make_desk: MakeDesk, pagerduty: tuple[ThreadedServer, FakePager]
) -> None:
    server, fake = pagerduty
    desk = make_desk(pagerduty_routing_key=ROUTING_KEY, pagerduty_url=server.url)
    case = unexplained(desk)
    deliver(desk)
    desk.wait(60)
    desk.runtime.loop.add_message(case.id, "alice", "payment gateway is still throwing 500s")
    again = desk.runtime.loop.run(case.id)  # reopened, triaged, and handed to people once more

    assert again.status is CaseStatus.ESCALATED
    assert len(entries(desk, case.id, K.HANDED_OFF)) == 2
    assert len(entries(desk, case.id, K.PAGE)) == 1, "the case's page is still open: no second trigger"
    assert said(desk, case.id)[-1].endswith("the page through PagerDuty is still open.")
    deliver(desk)
    assert len(fake.accepted()) == 1
    # A trigger sent again for the same case (a lost answer, a retry) is folded into the open alert by PagerDuty.
    (row,) = desk.store.outbox.rows(OutboxStatus.DONE)
    assert row.update.page is not None
    PagerDutyPager(server.url, ROUTING_KEY).trigger(row.update.page)
    (alert,) = fake.alerts
    assert (alert.count, alert.status) == (2, "triggered")


def test_the_resolution_of_the_case_resolves_the_page(
    make_desk: MakeDesk, pagerduty: tuple[ThreadedServer, FakePager]
) -> None:
    server, fake = pagerduty
    desk = make_desk(pagerduty_routing_key=ROUTING_KEY, pagerduty_url=server.url)
    case = rejected_then_fixed(desk)
    deliver(desk)
    assert fake.open(case.id) is not None

    done = fixed(desk, case.id)

    assert done.status is CaseStatus.RESOLVED
    pages = entries(desk, case.id, K.PAGE)
    assert [p["action"] for p in pages] == ["trigger", "resolve"]
    (picked,) = entries(desk, case.id, K.PICKED_UP)
    handed = next(e for e in desk.audit(case.id) if e.kind is K.HANDED_OFF)
    wrote = next(e for e in desk.audit(case.id) if e.kind is K.MESSAGE and e.actor == "bob")
    assert (picked["by"], picked["how"]) == ("bob", "message")
    assert picked["after_seconds"] == (wrote.at - handed.at).total_seconds() >= 90
    deliver(desk)
    (alert,) = fake.alerts
    assert alert.status == "resolved"
    resolve = alert.events[-1]
    assert resolve == {"routing_key": ROUTING_KEY, "event_action": "resolve", "dedup_key": case.id}


def test_opsgenie_gets_an_alert_for_the_owner_team_closed_by_its_alias(
    make_desk: MakeDesk, opsgenie: tuple[ThreadedServer, FakePager]
) -> None:
    server, fake = opsgenie
    desk = make_desk(opsgenie_api_key=GENIE_KEY, opsgenie_url=server.url)
    case = rejected_then_fixed(desk)
    deliver(desk)
    (alert,) = fake.alerts
    (create,) = alert.events
    assert create["alias"] == case.id
    assert create["message"].startswith(f"[ActionDesk {case.id}] payment-gateway: rejected by bob")
    assert len(create["message"]) <= 130
    assert create["responders"] == [{"name": "payments", "type": "team"}]
    assert (create["priority"], create["entity"], create["source"]) == ("P1", "payment-gateway", "ActionDesk")
    assert create["details"]["reason"] == "rejected by bob"
    assert all(isinstance(v, str) for v in create["details"].values())
    (method, path, query, headers, _) = fake.requests[0]
    assert (method, path, headers["Authorization"]) == ("POST", "/v2/alerts", f"GenieKey {GENIE_KEY}")

    fixed(desk, case.id)
    deliver(desk)
    assert alert.status == "closed"
    method, path, query, _, body = fake.requests[-1]
    assert (method, path, query) == ("POST", f"/v2/alerts/{case.id}/close", {"identifierType": "alias"})
    assert body["source"] == "ActionDesk"


@pytest.mark.parametrize("kind", ["pagerduty", "opsgenie"])
def test_an_outage_delays_the_page_and_then_delivers_it_once(make_desk: MakeDesk, kind: str) -> None:
    with fake_pager(kind) as (server, fake):
        keys = {
            "pagerduty": {"pagerduty_routing_key": ROUTING_KEY, "pagerduty_url": server.url},
            "opsgenie": {"opsgenie_api_key": GENIE_KEY, "opsgenie_url": server.url},
        }
        desk = make_desk(**keys[kind])
        server.down()
        case = unexplained(desk)
        out = worker(desk)
        assert out.deliver_due() == 0  # connection refused: the pager pauses, the page waits
        (row,) = desk.store.outbox.rows(OutboxStatus.PENDING)
        assert row.system == kind
        server.up()
        fake.fail(503)
        desk.wait(5)
        assert out.deliver_due() == 0
        fake.fail(429, {"Retry-After": "120"})
        desk.wait(10)
        assert out.deliver_due() == 0
        seen = len(fake.requests)
        desk.wait(100)
        assert out.deliver_due() == 0
        assert len(fake.requests) == seen, "nothing is sent inside Retry-After"
        desk.wait(25)
        assert out.deliver_due() == 1
        (alert,) = fake.alerts
        assert (alert.key, alert.count) == (case.id, 1)
        (done,) = desk.store.outbox.rows(OutboxStatus.DONE)
        assert done.attempts == 4


def test_a_page_the_pager_refuses_is_a_dead_letter_said_in_the_thread(
    make_desk: MakeDesk, pagerduty: tuple[ThreadedServer, FakePager]
) -> None:
    server, _fake = pagerduty
    desk = make_desk(pagerduty_routing_key="not-the-integration-key", pagerduty_url=server.url)
    case = unexplained(desk)
    worker(desk).deliver_due()
    (dead,) = desk.store.outbox.rows(OutboxStatus.DEAD)
    assert "400" in (dead.last_error or "")
    assert "routing_key" in (dead.last_error or "")
    assert any("PagerDuty rejected this case's page" in t for t in said(desk, case.id))
    assert "not-the-integration-key" not in str(desk.audit(case.id))


def test_without_a_pager_the_hand_off_mentions_the_owner_group(make_desk: MakeDesk) -> None:
    desk = make_desk()
    case = unexplained(desk)
    (handed,) = entries(desk, case.id, K.HANDED_OFF)
    assert (handed["paged"], handed["mention"]) == ([], True)
    assert "Handed to payments on-call: grace (@payments-oncall)." in said(desk, case.id)
    assert entries(desk, case.id, K.PAGE) == []
    assert desk.store.outbox.rows() == []


def test_a_request_is_assigned_to_its_owner_not_paged(
    make_desk: MakeDesk, pagerduty: tuple[ThreadedServer, FakePager]
) -> None:
    server, fake = pagerduty
    desk = make_desk(pagerduty_routing_key=ROUTING_KEY, pagerduty_url=server.url)
    case = desk.report("I forgot my password, please reset it", user="frank")
    (approval,) = desk.pending(case.id)
    desk.runtime.approvals.decide(approval.id, "bob", False, "call the service desk")
    (handed,) = entries(desk, case.id, K.HANDED_OFF)
    assert (handed["team"], handed["group"], handed["source"]) == ("identity", "support", "staple:password_reset")
    assert handed["paged"] == []
    assert "Handed to identity on-call: alice (@support)." in said(desk, case.id)
    assert desk.store.outbox.rows() == []
    assert fake.requests == []


@pytest.mark.parametrize(
    ("tier", "environment", "severity", "priority"),
    [(0, "production", "critical", "P1"), (2, "production", "error", "P2"), (3, "staging", "warning", "P3")],
)
def test_a_page_is_as_loud_as_the_service_is_critical(tier, environment, severity, priority) -> None:
    from actiondesk.adapters.opsgenie.alerts import create_body
    from actiondesk.adapters.pagerduty.events import event
    from actiondesk.agents.ownership.handoff import severity as loudness
    from actiondesk.core.estate import Service

    level = loudness(Service("svc", tier, environment, "v1"))
    page = PageDraft(action="trigger", dedup_key="C-1", summary="s", severity=level)
    assert event(ROUTING_KEY, page)["payload"]["severity"] == severity
    assert create_body(page)["priority"] == priority
