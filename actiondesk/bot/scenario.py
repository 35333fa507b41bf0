"""The scenario runner: play a scenario file against the sandbox on simulated time, then compare what the
agents did with what the file expects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from actiondesk.adapters.sandbox import SandboxEstate, Scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.agents.fulfilment.checklist import confirmation
from actiondesk.agents.governance import PolicyData, Window
from actiondesk.bot.app import Runtime, build_runtime
from actiondesk.bot.outbox_setup import deliver_before_exit
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseKind
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import GovernanceError
from actiondesk.core.plan import StepStatus
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)

RESULTS: dict[StepStatus, str] = {
    StepStatus.SUCCEEDED: "succeeded",
    StepStatus.FAILED: "failed",
    StepStatus.REFUSED: "refused",
    StepStatus.SUGGESTED: "not_run",
    StepStatus.NOT_RUN: "not_run",
}


class ActionReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    params: dict[str, JsonValue]
    decision: str | None
    result: Literal["succeeded", "failed", "refused", "not_run", "pending"]
    confirmation: str | None = None  # the id the system confirmed a request's step with (SCIM id, request number…)


class RootCause(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    commit: str
    version: str | None = None


class ScenarioReport(BaseModel):
    name: str
    status: str | None
    passed: bool
    root_cause: RootCause | None
    actions: list[ActionReport]
    probes: list[str]
    decisions: list[str]
    mttr_seconds: float | None
    llm_calls: int
    tokens: int
    audit_verified: bool
    mismatches: list[str]
    notes: list[str]
    cases: list[str]


def scenario_policy(scenario: Scenario, settings: Settings) -> PolicyData:
    policy = scenario.policy
    autonomy = {**settings.autonomy, **{str(k): int(v) for k, v in policy.autonomy.items()}}
    freezes = tuple(Window(f.name, f.start, f.end, tuple(f.services or ())) for f in policy.freeze)
    chaos = tuple(Window(f"chaos-{c.service}", c.start, c.end, (c.service,)) for c in policy.chaos_days)
    return PolicyData(
        autonomy=autonomy, freezes=freezes, chaos_days=chaos, approval_ttl_seconds=settings.approval_ttl_seconds
    )


@dataclass
class _Play:
    runtime: Runtime
    clock: SimulatedClock
    cases: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _answer(play: _Play, person: str, approve: bool, reason: str | None, delay: float | None = None) -> None:
    store = play.runtime.store
    pending = [a for case_id in play.cases for a in store.approvals(case_id, ApprovalStatus.PENDING)]
    if not pending:
        verb = "approve" if approve else "reject"
        play.notes.append(f"{verb} by {person} ignored: no approval was pending")
        return
    approval = min(pending, key=lambda a: a.created_at)
    try:
        play.runtime.approvals.decide(approval.id, person, approve, reason)
    except GovernanceError as exc:
        play.notes.append(f"{person} could not decide {approval.id}: {exc}")
        return
    if delay:
        play.clock.advance(delay)  # the worker reaches the case later; the time-of-use check runs then
    play.runtime.loop.run(approval.case_id)


def _play_event(play: _Play, scenario: Scenario, event: object) -> None:
    kind = event.kind  # type: ignore[attr-defined]
    loop = play.runtime.loop
    if kind == "message":
        message = event.message  # type: ignore[attr-defined]
        case = loop.open_case(message.text, message.user, surface="scenario")
        play.cases.append(case.id)
        loop.run(case.id)
    elif kind == "alert":
        alert = event.alert  # type: ignore[attr-defined]
        text = alert.annotations.get("summary") or alert.annotations.get("description") or alert.labels["alertname"]
        service = alert.labels.get("service") or alert.labels.get("job")
        case = loop.open_case(
            f"[alert {alert.labels['alertname']}] {text}",
            "alertmanager",
            surface="alert",
            service=service,
            kind=CaseKind.INCIDENT,
        )
        play.cases.append(case.id)
        loop.run(case.id)
    elif kind == "approve":
        _answer(play, event.approve.user, True, None, event.approve.delay)  # type: ignore[attr-defined]
    elif kind == "reject":
        _answer(play, event.reject.user, False, event.reject.reason)  # type: ignore[attr-defined]
    elif kind == "wait":
        until = event.wait.until  # type: ignore[attr-defined]
        if until is not None:
            play.clock.set(until)
    else:
        play.runtime.estate.apply(event)


def _wake(play: _Play) -> None:
    """Scheduled steps whose date has come run (what the scheduler does in ``serve``)."""
    due = {c.id for c in play.runtime.loop.due()}
    for case_id in play.cases:
        if case_id in due:
            play.runtime.loop.wake(case_id)


def _actions(case: Case) -> list[ActionReport]:
    if case.plan is None:
        return []
    return [
        ActionReport(
            name=s.call.action,
            params=dict(s.call.params),
            decision=s.decision.outcome.value if s.decision else None,
            result=RESULTS.get(s.status, "pending"),  # type: ignore[arg-type]
            confirmation=confirmation(s),
        )
        for s in case.plan.steps
    ]


def _compare(scenario: Scenario, report: ScenarioReport, executed: list[str]) -> list[str]:
    expect = scenario.expect
    if expect is None:
        return []
    mismatches: list[str] = []
    if "root_cause" in expect.model_fields_set:
        want = expect.root_cause
        got = report.root_cause
        if want is None and got is not None:
            mismatches.append(f"root_cause: expected an abstention, got {got.service}@{got.commit}")
        elif want is not None and (got is None or (got.service, got.commit) != (want.service, want.commit)):
            shown = "an abstention" if got is None else f"{got.service}@{got.commit}"
            mismatches.append(f"root_cause: expected {want.service}@{want.commit}, got {shown}")
    if expect.actions is not None and list(expect.actions) != executed:
        mismatches.append(f"actions: expected {list(expect.actions)}, got {executed}")
    if expect.decisions is not None and list(expect.decisions) != report.decisions:
        mismatches.append(f"decisions: expected {list(expect.decisions)}, got {report.decisions}")
    if expect.status is not None and expect.status != report.status:
        mismatches.append(f"status: expected {expect.status}, got {report.status}")
    return mismatches


def run_scenario(scenario: Scenario, settings: Settings, store: SqlStore) -> ScenarioReport:
    clock = SimulatedClock(scenario.start)
    estate = SandboxEstate(scenario.build_world(), clock)
    runtime = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings))
    play = _Play(runtime, clock)
    for event in scenario.events:
        if event.at is not None:
            clock.set(scenario.start + timedelta(seconds=event.at))
        _play_event(play, scenario, event)
        _wake(play)
    undelivered = deliver_before_exit(runtime, runtime.loop.owner)  # ticket mirroring, when it is on
    if undelivered:
        play.notes.append(f"{undelivered} ticket updates still queued after {settings.outbox_drain_seconds:g}s")
    cases = [store.get_case(c) for c in play.cases]
    primary = cases[0] if cases else None
    actions = [a for c in cases for a in _actions(c)]
    executed = [a.name for a in actions if a.result in ("succeeded", "failed")]
    culprit = primary.finding.culprit if primary and primary.finding else None
    probes = [
        str(e.payload.get("action")) for c in play.cases for e in store.audit(c) if e.kind is AuditKind.OBSERVATION
    ]
    mttr = None
    if primary and primary.resolved_at is not None:
        mttr = (primary.resolved_at - primary.created_at).total_seconds()
    report = ScenarioReport(
        name=scenario.name,
        status=primary.status.value if primary else None,
        passed=False,
        root_cause=RootCause(service=culprit.service, commit=culprit.commit, version=culprit.version)
        if culprit
        else None,
        actions=actions,
        probes=probes,
        decisions=[a.decision for a in actions if a.decision is not None],
        mttr_seconds=mttr,
        llm_calls=sum(c.llm_calls for c in cases),
        tokens=sum(c.tokens for c in cases),
        audit_verified=store.verify_audit().ok,
        mismatches=[],
        notes=play.notes,
        cases=play.cases,
    )
    mismatches = _compare(scenario, report, executed)
    if not report.audit_verified:
        mismatches.append("audit: the trail does not verify")
    return report.model_copy(update={"mismatches": mismatches, "passed": not mismatches})
