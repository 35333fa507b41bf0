"""The outbox end to end: a whole case mirrored into a local ServiceNow while it is down (connection refused,
then 503, then 429 with Retry-After) arrives after recovery in order and exactly once; a process killed
between the remote success and marking the row done duplicates nothing; a rejected write is a dead letter
after one attempt, said in the thread, and `retry` re-queues it; rows commit only with their case change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ticketfake_http import ThreadedServer
from ticketfake_jsm import DESK, EMAIL, REQUEST_TYPE, TOKEN, FakeJsm, fake_jsm
from ticketfake_snow import PASSWORD, USER, FakeServiceNow, fake_servicenow

from actiondesk.adapters.sandbox import load_scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.adapters.store.outbox import SqlOutbox
from actiondesk.bot.jobs.mirroring import outbox_worker
from actiondesk.bot.jobs.outbox import OutboxWorker
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.bot.wiring.tickets import ticket_systems
from actiondesk.core.audit import AuditKind
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.settings import Settings
from actiondesk.core.tickets import OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
BAD_DEPLOY = load_scenario(ROOT / "scenarios" / "bad-deploy-rollback.yaml")


def mirrored(database_url: str, snow: str | None = None, jsm: str | None = None, drain: float = 0.0) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        servicenow_instance_url=snow,
        servicenow_username=USER,
        servicenow_password=PASSWORD,
        jsm_base_url=jsm,
        jsm_email=EMAIL,
        jsm_api_token=TOKEN,
        jsm_service_desk_id=DESK,
        jsm_request_type_id=REQUEST_TYPE,
        outbox_drain_seconds=drain,
    )


@pytest.fixture
def snow() -> Iterator[tuple[ThreadedServer, FakeServiceNow]]:
    with fake_servicenow() as pair:
        yield pair


@pytest.fixture
def jsm() -> Iterator[tuple[ThreadedServer, FakeJsm]]:
    with fake_jsm() as pair:
        yield pair


def worker_for(settings: Settings, store: SqlStore, clock: SimulatedClock, owner: str = "w1") -> OutboxWorker:
    worker = outbox_worker(settings, store, clock, owner)
    worker._base = 1.0  # (backoff of at most 1, 2, 4 ... simulated seconds)
    return worker


def markers(text: str) -> list[int]:
    return [int(part.split("#")[1].rstrip("]")) for part in text.split("[ActionDesk ")[1:]]


def test_a_whole_case_through_an_outage_arrives_in_order_exactly_once(
    snow: tuple[ThreadedServer, FakeServiceNow], store: SqlStore, database_url: str
) -> None:
    server, fake = snow
    settings = mirrored(database_url, snow=server.url)
    server.down()
    report = run_scenario(BAD_DEPLOY, settings, store)  # the case runs while ServiceNow is unreachable
    assert report.passed, report.mismatches
    rows = store.outbox.rows(OutboxStatus.PENDING)
    assert len(rows) >= 5
    assert {r.case_id for r in rows} == {report.cases[0]}
    assert [r.update.kind.value for r in rows][-1] == "resolve"
    assert any("still queued" in note for note in report.notes)

    clock = SimulatedClock(datetime.now(UTC))
    worker = worker_for(settings, store, clock)
    assert worker.deliver_due() == 0  # connection refused: the system pauses
    assert fake.requests == []
    server.up()
    fake.fail(503)
    clock.advance(5)
    assert worker.deliver_due() == 0
    fake.fail(429, {"Retry-After": "120"})
    clock.advance(10)
    assert worker.deliver_due() == 0
    seen = len(fake.requests)
    clock.advance(60)
    assert worker.deliver_due() == 0  # still inside Retry-After: nothing is sent at all
    assert len(fake.requests) == seen
    clock.advance(61)
    assert worker.deliver_due() >= 1
    while store.outbox.rows(OutboxStatus.PENDING):
        clock.advance(1)
        worker.deliver_due()

    (incident,) = fake.tables["incident"].values()
    assert incident["correlation_id"] == report.cases[0]
    assert incident["state"] == "6"
    delivered = [m for entry in fake.journal(incident["sys_id"]) for m in markers(entry["value"])]
    notes = [r.id for r in rows if r.update.kind.value != "attach"]
    assert delivered == notes  # every update, in order, exactly once
    (attached,) = fake.files(incident["sys_id"])  # and the post-mortem, once
    assert attached["file_name"] == f"postmortem-{report.cases[0]}.md"
    assert attached["text"].startswith(f"# Post-mortem {report.cases[0]}")
    assert all(r.status is OutboxStatus.DONE for r in store.outbox.rows())


class _Killed(BaseException):
    """What SIGKILL would do to the worker: nothing after this point runs."""


class DiesAfterRemoteSuccess(SqlOutbox):
    """An outbox whose process dies right after the ITSM answered, before the row is marked done (or, with
    ``at_link``, right after the ticket was created, before its key is stored)."""

    def __init__(self, outbox: SqlOutbox, at_link: bool = False) -> None:
        super().__init__(outbox._engine)
        self.at_link = at_link

    def done(self, row_id: int, at: datetime) -> None:
        if not self.at_link:
            raise _Killed
        super().done(row_id, at)

    def save_link(self, case_id, ticket, at) -> None:  # type: ignore[no-untyped-def]
        if self.at_link:
            raise _Killed
        super().save_link(case_id, ticket, at)


@pytest.mark.parametrize("at_link", [False, True], ids=["before-done", "before-link"])
@pytest.mark.parametrize("system", ["servicenow", "jsm"])
def test_a_kill_after_the_remote_success_duplicates_nothing(
    system: str,
    at_link: bool,
    snow: tuple[ThreadedServer, FakeServiceNow],
    jsm: tuple[ThreadedServer, FakeJsm],
    store: SqlStore,
    database_url: str,
) -> None:
    (snow_server, snow_fake), (jsm_server, jsm_fake) = snow, jsm
    on = {"servicenow": {"snow": snow_server.url}, "jsm": {"jsm": jsm_server.url}}[system]
    settings = mirrored(database_url, **on)
    clock = SimulatedClock(datetime.now(UTC) + timedelta(minutes=5))  # past the scenario's own retry delay
    systems = ticket_systems(settings)
    server = snow_server if system == "servicenow" else jsm_server
    server.down()  # so that `scenario run` leaves the rows queued
    played = run_scenario(BAD_DEPLOY, settings, store)
    server.up()
    assert played.passed
    rows = store.outbox.rows(OutboxStatus.PENDING)
    first = rows[0]

    dying = OutboxWorker(DiesAfterRemoteSuccess(store.outbox, at_link), systems, clock, owner="doomed")
    with pytest.raises(_Killed):
        dying.deliver_due()
    if system == "servicenow":
        assert len(snow_fake.tables["incident"]) == 1  # the remote side did succeed
    else:
        assert len(jsm_fake.issues) == 1
    assert store.outbox.rows(OutboxStatus.DONE) == []

    clock.advance(61)  # the dead process's claim runs out
    survivor = OutboxWorker(store.outbox, ticket_systems(settings), clock, owner="survivor")
    while store.outbox.rows(OutboxStatus.PENDING):
        survivor.deliver_due()
    if system == "servicenow":
        (incident,) = snow_fake.tables["incident"].values()
        entries = [m for e in snow_fake.journal(incident["sys_id"]) for m in markers(e["value"])]
    else:
        (issue,) = jsm_fake.issues.values()
        entries = [m for c in issue["comments"] for m in markers(c["body"])]
    assert entries == [r.id for r in rows if r.update.kind.value != "attach"]  # once each, in order
    assert entries.count(first.id) == 1
    files = snow_fake.files(incident["sys_id"]) if system == "servicenow" else issue["files"]
    assert len(files) == 1  # the post-mortem, attached once
    # the killed attempt and the survivor's, which looked for the row's marker before writing
    assert store.outbox.rows(OutboxStatus.DONE)[0].attempts == first.attempts + 2


def test_a_rejected_write_is_a_dead_letter_after_one_attempt_said_in_the_thread(
    snow: tuple[ThreadedServer, FakeServiceNow], store: SqlStore, database_url: str
) -> None:
    server, fake = snow
    settings = mirrored(database_url, snow=server.url)
    fake.fail(400, method="POST")  # the first write (creating the incident) is refused
    report = run_scenario(BAD_DEPLOY, settings.model_copy(update={"outbox_drain_seconds": 5.0}), store)
    case_id = report.cases[0]
    (dead,) = store.outbox.rows(OutboxStatus.DEAD)
    assert dead.attempts == 1
    assert "400" in (dead.last_error or "")
    posts = [w for w in fake.writes() if w[1] == "/api/now/table/incident"]
    assert len(posts) == 2  # the refused one, then the next row's
    assert store.outbox.rows(OutboxStatus.PENDING) == []  # later rows of the ticket went on
    notices = [e for e in store.audit(case_id) if e.kind is AuditKind.MESSAGE and e.payload.get("outbox_id")]
    assert len(notices) == 1
    assert f"actiondesk outbox retry {dead.id}" in str(notices[0].payload["text"])

    store.outbox.requeue(dead.id, datetime.now(UTC))
    clock = SimulatedClock(datetime.now(UTC) + timedelta(seconds=1))
    assert worker_for(settings, store, clock).deliver_due() == 1
    assert store.outbox.rows(OutboxStatus.DEAD) == []
    (incident,) = fake.tables["incident"].values()
    assert dead.id in [m for e in fake.journal(incident["sys_id"]) for m in markers(e["value"])]


def test_rows_commit_only_with_the_case_change_they_mirror(
    snow: tuple[ThreadedServer, FakeServiceNow], store: SqlStore, database_url: str
) -> None:
    from actiondesk.adapters.sandbox import SandboxEstate
    from actiondesk.agents.record import say
    from actiondesk.bot.scenario.runner import scenario_policy
    from actiondesk.bot.wiring.root import build_runtime

    server, _ = snow
    settings = mirrored(database_url, snow=server.url)
    clock = SimulatedClock(BAD_DEPLOY.start)
    runtime = build_runtime(
        settings, store, SandboxEstate(BAD_DEPLOY.build_world(), clock), clock, scenario_policy(BAD_DEPLOY, settings)
    )
    case = runtime.loop.open_case("the search page is slow", "alice")
    recorder = runtime.loop.recorder

    def fails_after_the_save() -> None:
        with store.transaction() as uow:
            recorder.save(store.get_case(case.id).changed(clock.now()), say("Looking into it."), uow=uow)
            raise RuntimeError("the transaction fails after the save")

    with pytest.raises(RuntimeError):
        fails_after_the_save()
    assert store.outbox.rows() == []
    recorder.save(store.get_case(case.id).changed(clock.now()), say("Looking into it."))
    (row,) = store.outbox.rows()
    assert (row.case_id, row.update.text, row.ticket.title) == (case.id, "Looking into it.", case.title)
