"""The scenario runner: play a scenario file against the sandbox on simulated time, then compare what the
agents did with what the file expects."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, JsonValue

from actiondesk.adapters.sandbox import (
    AlertEvent,
    ApproveEvent,
    MessageEvent,
    RejectEvent,
    ReplyEvent,
    SandboxEstate,
    Scenario,
    ScenarioEvent,
    WaitEvent,
)
from actiondesk.adapters.sandbox import RootCause as ExpectedCause
from actiondesk.adapters.store import SqlStore
from actiondesk.agents.fulfilment.checklist import confirmation
from actiondesk.agents.governance import PolicyData, Window
from actiondesk.bot.jobs.mirroring import deliver_before_exit
from actiondesk.bot.wiring.root import Runtime, build_runtime
from actiondesk.core.approval import ApprovalStatus
from actiondesk.core.audit import AuditKind
from actiondesk.core.audit_payloads import Observation, read
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import GovernanceError
from actiondesk.core.finding import Culprit
from actiondesk.core.plan import StepStatus
from actiondesk.core.settings import Settings

log = logging.getLogger(__name__)

Result = Literal["succeeded", "failed", "refused", "not_run", "pending"]
RESULTS: dict[StepStatus, Result] = {
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
    result: Result
    confirmation: str | None = None  # the id the system confirmed a request's step with (SCIM id, request number…)


class RootCause(BaseModel):
    """The culprit triage named: its service and change (kind and fields); for a deploy also commit and version."""

    model_config = ConfigDict(frozen=True)

    service: str
    change: dict[str, JsonValue]
    commit: str | None = None
    version: str | None = None

    @classmethod
    def of(cls, culprit: Culprit) -> RootCause:
        deploy = culprit.kind in ("deploy", "rollback")
        return cls(
            service=culprit.service,
            change=culprit.change(),
            commit=culprit.commit if deploy else None,
            version=culprit.version if deploy else None,
        )

    def shown(self) -> str:
        if self.commit is not None:
            return f"{self.service}@{self.commit}"
        detail = self.change.get("key") or (
            f"replicas={self.change['replicas']}" if self.change.get("replicas") is not None else ""
        )
        return f"{self.service} {self.change['kind']}" + (f" {detail}" if detail else "")

    def matches(self, want: ExpectedCause) -> bool:
        if want.service != self.service:
            return False
        if want.commit is not None:
            return self.commit == want.commit
        spec = want.change
        assert spec is not None
        kind = str(self.change.get("kind"))
        if (kind == "rollback" and spec.kind != "deploy") or (kind != "rollback" and kind != spec.kind):
            return False
        fields = spec.model_dump(exclude_none=True, exclude={"kind"})
        return all(self.change.get(k) == v or (k == "commit" and self.commit == v) for k, v in fields.items())


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
    control: bool = False  # the file expects an abstention: nothing should be blamed
    expected_cause: str | None = None  # the expected root cause as people read it; None for none/unchecked


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


def _wake(play: _Play, until: datetime | None) -> None:
    """Run the watching cases whose wake time comes before ``until`` (all of them, to their end, for None):
    simulated time advances while triage watches an early report."""
    loop, store = play.runtime.loop, play.runtime.store
    while True:
        due = [
            (c.wake_at, c.id)
            for c in (store.get_case(i) for i in play.cases)
            if c.status is CaseStatus.WATCHING and c.wake_at is not None and (until is None or c.wake_at <= until)
        ]
        if not due:
            return
        at, case_id = min(due)
        play.clock.set(max(play.clock.now(), at))
        loop.run(case_id)


def _play_event(play: _Play, scenario: Scenario, event: ScenarioEvent) -> None:
    loop = play.runtime.loop
    payload = event.payload
    if isinstance(payload, MessageEvent):
        case = loop.open_case(payload.text, payload.user, surface="scenario")
        play.cases.append(case.id)
        loop.run(case.id)
    elif isinstance(payload, ReplyEvent):
        case_id = play.cases[-1]  # the loader makes sure a message or an alert came first
        loop.add_message(case_id, payload.user, payload.text)
        loop.run(case_id)
    elif isinstance(payload, AlertEvent):
        alert = payload
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
    elif isinstance(payload, ApproveEvent):
        _answer(play, payload.user, True, None, payload.delay)
    elif isinstance(payload, RejectEvent):
        _answer(play, payload.user, False, payload.reason)
    elif isinstance(payload, WaitEvent):
        if payload.until is not None:
            play.clock.set(payload.until)
    else:
        play.runtime.estate.apply(event)


def _scheduled(play: _Play) -> None:
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
            result=RESULTS.get(s.status, "pending"),
            confirmation=confirmation(s),
        )
        for s in case.plan.steps
    ]


def _compare(scenario: Scenario, report: ScenarioReport, executed: list[str]) -> list[str]:
    expect = scenario.expect
    mismatches: list[str] = []
    if "root_cause" in expect.model_fields_set:
        want = expect.root_cause
        got = report.root_cause
        if want is None and got is not None:
            mismatches.append(f"root_cause: expected an abstention, got {got.shown()}")
        elif want is not None and (got is None or not got.matches(want)):
            shown = "an abstention" if got is None else got.shown()
            mismatches.append(f"root_cause: expected {want.shown()}, got {shown}")
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
    settings = settings.model_copy(update={"estate": "sandbox"})  # a scenario plays on the sandbox, whatever is set
    runtime = build_runtime(settings, store, estate, clock, scenario_policy(scenario, settings))
    play = _Play(runtime, clock)
    for event in scenario.events:
        at = scenario.instant(event)
        _wake(play, at)
        if at is not None:
            clock.set(max(clock.now(), at))
        _play_event(play, scenario, event)
        _scheduled(play)
    _wake(play, None)
    _scheduled(play)
    undelivered = deliver_before_exit(runtime, runtime.loop.owner)  # ticket mirroring, when it is on
    if undelivered:
        play.notes.append(f"{undelivered} ticket updates still queued after {settings.outbox_drain_seconds:g}s")
    cases = [store.get_case(c) for c in play.cases]
    primary = cases[0] if cases else None
    actions = [a for c in cases for a in _actions(c)]
    executed = [a.name for a in actions if a.result in ("succeeded", "failed")]
    culprit = primary.finding.culprit if primary and primary.finding else None
    probes = [
        read(e, Observation).action for c in play.cases for e in store.audit(c) if e.kind is AuditKind.OBSERVATION
    ]
    mttr = None
    if primary and primary.resolved_at is not None:
        mttr = (primary.resolved_at - primary.created_at).total_seconds()
    report = ScenarioReport(
        name=scenario.name,
        status=primary.status.value if primary else None,
        passed=False,
        root_cause=RootCause.of(culprit) if culprit else None,
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
        control=scenario.control,
        expected_cause=scenario.expect.root_cause.shown() if scenario.expect.root_cause else None,
    )
    mismatches = _compare(scenario, report, executed)
    if not report.audit_verified:
        mismatches.append("audit: the trail does not verify")
    return report.model_copy(update={"mismatches": mismatches, "passed": not mismatches})


class SummaryRow(BaseModel):
    scenario: str
    expected_cause: str  # "none" for a control, "-" when the file does not check it
    found_cause: str  # "none" when triage abstained
    fix: str  # the mutating actions that ran, "-" for none
    status: str | None
    passed: bool


class Summary(BaseModel):
    """A suite of scenarios at a glance, with the totals that say how good the investigation is."""

    rows: list[SummaryRow]
    scenarios: int
    passed: int
    culprits_named: int  # of scenarios that check the root cause
    culprits_correct: int
    causes_expected: int  # scenarios whose root cause is a change
    culprit_precision: float | None  # correct / named
    culprit_recall: float | None  # correct / expected
    fixes_expected: int  # scenarios expecting mutating actions
    fixes_correct: int  # ... that ran exactly those
    controls: int
    invented_on_controls: int  # controls where a culprit was named anyway


def summarise(played: list[tuple[Scenario, ScenarioReport]]) -> Summary:
    rows: list[SummaryRow] = []
    named = correct = expected = fixes = fixed = controls = invented = 0
    for scenario, report in played:
        expect = scenario.expect
        executed = [a.name for a in report.actions if a.result in ("succeeded", "failed")]
        checks = expect.checks_root_cause
        if checks:
            named += report.root_cause is not None
            if expect.root_cause is not None:
                expected += 1
                correct += report.root_cause is not None and report.root_cause.matches(expect.root_cause)
        if scenario.control:
            controls += 1
            invented += report.root_cause is not None
        if expect.actions:
            fixes += 1
            fixed += executed == list(expect.actions)
        rows.append(
            SummaryRow(
                scenario=report.name,
                expected_cause=(expect.root_cause.shown() if expect.root_cause else "none") if checks else "-",
                found_cause=report.root_cause.shown() if report.root_cause else "none",
                fix=", ".join(executed) or "-",
                status=report.status,
                passed=report.passed,
            )
        )
    return Summary(
        rows=rows,
        scenarios=len(played),
        passed=sum(r.passed for r in rows),
        culprits_named=named,
        culprits_correct=correct,
        causes_expected=expected,
        culprit_precision=round(correct / named, 3) if named else None,
        culprit_recall=round(correct / expected, 3) if expected else None,
        fixes_expected=fixes,
        fixes_correct=fixed,
        controls=controls,
        invented_on_controls=invented,
    )
