"""The scheduler: every shared firing runs exactly once across processes on one database (SQLite and
PostgreSQL), chaos days switch on from a cron schedule, and APScheduler really drives the jobs."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from actiondesk.adapters.sandbox import DEFAULT_START, DeployEvent, FaultEvent, SandboxEstate, default_estate
from actiondesk.agents.governance import PolicyData
from actiondesk.bot.jobs.scheduler import Scheduler, cron_trigger, last_fire, slot
from actiondesk.bot.wiring.root import Runtime, build_runtime
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.governance import Outcome
from actiondesk.core.plan import ActionCall
from actiondesk.core.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    MakeDesk = Callable[..., object]


@dataclass
class Desk:
    runtime: Runtime
    store: object
    estate: SandboxEstate
    clock: SimulatedClock

    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def bad_deploy(self) -> None:
        self.estate.apply(DeployEvent(service="payment-gateway", version="v2.5.0", commit="9f3c2ab", author="dave"))
        self.wait(60)
        self.estate.apply(FaultEvent(service="payment-gateway", kind="error_rate", value=0.35))
        self.wait(60)

    def report(self) -> Case:
        case = self.runtime.loop.open_case("payment gateway is throwing 500s", "alice")
        return self.runtime.loop.run(case.id)


@pytest.fixture
def make_desk(store, database_url):
    def build(**overrides: object) -> Desk:
        clock = SimulatedClock(DEFAULT_START)
        estate = SandboxEstate(default_estate(DEFAULT_START), clock)
        fields: dict[str, object] = {"database_url": database_url, "verify_interval_seconds": 10.0, **overrides}
        settings = Settings(_env_file=None, **fields)  # type: ignore[call-arg]
        return Desk(build_runtime(settings, store, estate, clock, PolicyData()), store, estate, clock)

    return build


def waiting(desk) -> str:
    desk.bad_deploy()
    case = desk.report()
    assert case.status is CaseStatus.AWAITING_APPROVAL
    return case.id


def test_three_replicas_fire_each_approvals_job_exactly_once(make_desk: MakeDesk) -> None:
    desk = make_desk()
    case_id = waiting(desk)
    desk.wait(3600)  # the approval is overdue
    replicas = [Scheduler(desk.runtime, owner=f"replica-{i}") for i in range(3)]
    start = slot(desk.clock.now(), replicas[0].interval)
    fires = [start + timedelta(seconds=replicas[0].interval * k) for k in range(10)]
    ran: list[tuple[str, datetime]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def replica(scheduler: Scheduler) -> None:
        barrier.wait()
        for fire in fires:
            if scheduler.run_approvals(fire) is not None:
                with lock:
                    ran.append((scheduler.owner, fire))

    threads = [threading.Thread(target=replica, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(f for _, f in ran) == fires, "every firing ran, and only once"
    assert desk.store.approvals(case_id)[0].status is ApprovalStatus.EXPIRED


def test_replicas_with_skewed_clocks_claim_the_same_firing() -> None:
    now = datetime(2026, 11, 2, 9, 0, 7, tzinfo=UTC)
    assert slot(now, 15) == slot(now + timedelta(seconds=7), 15) == datetime(2026, 11, 2, 9, 0, 0, tzinfo=UTC)
    trigger = cron_trigger("0 9 * * 1")  # Mondays 09:00 in standard cron (1 = Monday)
    assert last_fire(trigger, now, timedelta(hours=1)) == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert last_fire(trigger, now + timedelta(minutes=2), timedelta(hours=1)) == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("bad", ["0 9 * *", "61 9 * * 1", "0 9 * * funday"])
def test_a_bad_chaos_schedule_stops_the_start(make_desk: MakeDesk, bad: str) -> None:
    desk = make_desk(chaos_schedule=[{"service": "search", "cron": bad, "minutes": 60}])
    with pytest.raises(ConfigurationError, match="ACTIONDESK_CHAOS_SCHEDULE"):
        Scheduler(desk.runtime)


def test_a_cron_chaos_day_switches_on_once_and_makes_the_service_suggest_only(make_desk: MakeDesk) -> None:
    desk = make_desk(chaos_schedule=[{"service": "search", "cron": "0 9 * * 1", "minutes": 480}])
    desk.wait(120)
    a, b = Scheduler(desk.runtime, owner="a"), Scheduler(desk.runtime, owner="b")
    ((index, fire),) = a.due_chaos(desk.clock.now())
    assert fire == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert a.run_chaos(index, fire)
    assert not b.run_chaos(index, fire), "the other replica does not switch it again"
    (window,) = desk.runtime.controls.state().chaos
    assert window.services == ("search",)
    assert window.end == fire + timedelta(hours=8)
    call = ActionCall(action="rollback_deployment", params={"service": "search", "to_version": "v1.8.0"})
    assert desk.runtime.governance.decide(call, desk.clock.now()).outcome is Outcome.SUGGEST
    desk.wait(8 * 3600)
    assert desk.runtime.governance.decide(call, desk.clock.now()).outcome is Outcome.ALLOW


async def test_apscheduler_drives_the_jobs(make_desk: MakeDesk) -> None:
    desk = make_desk(lease_seconds=1.0)
    case_id = await asyncio.to_thread(waiting, desk)
    desk.wait(3600)
    resumed: list[int] = []

    async def resume() -> int:
        resumed.append(1)
        return 0

    scheduler = Scheduler(desk.runtime, resume=resume)
    assert scheduler.interval == 0.5
    scheduler.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0.05)
            if desk.store.approvals(case_id)[0].status is ApprovalStatus.EXPIRED and resumed:
                break
    finally:
        scheduler.stop()
    assert desk.store.approvals(case_id)[0].status is ApprovalStatus.EXPIRED
    assert resumed, "the resume job ran too"
