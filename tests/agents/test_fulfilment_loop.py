"""Request cases in the loop, on the sandbox: a dated step is decided when its date comes (an approval asked
earlier would expire before it), a malformed request goes to a person with what is wrong, and a hand-off
escalates only a stopped request."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.sandbox.events import FaultEvent
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.wiring.root import Runtime, build_runtime, policy_from_settings
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseKind, CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ActionError
from actiondesk.core.settings import Settings

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def _runtime(store: SqlStore, database_url: str, **settings: object) -> tuple[Runtime, SimulatedClock]:
    configured = Settings(_env_file=None, database_url=database_url, **settings)  # type: ignore[arg-type]
    clock = SimulatedClock(T0)
    estate = SandboxEstate(default_estate(T0), clock)
    return build_runtime(configured, store, estate, clock, policy_from_settings(configured)), clock


def test_a_dated_step_is_decided_when_its_date_comes(store: SqlStore, database_url: str) -> None:
    runtime, clock = _runtime(store, database_url)  # people are production: every change asks sre
    case = runtime.loop.open_case("offboard frank, last day Friday", "alice")
    assert runtime.loop.run(case.id).status is CaseStatus.AWAITING_APPROVAL
    (first,) = runtime.store.approvals(case.id)
    assert first.call.action == "return_hardware"
    runtime.approvals.decide(first.id, "bob", True, None)
    assert runtime.loop.run(case.id).status is CaseStatus.SCHEDULED
    assert runtime.store.approvals(case.id, ApprovalStatus.PENDING) == [], "nothing asked before the date"
    assert runtime.loop.due() == []
    clock.set(datetime(2026, 11, 7, 0, 0, tzinfo=UTC))
    assert [c.id for c in runtime.loop.due()] == [case.id]
    assert runtime.loop.run(case.id).status is CaseStatus.AWAITING_APPROVAL
    (asked,) = runtime.store.approvals(case.id, ApprovalStatus.PENDING)
    assert asked.call.action == "disable_account"
    assert asked.created_at == datetime(2026, 11, 7, 0, 0, tzinfo=UTC)


def test_a_malformed_request_goes_to_a_person_saying_what_is_wrong(store: SqlStore, database_url: str) -> None:
    runtime, _ = _runtime(store, database_url)
    case = runtime.loop.open_case("onboard Jane as astronaut", "alice")
    assert (case.status, case.kind) == (CaseStatus.ESCALATED, CaseKind.REQUEST)
    said = [e.payload["text"] for e in runtime.store.audit(case.id) if e.kind is AuditKind.MESSAGE]
    assert said[0] == "onboard Jane as astronaut", "the message is kept"
    assert "no role 'astronaut'" in said[-2]
    assert said[-1] == "Handed to service-desk on-call: alice (@support).", "and who has it now"
    assert runtime.store.runs(case.id) == []


def test_only_a_stopped_request_is_handed_off_or_compensated(store: SqlStore, database_url: str) -> None:
    runtime, _ = _runtime(store, database_url, autonomy={"tier:3": 3})
    runtime.estate.apply(FaultEvent(system="procurement", kind="unavailable"))
    case = runtime.loop.open_case("onboard Jane Doe as data analyst, starting today, manager bob", "bob")
    assert runtime.loop.run(case.id).status is CaseStatus.FAILED
    handed = runtime.fulfilment.hand_off(case.id, "carol")
    assert handed.status is CaseStatus.ESCALATED
    with pytest.raises(ActionError, match="only a stopped request"):
        runtime.fulfilment.hand_off(case.id, "carol")
    assert [c.action for c in runtime.fulfilment.inverses(case.id)] == ["disable_account"]
    other = runtime.loop.open_case("the payment gateway is throwing 500s", "alice")
    with pytest.raises(ActionError):
        runtime.fulfilment.inverses(other.id)
