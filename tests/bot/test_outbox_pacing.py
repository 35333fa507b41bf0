"""Rate limits: Jira's per-issue write limit holds only that ticket while others flow; a tenant-wide limit
(or a ServiceNow 429) pauses the whole system until its Retry-After, with nothing sent meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from test_outbox_delivery import mirrored
from ticketfake_http import ThreadedServer
from ticketfake_jsm import FakeJsm, fake_jsm

from actiondesk.adapters.store import SqlStore
from actiondesk.bot.jobs.outbox import OutboxWorker
from actiondesk.bot.wiring.tickets import ticket_systems
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.tickets import OutboxDraft, OutboxStatus, TicketDraft, TicketUpdate, UpdateKind

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def jsm() -> Iterator[tuple[ThreadedServer, FakeJsm]]:
    with fake_jsm() as pair:
        yield pair


def two_cases(store: SqlStore) -> list[str]:
    ids = ["C-aaaaaaaaaa", "C-bbbbbbbbbb"]
    with store.transaction() as uow:
        for case_id in ids:
            uow.add_case(
                Case(
                    id=case_id,
                    kind=CaseKind.INCIDENT,
                    title=f"{case_id} is down",
                    text="down",
                    reporter="alice",
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            note = TicketUpdate(kind=UpdateKind.NOTE, text=f"working on {case_id}")
            draft = TicketDraft(case_id=case_id, title=f"{case_id} is down", description="down")
            uow.enqueue([OutboxDraft(system="jsm", ticket=draft, update=note)], NOW)
    return ids


def test_a_per_issue_limit_holds_only_that_ticket(
    jsm: tuple[ThreadedServer, FakeJsm], store: SqlStore, database_url: str
) -> None:
    server, fake = jsm
    first, second = two_cases(store)
    clock = SimulatedClock(NOW)
    worker = OutboxWorker(store.outbox, ticket_systems(mirrored(database_url, jsm=server.url)), clock, owner="w")
    fake.fail(429, {"Retry-After": "30", "RateLimit-Reason": "jira-per-issue-on-write"})
    assert worker.deliver_due() == 1  # the first case's row waits; the second's goes through now
    assert [i["summary"][:14] for i in fake.issues.values()] == [f"[{second}]"]
    assert worker.paused == {}
    clock.advance(29)
    assert worker.deliver_due() == 0
    clock.advance(2)
    assert worker.deliver_due() == 1
    assert store.outbox.rows(OutboxStatus.PENDING) == []
    assert sorted(i["summary"][:14] for i in fake.issues.values()) == [f"[{first}]", f"[{second}]"]


def test_a_tenant_wide_limit_pauses_every_ticket_until_retry_after(
    jsm: tuple[ThreadedServer, FakeJsm], store: SqlStore, database_url: str
) -> None:
    server, fake = jsm
    two_cases(store)
    clock = SimulatedClock(NOW)
    worker = OutboxWorker(store.outbox, ticket_systems(mirrored(database_url, jsm=server.url)), clock, owner="w")
    fake.fail(429, {"Retry-After": "30", "RateLimit-Reason": "jira-quota-tenant-based"})
    assert worker.deliver_due() == 0
    assert len(fake.requests) == 1  # the second ticket was not even tried in that pass
    clock.advance(29)
    assert worker.deliver_due() == 0
    assert len(fake.requests) == 1
    clock.advance(2)
    assert worker.deliver_due() == 2
    assert len(fake.issues) == 2
