"""/metrics reads rollups the store keeps up with every case transition; after any sequence of transitions they
tell what recomputing from the whole history tells (SQLite and PostgreSQL), and migration 0011 builds them from
a history written before it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from prometheus_client.core import Metric
from pydantic import JsonValue

from actiondesk.adapters.store import SqlStore, make_engine, upgrade
from actiondesk.adapters.store.engine import writing
from actiondesk.adapters.store.migrate import _config
from actiondesk.bot.reports import metrics
from actiondesk.core.approval import Approval, ApprovalStatus
from actiondesk.core.audit import AuditDraft, AuditKind
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.governance import AutonomyLevel, Decision, Outcome
from actiondesk.core.plan import ActionCall, Plan, PlanStep

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
WINDOW = 7.0
INFRA = 0.5

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _samples(families: list[Metric]) -> Samples:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value for family in families for s in family.samples}


def recomputed(store: SqlStore, clock: SimulatedClock) -> Samples:
    """The figures as /metrics gave them before the rollups: recomputed from every stored case and entry."""
    everything = metrics.report(store, metrics.EPOCH, clock.now() + timedelta(seconds=1), 0.0)
    start, end = metrics.period(clock, WINDOW)
    window = metrics.report(store, start, end, INFRA)
    label = f"{WINDOW:g}d"
    out: Samples = {}

    def put(name: str, value: float | None, **labels: str) -> None:
        if value is not None:
            out[name, tuple(sorted(labels.items()))] = value

    for status in ("resolved", "escalated", "failed", "open"):
        put("actiondesk_cases", getattr(everything, status), status=status)
    counts = store.audit_counts(frozenset(metrics.TRANSITIONS))
    for kind, state in metrics.TRANSITIONS.items():
        put("actiondesk_case_transitions_total", counts[kind], to=state)
    put("actiondesk_case_transitions_total", everything.reopened, to="reopened")
    for outcome, n in everything.outcomes.items():
        put("actiondesk_decisions_total", n, outcome=outcome)
    for level, n in everything.autonomy_levels.items():
        put("actiondesk_decisions_by_level_total", n, level=level)
    put("actiondesk_mttr_seconds", window.mttr.mean, window=label, approval_wait="included")
    put("actiondesk_mttr_seconds", window.mttr_without_approval.mean, window=label, approval_wait="excluded")
    for pattern, summary in window.mttr_by_pattern.items():
        put("actiondesk_pattern_mttr_seconds", summary.mean, window=label, pattern=pattern)
    put("actiondesk_first_contact_resolution_ratio", window.fcr, window=label)
    put("actiondesk_cost_per_resolved_request_dollars", window.cost_per_resolved_usd, window=label)
    put("actiondesk_approval_wait_seconds", window.approval_wait.mean, window=label)
    for team, n in everything.escalations_by_owner.items():
        put("actiondesk_handoffs_total", n, team=team)
    for team, summary in window.pickup_by_owner.items():
        put("actiondesk_pickup_seconds", summary.mean, window=label, team=team)
    for team, n in everything.waiting_for_pickup.items():
        put("actiondesk_handoffs_waiting", n, team=team)
    put("actiondesk_llm_calls_total", everything.llm_calls)
    put("actiondesk_llm_tokens_total", everything.tokens)
    put("actiondesk_escalations_total", sum(everything.escalation_reasons.values()))
    put("actiondesk_breaker_trips_total", everything.breaker_trips)
    put("actiondesk_reopened_cases_total", everything.reopened)
    return out


def collected(store: SqlStore, clock: SimulatedClock) -> Samples:
    samples = _samples(metrics.DeskCollector(store, clock, WINDOW, INFRA).collect())
    return {key: value for key, value in samples.items() if not key[0].startswith("actiondesk_outbox")}


def assert_agree(store: SqlStore, clock: SimulatedClock) -> None:
    expected, got = recomputed(store, clock), collected(store, clock)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-9), key


def _case(case_id: str, at: datetime, **changes: object) -> Case:
    case = Case(
        id=case_id,
        kind=CaseKind.INCIDENT,
        title="t",
        text="t",
        reporter="jane",
        created_at=at,
        updated_at=at,
        service="payment-gateway",
    )
    return case.model_copy(update=changes)


def _plan(runbook: str, *outcomes: Outcome) -> Plan:
    steps = tuple(
        PlanStep(
            index=n,
            call=ActionCall(action="restart_service", params={"service": "payment-gateway"}),
            rationale="r",
            decision=Decision(outcome=outcome, policy_ids=("p",), reasons=("r",), autonomy_level=AutonomyLevel(n % 4)),
        )
        for n, outcome in enumerate(outcomes)
    )
    return Plan(runbook=runbook, goal="g", steps=steps)


def _entry(kind: AuditKind, case_id: str, at: datetime, **payload: JsonValue) -> AuditDraft:
    return AuditDraft(kind=kind, case_id=case_id, actor="actiondesk", at=at, payload=dict(payload))


def _approval(approval_id: str, case_id: str, at: datetime) -> Approval:
    return Approval(
        id=approval_id,
        case_id=case_id,
        step_index=0,
        call=ActionCall(action="restart_service", params={}),
        target="payment-gateway",
        group="sre",
        quorum=1,
        production=True,
        requested_by="actiondesk",
        proposed_by="resolution",
        reasons=(),
        policy_ids=(),
        created_at=at,
        expires_at=at + timedelta(hours=1),
    )


def play_history(store: SqlStore, clock: SimulatedClock) -> None:
    """Transitions as the loop and the surfaces make them, checking agreement after each transaction."""
    old = NOW - timedelta(days=20)  # outside the window, inside all-time
    day = NOW - timedelta(days=2)

    def open_case(case_id: str, at: datetime) -> Case:
        with store.transaction() as uow:
            case = uow.add_case(_case(case_id, at))
            uow.append_audit(_entry(AuditKind.CASE_OPENED, case_id, at))
        assert_agree(store, clock)
        return case

    def save(case: Case, *entries: AuditDraft) -> Case:
        with store.transaction() as uow:
            saved = uow.save_case(case)
            for draft in entries:
                uow.append_audit(draft)
        assert_agree(store, clock)
        return saved

    a = open_case("C-a", day)
    a = save(a.model_copy(update={"status": CaseStatus.PLANNING, "plan": _plan("bad_deploy", Outcome.APPROVE)}))
    with store.transaction() as uow:
        uow.add_approval(_approval("ap-1", "C-a", day + timedelta(minutes=1)))
    approval = store.approvals("C-a")[0]
    decided = approval.model_copy(
        update={"status": ApprovalStatus.APPROVED, "decided_by": "sam", "decided_at": day + timedelta(minutes=6)}
    )
    with store.transaction() as uow:
        assert uow.transition_approval(decided, ApprovalStatus.PENDING)
    assert_agree(store, clock)
    a = save(
        a.model_copy(
            update={
                "status": CaseStatus.RESOLVED,
                "resolved_at": day + timedelta(minutes=20),
                "llm_calls": 3,
                "tokens": 1200,
                "cost_usd": 0.25,
            }
        ),
        _entry(AuditKind.CASE_RESOLVED, "C-a", day + timedelta(minutes=20)),
    )

    b = open_case("C-b", day + timedelta(hours=1))
    b = save(
        b.model_copy(update={"status": CaseStatus.ESCALATED, "plan": _plan("disk_full", Outcome.DENY, Outcome.ALLOW)}),
        _entry(AuditKind.CASE_ESCALATED, "C-b", day, reason="breaker: too many actions"),
        _entry(AuditKind.HANDED_OFF, "C-b", day, team="payments"),
    )
    b = save(b.model_copy(update={"title": "renamed"}), _entry(AuditKind.PICKED_UP, "C-b", day, after_seconds=90))
    # reopened, then resolved after an escalation: resolved, but not at first contact
    b = save(b.model_copy(update={"status": CaseStatus.TRIAGING, "reopened": 1}))
    b = save(
        b.model_copy(update={"status": CaseStatus.RESOLVED, "resolved_at": day + timedelta(hours=3)}),
        _entry(AuditKind.CASE_RESOLVED, "C-b", day + timedelta(hours=3)),
    )

    c = open_case("C-c", old)
    c = save(
        c.model_copy(update={"status": CaseStatus.ESCALATED}),
        _entry(AuditKind.CASE_ESCALATED, "C-c", old, reason="no runbook"),
        _entry(AuditKind.HANDED_OFF, "C-c", old, team="storage"),
    )
    d = open_case("C-d", NOW - timedelta(hours=1))
    d = save(d.model_copy(update={"status": CaseStatus.FAILED, "plan": _plan("bad_deploy")}))
    # a plan replaced: its old decisions no longer count
    a = save(a.model_copy(update={"plan": _plan("bad_deploy", Outcome.SUGGEST, Outcome.SUGGEST)}))
    open_case("C-e", NOW - timedelta(minutes=5))


def test_the_rollups_agree_with_recomputing_after_every_transition(store: SqlStore) -> None:
    clock = SimulatedClock(NOW)
    assert_agree(store, clock)  # nothing yet: every figure with no data is absent in both
    play_history(store, clock)
    got = collected(store, clock)
    assert got["actiondesk_cases", (("status", "resolved"),)] == 2
    assert got["actiondesk_handoffs_waiting", (("team", "storage"),)] == 1
    assert got["actiondesk_breaker_trips_total", ()] == 1


def test_a_transaction_that_rolls_back_leaves_the_rollups_alone(store: SqlStore) -> None:
    clock = SimulatedClock(NOW)
    play_history(store, clock)
    before = collected(store, clock)

    def failing_step() -> None:
        with store.transaction() as uow:
            case = store.get_case("C-e")
            uow.save_case(case.model_copy(update={"status": CaseStatus.RESOLVED, "resolved_at": NOW}))
            uow.append_audit(_entry(AuditKind.CASE_RESOLVED, "C-e", NOW))
            raise RuntimeError("the step failed")

    with pytest.raises(RuntimeError, match="the step failed"):
        failing_step()
    assert collected(store, clock) == before
    assert_agree(store, clock)


def test_migration_0011_builds_the_rollups_from_the_stored_history(store: SqlStore, database_url: str) -> None:
    clock = SimulatedClock(NOW)
    play_history(store, clock)
    kept = collected(store, clock)
    engine = make_engine(database_url)
    try:
        with writing(engine) as connection:  # back to before the rollups existed: the history stays
            command.downgrade(_config(connection), "0010")
    finally:
        engine.dispose()
    upgrade(database_url)
    assert collected(store, clock) == pytest.approx(kept)
    assert_agree(store, clock)
    with store.transaction() as uow:  # and they are kept up from there on
        case = store.get_case("C-e")
        uow.save_case(case.model_copy(update={"status": CaseStatus.RESOLVED, "resolved_at": NOW}))
    assert_agree(store, clock)


def test_racing_transitions_of_one_case_are_all_counted(store: SqlStore) -> None:
    """Transactions changing one case's facts at once (approvers deciding its approvals from several threads)
    take turns on its facts row (PostgreSQL locks it; SQLite has one writer): none is lost."""
    clock = SimulatedClock(NOW)
    opened = NOW - timedelta(hours=1)
    with store.transaction() as uow:
        uow.add_case(_case("C-race", opened))
        for n in range(6):
            uow.add_approval(_approval(f"ap-{n}", "C-race", opened))
    start = threading.Barrier(6)

    def decide(n: int) -> bool:
        pending = _approval(f"ap-{n}", "C-race", opened)
        decided = pending.model_copy(
            update={"status": ApprovalStatus.APPROVED, "decided_by": "sam", "decided_at": opened + timedelta(minutes=n)}
        )
        start.wait(timeout=10)
        with store.transaction() as uow:
            return uow.transition_approval(decided, ApprovalStatus.PENDING)

    with ThreadPoolExecutor(6) as pool:
        assert all(pool.map(decide, range(6)))
    got = collected(store, clock)
    assert got["actiondesk_approval_wait_seconds", (("window", f"{WINDOW:g}d"),)] == pytest.approx(150.0)
    with store.transaction() as uow:  # resolving reads every wait back from the case's facts
        case = store.get_case("C-race")
        uow.save_case(case.model_copy(update={"status": CaseStatus.RESOLVED, "resolved_at": NOW}))
    got = collected(store, clock)
    assert got["actiondesk_mttr_seconds", (("approval_wait", "excluded"), ("window", f"{WINDOW:g}d"))] == 3600 - 900
    assert_agree(store, clock)
