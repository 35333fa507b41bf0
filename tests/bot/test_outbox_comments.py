"""Two-way mirroring: what people write on the ServiceNow incident and the JSM request comes back into the
case thread once, from a cursor that survives a restart, never ActionDesk's own notes; a new complaint
reopens a resolved case; with two replicas one of them reads each firing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from test_outbox_delivery import mirrored
from ticketfake_http import ThreadedServer
from ticketfake_jsm import FakeJsm, fake_jsm
from ticketfake_snow import FakeServiceNow, fake_servicenow

from actiondesk.adapters.sandbox import SandboxEstate, load_scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.jobs.comments import CURSORS, CommentPoller
from actiondesk.bot.scenario.runner import run_scenario, scenario_policy
from actiondesk.bot.wiring.root import build_runtime
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = load_scenario(ROOT / "scenarios" / "bad-deploy-rollback.yaml")


@pytest.fixture
def desks() -> Iterator[tuple[ThreadedServer, FakeServiceNow, ThreadedServer, FakeJsm]]:
    with fake_servicenow() as (snow_server, snow), fake_jsm() as (jsm_server, jsm):
        yield snow_server, snow, jsm_server, jsm


def poller(settings: Settings, store: SqlStore) -> CommentPoller:
    clock = SimulatedClock(datetime.now(UTC))
    estate = SandboxEstate(SCENARIO.build_world(), clock)
    runtime = build_runtime(settings, store, estate, clock, scenario_policy(SCENARIO, settings))
    return CommentPoller(store, runtime.tickets, runtime.loop)


def thread(store: SqlStore, case_id: str) -> list[tuple[str, str]]:
    return [(e.actor, str(e.payload["text"])) for e in store.audit(case_id) if e.kind is AuditKind.MESSAGE]


def test_peoples_comments_come_back_into_the_thread_once(
    desks: tuple[ThreadedServer, FakeServiceNow, ThreadedServer, FakeJsm], store: SqlStore, database_url: str
) -> None:
    snow_server, snow, jsm_server, jsm = desks
    settings = mirrored(database_url, snow=snow_server.url, jsm=jsm_server.url, drain=30.0)
    case_id = run_scenario(SCENARIO, settings, store).cases[0]
    (incident,) = snow.tables["incident"].values()
    (key,) = jsm.issues
    before = thread(store, case_id)

    snow.add_comment(incident["sys_id"], "Confirmed from the merchant side: charges go through.")
    snow.add_comment(incident["sys_id"], "Linked to PRB0040012.", user="fred.luddy", element="work_notes")
    jsm.add_comment(key, "Thanks, all good here.")
    assert poller(settings, store).poll() == [case_id]
    new = thread(store, case_id)[len(before) :]
    assert new == [
        (f"beth.anglin on {incident['number']}", "Confirmed from the merchant side: charges go through."),
        (f"fred.luddy on {incident['number']}", "Linked to PRB0040012."),
        (f"Fred F. User on {key}", "Thanks, all good here."),
    ]
    assert not any("[ActionDesk " in text for _, text in new)  # our own notes are not read back
    assert store.get_case(case_id).status is CaseStatus.RESOLVED  # thanks do not reopen it

    restarted = poller(settings, store)  # a new process: the cursors come from the database
    assert store.get_blob(CURSORS) is not None
    assert restarted.poll() == []
    assert len(thread(store, case_id)) == len(before) + 3

    jsm.add_comment(key, "payment gateway is throwing 500s again")
    assert restarted.poll() == [case_id]
    assert store.get_case(case_id).status is CaseStatus.TRIAGING  # a new complaint reopens the case


def test_with_two_replicas_one_reads_each_firing(
    desks: tuple[ThreadedServer, FakeServiceNow, ThreadedServer, FakeJsm], store: SqlStore, database_url: str
) -> None:
    snow_server, snow, _, _ = desks
    settings = mirrored(database_url, snow=snow_server.url, drain=30.0)
    case_id = run_scenario(SCENARIO, settings, store).cases[0]
    (incident,) = snow.tables["incident"].values()
    snow.add_comment(incident["sys_id"], "seen")
    now = datetime.now(UTC)
    first, second = poller(settings, store), poller(settings, store)
    reads = len(snow.requests)
    assert first.poll_once(now, 60.0, "replica-1") == [case_id]
    after_first = len(snow.requests)
    assert after_first > reads
    assert second.poll_once(now, 60.0, "replica-2") == []
    assert len(snow.requests) == after_first  # the second replica did not even read
