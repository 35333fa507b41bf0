"""The case loop: triage → plan → govern → (approval) → act → verify, one persisted step at a time.

Every transition is saved (with its audit entries, in one transaction) before the side effect it leads to,
so a process killed at any point resumes the case from the database without doing anything twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from pydantic import JsonValue

from actiondesk.actions.executor import Executor
from actiondesk.agents.fulfilment.checklist import confirmation, is_request_plan, stopped_report
from actiondesk.agents.governance import Governance
from actiondesk.agents.intent import classify
from actiondesk.agents.llm import LLM_RUNBOOK, LlmOutcome, LlmPlanner
from actiondesk.agents.llm.guard import suspicions
from actiondesk.agents.llm.investigator import Investigator
from actiondesk.agents.planner import RunbookPlanner
from actiondesk.agents.record import Note, Recorder, say
from actiondesk.agents.triage import Triage
from actiondesk.agents.triage.reader import Reader
from actiondesk.agents.triage.signals import check_text, limit
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.errors import (
    ActionError,
    ConcurrencyError,
    DuplicateDeliveryError,
    StateDriftError,
    SystemUnavailableError,
)
from actiondesk.core.finding import Finding, FindingKind
from actiondesk.core.governance import Outcome
from actiondesk.core.plan import ActionCall, Plan, PlanStep, StepStatus
from actiondesk.core.ports import UnitOfWork
from actiondesk.core.redact import redact_text
from actiondesk.core.tracing import case_scope, span

log = logging.getLogger(__name__)

WAITING = frozenset({CaseStatus.AWAITING_APPROVAL, CaseStatus.AWAITING_REPLY, CaseStatus.SCHEDULED})
TIMED = frozenset({CaseStatus.WATCHING, CaseStatus.AWAITING_REPLY})  # waiting until ``wake_at``
QUEUED = frozenset(s for s in CaseStatus if not s.terminal) - WAITING - TIMED  # work to do as soon as a worker is free
ALERT_SURFACE = "alert"  # cases Alertmanager opened: nobody there to answer a question
INVESTIGABLE = frozenset({FindingKind.UNKNOWN_SERVICE, FindingKind.UNEXPLAINED_ANOMALY, FindingKind.NO_ANOMALY})
# A request's intake: the plan a message asks for (onboarding, offboarding), what is wrong with it, or None.
Intake = Callable[[Case], "Plan | str | None"]
REPLY_ATTEMPTS = 3  # a reply that meets the worker's concurrent save is recorded again, this many times at most


@dataclass(frozen=True)
class LoopSettings:
    max_steps: int = 12
    verify_timeout_seconds: float = 120.0
    verify_interval_seconds: float = 10.0
    lease_seconds: float = 30.0
    clarify_timeout_seconds: float = 1800.0
    watch_seconds: float = 300.0
    watch_step_seconds: float = 15.0


def shown(call: ActionCall) -> str:
    """A call as people read it in chat: ``action key=value, key=value``."""
    params = ", ".join(f"{k}={v}" for k, v in call.params.items())
    return f"{call.action} {params}".strip()


def confidence(case: Case) -> float | None:
    """The confidence of the diagnosis behind the case's plan (None: there is none, e.g. a rollback asked for)."""
    return case.finding.confidence if case.finding is not None else None


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def run_key(case: Case, step: PlanStep) -> str:
    """The idempotency key of a step's run: stable across crashes, distinct for each plan a reopened case gets."""
    if case.reopened:
        return f"{case.id}/reopen-{case.reopened}/step-{step.index}"
    return f"{case.id}/step-{step.index}"


class CaseLoop:
    def __init__(
        self,
        recorder: Recorder,
        executor: Executor,
        triage: Triage,
        planner: RunbookPlanner,
        governance: Governance,
        settings: LoopSettings,
        owner: str,
        ids: Callable[[str], str] = new_id,
        *,
        llm: LlmPlanner | None = None,
        planning: str = "runbook",
        investigator: Investigator | None = None,
        intake: Intake | None = None,
    ) -> None:
        self.recorder = recorder
        self.store = recorder.store
        self.clock = recorder.clock
        self.executor = executor
        self.triage = triage
        self.planner = planner
        self.governance = governance
        self.settings = settings
        self.owner = owner
        self._ids = ids
        self.llm = llm
        self.planning = planning if llm is not None else "runbook"  # runbook, llm or auto (runbooks first)
        self.investigator = investigator  # the model investigates when triage's rules cannot conclude
        self.intake = intake

    # Opening and talking to cases

    def open_case(
        self,
        text: str,
        reporter: str,
        *,
        surface: str = "console",
        thread: dict[str, str] | None = None,
        service: str | None = None,
        kind: CaseKind | None = None,
        plan: Plan | None = None,
        delivery: str | None = None,
        alert: str | None = None,
    ) -> Case:
        """Open a case from a message. With ``plan`` (a rollback, a person's own request) triage and planning are
        skipped: the case starts acting and every step still goes through governance. ``alert`` (a fingerprint)
        links the case to its alert in the same transaction (ConcurrencyError if the alert already has one)."""
        text = redact_text(text.strip())
        now = self.clock.now()
        case = Case(
            id=self._ids("C"),
            kind=kind or classify(text),
            title=text.splitlines()[0][:80] if text else "(empty)",
            text=text,
            reporter=reporter,
            surface=surface,
            thread=thread or {},
            service=service,
            created_at=now,
            updated_at=now,
            status=CaseStatus.OPEN if plan is None else CaseStatus.ACTING,
            plan=plan,
        )
        with self.store.transaction() as uow:
            self._first_delivery(uow, delivery, surface)
            case = uow.add_case(case)
            if alert is not None:
                uow.link_alert(alert, case.id, now)
            for draft in self.recorder.drafts(
                case.id,
                [
                    (
                        AuditKind.CASE_OPENED,
                        {
                            "kind": case.kind.value,
                            "title": case.title,
                            "surface": surface,
                            "reporter": reporter,
                        },
                    ),
                    (AuditKind.MESSAGE, {"text": text}),
                ],
                actor=reporter,
            ):
                uow.append_audit(draft)
            if plan is not None:
                self.recorder.append(uow, case.id, [(AuditKind.PLAN, plan.model_dump(mode="json"))])
        self.recorder.changed(case.id)
        log.info("case %s: opened by %s from %s", case.id, reporter, surface)
        if plan is None and self.intake is not None:
            case = self._take_in(case)
        return case

    def _take_in(self, case: Case) -> Case:
        """A request the intake recognises starts with its plan (every step still governed); a malformed one
        goes to a person with what is wrong, the message kept in the case."""
        found = self.intake(case) if self.intake is not None else None
        if found is None:
            return case
        if isinstance(found, str):
            return self._escalate(case.changed(self.clock.now(), kind=CaseKind.REQUEST), found)
        steps = "; ".join(shown(s.call) for s in found.steps)
        return self.recorder.save(
            case.moved(CaseStatus.ACTING, self.clock.now(), plan=found, kind=CaseKind.REQUEST),
            (AuditKind.PLAN, found.model_dump(mode="json")),
            say(f"Plan ({found.runbook}): {found.goal}. Steps: {steps}"),
        )

    def add_message(
        self,
        case_id: str,
        author: str,
        text: str,
        *,
        delivery: str | None = None,
        answer: bool = True,
        check: Callable[[Case], None] | None = None,
    ) -> Case:
        """A reply in the case's thread, and the answer it gets (a reply in chat never meets silence).

        An answer to a question resumes triage; a new complaint, or a service the case has not looked at, on a
        closed case reopens it; while the case is watching, a service it has not looked at is looked at now.
        Anything else is noted, with where the case stands (unless ``answer`` is False: a ticket comment or an
        alert's update is recorded without a reply). The planners read the whole thread either way. The agent's
        answer carries ``reply_to`` (the author), so the chat surfaces post it as a reply of its own.
        ``delivery`` (a chat event's id) is recorded in the same transaction: a retried delivery raises
        DuplicateDeliveryError and changes nothing. ``check`` is called with the case the reply is about to be
        saved against, after the delivery is recorded; whatever it raises refuses the reply, with nothing written.
        A reply that meets a concurrent change of the case (the worker advancing it) is checked and recorded again
        against the case as it now is, a few times, before ConcurrencyError.
        """
        attempt = 1
        while True:
            case = self.store.get_case(case_id)
            try:
                return self._add_message(case, author, text, delivery=delivery, answer=answer, check=check)
            except ConcurrencyError:
                if attempt >= REPLY_ATTEMPTS:
                    raise
                attempt += 1
                log.info("case %s: changed while a reply was recorded; recording it again", case_id)

    def _add_message(
        self,
        case: Case,
        author: str,
        text: str,
        *,
        delivery: str | None,
        answer: bool,
        check: Callable[[Case], None] | None,
    ) -> Case:
        text = redact_text(text.strip())
        now = self.clock.now()
        note: Note = (AuditKind.MESSAGE, {"text": text})
        new_service = self._new_service(case, text)
        flagged: list[Note] = []
        if self.llm is not None:  # a reply is untrusted text the model will read: say so when it talks to the model
            flagged = [
                (AuditKind.INJECTION_SUSPECTED, {"source": "reply", "why": why})
                for why in suspicions(text, self.executor.catalog.names())
            ]
        with self.store.transaction() as uow:
            self._first_delivery(uow, delivery, case.surface)
            if check is not None:
                check(case)
            self.recorder.append(uow, case.id, [note], actor=author)
            self.recorder.append(uow, case.id, flagged)
            if case.status is CaseStatus.AWAITING_REPLY:
                case = self.recorder.save(case.moved(CaseStatus.TRIAGING, now, wake_at=None), uow=uow)
            elif case.status.terminal and (classify(text) is CaseKind.INCIDENT or new_service):
                reopened = case.moved(
                    CaseStatus.TRIAGING, now, finding=None, plan=None, steps_taken=0, wake_at=None, watch_until=None
                )
                case = self.recorder.save(
                    reopened, say("Reopening the case: triaging again.", reply_to=author), uow=uow
                )
            elif case.status is CaseStatus.WATCHING and new_service:
                case = self.recorder.save(
                    case.changed(now, wake_at=now), say(f"Looking at {new_service} now.", reply_to=author), uow=uow
                )
            elif answer:
                case = self.recorder.save(case.changed(now), say(self._where(case), reply_to=author), uow=uow)
        self.recorder.changed(case.id)
        return case

    def _new_service(self, case: Case, text: str) -> str | None:
        """A service the reply names that the case has not investigated yet."""
        looked = set(case.finding.services) if case.finding else set()
        looked |= {case.service} if case.service else set()
        fresh = [s for s in self.triage.namer().mentions(text).named if s not in looked]
        return fresh[0] if fresh else None

    def _where(self, case: Case) -> str:
        """Noted, and where the case stands: what a reply that changes nothing is answered with."""
        finding = case.finding.summary if case.finding else ""
        match case.status:
            case CaseStatus.RESOLVED:
                return f"Noted. This case is resolved ({finding}) Tell me if it is still broken and I will reopen it."
            case CaseStatus.ESCALATED | CaseStatus.FAILED:
                return f"Noted. A person has this case now ({finding}) Name a service and I will look at it."
            case CaseStatus.AWAITING_APPROVAL:
                return "Noted. The case is waiting for an approval before it acts."
            case CaseStatus.WATCHING:
                return "Noted. I am still watching the signals; I will say what I find."
            case _:
                return f"Noted. The case is {case.status.value.replace('_', ' ')}."

    def _first_delivery(self, uow: UnitOfWork, delivery: str | None, source: str) -> None:
        if delivery is not None and not uow.remember(delivery, source, self.clock.now()):
            raise DuplicateDeliveryError(f"delivery {delivery} was already handled")

    # Driving a case

    def run(self, case_id: str) -> Case:
        """Advance the case until it waits for a person or ends. Safe to call from any replica."""
        with case_scope(case_id), span("case.run"):  # logs and spans of this work carry the case id
            if not self.store.claim_lease(case_id, self.owner, self.clock.now(), self.settings.lease_seconds):
                log.info("case %s: leased by another worker", case_id)
                return self.store.get_case(case_id)
            try:
                case = self._awake(self.store.get_case(case_id))
                while self.is_due(case):
                    self.store.claim_lease(case_id, self.owner, self.clock.now(), self.settings.lease_seconds)
                    before = case.status
                    with span("case.step", {"actiondesk.case.status": before.value}) as step:
                        case = self.advance(case)
                        step.set_attribute("actiondesk.case.next_status", case.status.value)
                    if case.status is not before:
                        log.info("case %s: %s -> %s", case_id, before.value, case.status.value)
                return case
            finally:
                self.store.release_lease(case_id, self.owner)

    def is_due(self, case: Case) -> bool:
        """Whether the case has work to do now: not ended, not waiting for a person, its wake time reached."""
        if case.status.terminal:
            return False
        if case.status in TIMED:
            return case.wake_at is not None and case.wake_at <= self.clock.now()
        return case.status not in WAITING

    def advance(self, case: Case) -> Case:
        now = self.clock.now()
        if case.status is CaseStatus.AWAITING_REPLY:  # due: nobody answered in time
            waited = _span(self.settings.clarify_timeout_seconds)
            return self._escalate(case.changed(now, wake_at=None), f"no answer to my question in {waited}")
        if case.status is CaseStatus.WATCHING:  # a re-read costs no step: the watch is bounded by its own deadline
            return self._triage(case.moved(CaseStatus.TRIAGING, now, wake_at=None))
        if case.steps_taken >= self.settings.max_steps:
            return self._escalate(case, f"step bound reached ({self.settings.max_steps} steps)")
        case = case.changed(now, steps_taken=case.steps_taken + 1)
        match case.status:
            case CaseStatus.OPEN:
                return self.recorder.save(case.moved(CaseStatus.TRIAGING, self.clock.now()))
            case CaseStatus.TRIAGING:
                return self._triage(case)
            case CaseStatus.PLANNING:
                return self._plan(case)
            case CaseStatus.ACTING:
                return self._act(case)
            case CaseStatus.VERIFYING:
                return self._verify(case)
            case _:
                return case

    def _escalate(self, case: Case, why: str) -> Case:
        return self.recorder.save(
            case.moved(CaseStatus.ESCALATED, self.clock.now()),
            (AuditKind.CASE_ESCALATED, {"reason": why}),
            say(f"Handing this to a human: {why}"),
        )

    def thread(self, case: Case) -> list[str]:
        """Every message people wrote in the case, oldest first (the agent's own are left out)."""
        return [
            str(e.payload.get("text", ""))
            for e in self.store.audit(case.id)
            if e.kind is AuditKind.MESSAGE and e.actor != self.recorder.agent
        ] or [case.text]

    def _asked(self, case: Case) -> bool:
        """Whether the agent already asked this case's reporter a question (a message with choices)."""
        return any(
            e.kind is AuditKind.MESSAGE and e.actor == self.recorder.agent and e.payload.get("choices")
            for e in self.store.audit(case.id)
        )

    def _triage(self, case: Case) -> Case:
        now = self.clock.now()
        thread = self.thread(case)
        finding = self.triage.run(case, thread, asked=self._asked(case))
        if self._watching(case, finding):
            return self._watch(case, finding)
        inquiry: list[Note] = []
        if self._investigable(case, finding):
            case, finding, inquiry = self._investigate(case, finding, thread)
        service = finding.service or case.service
        notes = [*inquiry, (AuditKind.FINDING, finding.model_dump(mode="json")), say(finding.summary)]
        if not finding.abstained:
            return self.recorder.save(
                case.moved(CaseStatus.PLANNING, now, finding=finding, service=service, wake_at=None), *notes
            )
        if finding.question is not None and case.surface != ALERT_SURFACE:  # a person can answer; an alert cannot
            return self.recorder.save(
                case.moved(
                    CaseStatus.AWAITING_REPLY,
                    now,
                    finding=finding,
                    wake_at=now + timedelta(seconds=self.settings.clarify_timeout_seconds),
                ),
                *inquiry,
                (AuditKind.FINDING, finding.model_dump(mode="json")),
                say(finding.question, choices=list(finding.candidates)),
            )
        if case.watch_until is not None:
            minutes = max(1, round(self.settings.watch_seconds / 60))
            notes[-1] = say(f"{finding.summary} I watched for {minutes} min.")
        return self.recorder.save(
            case.moved(CaseStatus.ESCALATED, now, finding=finding, service=service, wake_at=None),
            *notes,
            (AuditKind.CASE_ESCALATED, {"reason": "triage abstained"}),
        )

    def _investigable(self, case: Case, finding: Finding) -> bool:
        """The rules could not tell which service or which change: the model may investigate (when configured)."""
        return (
            self.investigator is not None
            and finding.abstained
            and case.kind is not CaseKind.REQUEST
            and finding.kind in INVESTIGABLE
        )

    def _investigate(self, case: Case, finding: Finding, thread: list[str]) -> tuple[Case, Finding, list[Note]]:
        assert self.investigator is not None
        inquiry = self.investigator.investigate(case, finding, thread, self.triage.services())
        out = inquiry.outcome
        case = case.changed(
            self.clock.now(),
            llm_calls=case.llm_calls + out.calls,
            tokens=case.tokens + out.tokens,
            cost_usd=case.cost_usd + out.cost_usd,
        )
        if inquiry.finding is not None:
            return case, inquiry.finding, [*out.notes, say(f"I asked the model to investigate: {inquiry.why}.")]
        told = f"I asked the model to investigate, but {inquiry.why}; I am not acting on it."
        return case, finding, [*out.notes, say(told)]

    def _watching(self, case: Case, finding: Finding) -> bool:
        """An incident whose services look normal may be reported early: watch it until ``watch_until``."""
        if finding.kind is not FindingKind.NO_ANOMALY or case.kind is not CaseKind.INCIDENT:
            return False
        if self.settings.watch_seconds <= 0:
            return False
        return case.watch_until is None or self.clock.now() < case.watch_until

    def _watch(self, case: Case, finding: Finding) -> Case:
        now = self.clock.now()
        step = timedelta(seconds=self.settings.watch_step_seconds)
        if case.watch_until is None:
            until = now + timedelta(seconds=self.settings.watch_seconds)
            minutes = max(1, round(self.settings.watch_seconds / 60))
            watched = ", ".join(finding.services) or finding.service or "the service"
            return self.recorder.save(
                case.moved(
                    CaseStatus.WATCHING, now, finding=finding, watch_until=until, wake_at=min(now + step, until)
                ),
                (AuditKind.FINDING, finding.model_dump(mode="json")),
                say(
                    f"{finding.summary} I will re-read {watched}'s signals every "
                    f"{self.settings.watch_step_seconds:g} s for up to {minutes} min and tell you what I find."
                ),
            )
        until = case.watch_until
        return self.recorder.save(case.moved(CaseStatus.WATCHING, now, finding=finding, wake_at=min(now + step, until)))

    def _plan(self, case: Case) -> Case:
        assert case.finding is not None
        if self.planning == "llm" or (case.plan is not None and case.plan.runbook == LLM_RUNBOOK):
            return self._plan_llm(case)
        plan = self.planner.plan(case, case.finding)
        if plan is None and self.planning == "auto":
            return self._plan_llm(case)
        if plan is None:
            return self._escalate(case, "no runbook fits this finding")
        steps = "; ".join(shown(s.call) for s in plan.steps)
        case = self.recorder.save(
            case.changed(self.clock.now(), plan=plan),
            (AuditKind.PLAN, plan.model_dump(mode="json")),
            say(f"Plan ({plan.runbook}): {plan.goal}. Steps: {steps}"),
        )
        return self._govern(case)

    def _plan_llm(self, case: Case) -> Case:
        """One pass of the model planner: a proposed step the loop governs, the model's final word, or a hand-off."""
        assert self.llm is not None
        assert case.finding is not None
        out: LlmOutcome = self.llm.next(case, self.thread(case))
        now = self.clock.now()
        case = case.changed(
            now,
            llm_calls=case.llm_calls + out.calls,
            tokens=case.tokens + out.tokens,
            cost_usd=case.cost_usd + out.cost_usd,
        )
        if out.unavailable is not None:
            fallback = None if case.plan is not None or case.finding is None else self.planner.plan(case, case.finding)
            if fallback is None:
                return self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, now),
                    *out.notes,
                    (AuditKind.CASE_ESCALATED, {"reason": f"model unavailable: {out.unavailable}"}),
                    say(f"Handing this to a human: the model is unavailable ({out.unavailable})."),
                )
            case = self.recorder.save(
                case.changed(now, plan=fallback),
                *out.notes,
                (AuditKind.PLAN, fallback.model_dump(mode="json")),
                say(f"The model is unavailable; following runbook {fallback.runbook}: {fallback.goal}."),
            )
            return self._govern(case)
        if out.plan is None:
            why = out.escalate or "the model gave no plan"
            return self.recorder.save(
                case.moved(CaseStatus.ESCALATED, now),
                *out.notes,
                (AuditKind.CASE_ESCALATED, {"reason": why}),
                say(f"Handing this to a human: {why}"),
            )
        plan = out.plan
        proposed = plan.next_step()
        line = f"Next step: {shown(proposed.call)}" if proposed is not None else f"Done: {plan.goal}"
        planned = case.changed(now, plan=plan) if proposed else case.moved(CaseStatus.ACTING, now, plan=plan)
        case = self.recorder.save(planned, *out.notes, (AuditKind.PLAN, plan.model_dump(mode="json")), say(line))
        return self._govern(case)

    def _govern(self, case: Case) -> Case:
        """Decide the next proposed step and move the case accordingly."""
        assert case.plan is not None
        step = case.plan.next_step()
        now = self.clock.now()
        if step is None and case.plan.runbook == LLM_RUNBOOK and case.status is not CaseStatus.PLANNING:
            return self.recorder.save(case.moved(CaseStatus.PLANNING, now))  # the model refines after each step
        if step is None:
            return self.recorder.save(case.moved(CaseStatus.VERIFYING, now))
        if step.not_before is not None and now < step.not_before:  # decided when its date comes, not before
            return self.recorder.save(
                case.moved(CaseStatus.SCHEDULED, now),
                say(f"{step.call.action} waits until {step.not_before:%Y-%m-%d %H:%M} UTC."),
            )
        decision = self.governance.decide(
            step.call,
            now,
            requester=case.reporter,
            requested=case.kind is CaseKind.REQUEST,
            confidence=confidence(case),
        )
        decided = step.model_copy(update={"decision": decision})
        if any(p.startswith("chaos_day") for p in decision.policy_ids) and "chaos-day" not in case.tags:
            case = case.changed(now, tags=(*case.tags, "chaos-day"))  # chaos-day cases are tagged
        assert case.plan is not None
        note = (
            AuditKind.DECISION,
            {
                "step": step.index,
                "action": step.call.action,
                "params": step.call.params,
                **decision.model_dump(mode="json"),
            },
        )
        match decision.outcome:
            case Outcome.ALLOW:
                decided = decided.model_copy(update={"status": StepStatus.APPROVED})
                return self.recorder.save(
                    case.moved(CaseStatus.ACTING, now, plan=case.plan.with_step(decided)),
                    note,
                    say(f"Running {step.call.action} on my own: {'; '.join(decision.reasons)}."),
                )
            case Outcome.APPROVE:
                return self._request_approval(case, decided, note)
            case Outcome.SUGGEST:
                decided = decided.model_copy(update={"status": StepStatus.SUGGESTED})
                return self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, now, plan=case.plan.with_step(decided)),
                    note,
                    say(
                        f"Suggested, for a person to run: {shown(step.call)} "
                        f"({'; '.join(decision.reasons)}). Tell me here when it is done."
                    ),
                    (AuditKind.CASE_ESCALATED, {"reason": "suggest only"}),
                )
            case _:
                decided = decided.model_copy(update={"status": StepStatus.REFUSED})
                return self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, now, plan=case.plan.with_step(decided)),
                    note,
                    say(f"Policy refuses {step.call.action}: {'; '.join(decision.reasons)}."),
                    (AuditKind.CASE_ESCALATED, {"reason": "denied by policy"}),
                )

    def _request_approval(self, case: Case, step: PlanStep, note: Note) -> Case:
        assert case.plan is not None
        assert step.decision is not None
        decision = step.decision
        now = self.clock.now()
        spec, params = self.executor.catalog.validate(step.call)
        approval = Approval(
            id=self._ids("A"),
            case_id=case.id,
            step_index=step.index,
            call=step.call,
            target=spec.target(params),
            group=decision.approver_group or "",
            quorum=decision.quorum,
            production=decision.production,
            requested_by=case.reporter,
            proposed_by=self.recorder.agent,
            reasons=decision.reasons,
            policy_ids=decision.policy_ids,
            created_at=now,
            expires_at=now + timedelta(seconds=decision.expires_in_seconds or 3600),
        )
        step = step.model_copy(update={"status": StepStatus.AWAITING_APPROVAL, "approval_id": approval.id})
        moved = case.moved(CaseStatus.AWAITING_APPROVAL, now, plan=case.plan.with_step(step))
        with self.store.transaction() as uow:
            uow.add_approval(approval)
            saved = self.recorder.save(
                moved,
                note,
                (AuditKind.APPROVAL_REQUESTED, approval.model_dump(mode="json")),
                say(
                    f"Approval needed from {approval.group} to run {shown(step.call)} on {approval.target}. "
                    f"{'; '.join(decision.reasons)}.",
                    approval_id=approval.id,
                ),
                uow=uow,
            )
        self.recorder.changed(case.id)
        return saved

    def _act(self, case: Case) -> Case:
        assert case.plan is not None
        step = case.plan.next_step()
        if step is None:
            return self.recorder.save(case.moved(CaseStatus.VERIFYING, self.clock.now()))
        if step.status is StepStatus.PROPOSED:
            return self._govern(case)
        recheck = self._recheck(case, step)
        if recheck is not None:
            return recheck
        key = step.run_key or run_key(case, step)
        if step.status is not StepStatus.RUNNING:
            step = step.model_copy(update={"status": StepStatus.RUNNING, "run_key": key})
            case = self.recorder.save(case.changed(self.clock.now(), plan=case.plan.with_step(step)))
        try:
            execution = self.executor.execute(step.call, case_id=case.id, key=key)
        except StateDriftError as exc:
            return self._stop_step(case, step, StepStatus.REFUSED, f"aborted: {exc}")
        except SystemUnavailableError as exc:
            return self._stop_step(case, step, StepStatus.FAILED, str(exc), failed=True)
        except ActionError as exc:
            return self._stop_step(case, step, StepStatus.REFUSED, f"refused by the executor: {exc}")
        run = execution.run
        if not execution.replayed:
            self.governance.observe(step.call, run, self.clock.now())  # the circuit breaker's history
        if not execution.succeeded:
            return self._stop_step(case, step, StepStatus.FAILED, run.error or run.status.value, failed=True)
        done = step.model_copy(update={"status": StepStatus.SUCCEEDED, "result": run.result})
        confirmed = confirmation(done)
        assert case.plan is not None
        case = self.recorder.save(
            case.changed(self.clock.now(), plan=case.plan.with_step(done)),
            say(
                f"{step.call.action} succeeded."
                + (f" Confirmation: {confirmed}." if confirmed else "")
                + ("" if not execution.replayed else " (already done earlier)")
            ),
        )
        return self._govern(case)

    def _recheck(self, case: Case, step: PlanStep) -> Case | None:
        """Time of use: policy is asked again right before the call runs (a freeze may have begun)."""
        assert case.plan is not None
        if step.status is StepStatus.RUNNING:
            return None  # already past the check; resuming a claimed run
        now = self.clock.now()
        decision = self.governance.decide(
            step.call,
            now,
            requester=case.reporter,
            requested=case.kind is CaseKind.REQUEST,
            fresh=True,
            confidence=confidence(case),
        )
        before = step.decision
        if decision.outcome is Outcome.ALLOW:
            return None
        if (
            decision.outcome is Outcome.APPROVE
            and before is not None
            and before.outcome is Outcome.APPROVE
            and (before.approver_group == decision.approver_group)
            and before.quorum >= decision.quorum
        ):
            return None
        note = (
            AuditKind.DECISION,
            {
                "step": step.index,
                "action": step.call.action,
                "params": step.call.params,
                "recheck": True,
                **decision.model_dump(mode="json"),
            },
        )
        if decision.outcome is Outcome.APPROVE:
            fresh = step.model_copy(update={"decision": decision, "approval_id": None})
            return self._request_approval(case, fresh, note)
        return self._stop_step(
            case,
            step.model_copy(update={"decision": decision}),
            StepStatus.REFUSED,
            "policy changed before it ran: " + "; ".join(decision.reasons),
            note=note,
        )

    def _stop_step(
        self,
        case: Case,
        step: PlanStep,
        status: StepStatus,
        why: str,
        *,
        failed: bool = False,
        note: Note | None = None,
    ) -> Case:
        assert case.plan is not None
        stopped = step.model_copy(update={"status": status, "error": why})
        target = CaseStatus.FAILED if failed else CaseStatus.ESCALATED
        kind = AuditKind.CASE_FAILED if failed else AuditKind.CASE_ESCALATED
        notes = [(kind, {"reason": why, "step": step.index})] if note is None else [note, (kind, {"reason": why})]
        plan = case.plan.with_step(stopped)
        report = [say(stopped_report(plan, case.id))] if is_request_plan(plan) else []
        return self.recorder.save(
            case.moved(target, self.clock.now(), plan=plan),
            *notes,
            say(f"{step.call.action} {status.value}: {why}. A person needs to look at this."),
            *report,
        )

    def _verify(self, case: Case) -> Case:
        assert case.plan is not None
        verification = (
            self.llm.verification(case)
            if self.llm is not None and case.plan.runbook.startswith(LLM_RUNBOOK)
            else self.planner.verification(case.plan.runbook)
        )
        targets = _targets(case.finding)
        if verification not in ("error_rate", "signals") or not targets:
            return self._resolve(case, {"signal": "actions", "ok": True})
        deadline = self.clock.now() + timedelta(seconds=self.settings.verify_timeout_seconds)
        while True:
            self.clock.sleep(self.settings.verify_interval_seconds)  # let the signal reflect what was done
            reader = Reader(self.executor, case.id, minutes=5, step_seconds=self.triage.settings.step_seconds)
            checks: list[dict[str, JsonValue]] = []
            for service, signal, baseline in targets:
                reading = reader.reading(service, signal)
                current = reading.current if reading is not None else None
                bound = limit(signal, baseline)
                ok = current is not None and current <= bound
                checks.append(
                    {
                        "service": service,
                        "signal": signal,
                        "baseline": baseline,
                        "current": current,
                        "limit": bound,
                        "ok": ok,
                    }
                )
            ok = all(c["ok"] for c in checks)
            head = checks[0]
            listed: list[JsonValue] = list(checks)
            result: dict[str, JsonValue] = {
                "signal": head["signal"],
                "service": head["service"],
                "baseline": head["baseline"],
                "current": head["current"],
                "limit": head["limit"],
                "ok": ok,
                "checks": listed,
            }
            if ok:
                return self._resolve(case, result)
            if self.clock.now() >= deadline:
                bad = next(c for c in checks if not c["ok"])
                return self.recorder.save(
                    case.moved(CaseStatus.ESCALATED, self.clock.now()),
                    (AuditKind.VERIFICATION, result),
                    (AuditKind.CASE_ESCALATED, {"reason": "signal did not return to baseline"}),
                    say(f"{_check(bad)}; handing this to a human."),
                )

    def _resolve(self, case: Case, result: dict[str, JsonValue]) -> Case:
        text = "Verified: every step succeeded."
        checks = result.get("checks")
        if isinstance(checks, list) and checks:
            text = "Verified: " + "; ".join(_check(c) for c in checks if isinstance(c, dict)) + ". Resolved."
        return self.recorder.save(
            case.moved(CaseStatus.RESOLVED, self.clock.now()),
            (AuditKind.VERIFICATION, result),
            (AuditKind.CASE_RESOLVED, {"runbook": case.plan.runbook if case.plan else None}),
            say(text),
        )

    def due(self) -> list[Case]:
        """Scheduled cases whose next step's time has come."""
        now = self.clock.now()
        found = []
        for case in self.store.list_cases(statuses=frozenset({CaseStatus.SCHEDULED}), limit=1000):
            step = case.plan.next_step() if case.plan is not None else None
            if step is None or step.not_before is None or step.not_before <= now:
                found.append(case)
        return found

    def _awake(self, case: Case) -> Case:
        """A scheduled case whose next step's time has come goes back to acting; any other case is left as is."""
        if case.status is not CaseStatus.SCHEDULED:
            return case
        step = case.plan.next_step() if case.plan is not None else None
        if step is not None and step.not_before is not None and self.clock.now() < step.not_before:
            return case
        return self.recorder.save(case.moved(CaseStatus.ACTING, self.clock.now()))

    def wake(self, case_id: str) -> Case:
        """Run a scheduled case whose time has come (``run`` does the same; this name says why it is called)."""
        return self.run(case_id)

    def claim(self, limit: int) -> list[str]:
        """Lease up to ``limit`` queued cases (work to do now, nobody on them) to this worker, oldest first.

        Scheduled cases are not in it: when their step may run is in their plan, and ``due`` finds them.
        """
        return self.store.claim_cases(
            self.owner, self.clock.now(), self.settings.lease_seconds, limit, ready=QUEUED, timed=TIMED
        )

    def resumable(self) -> list[Case]:
        """Cases a worker should pick up now: neither finished nor waiting for a person, nor for their wake time."""
        active = frozenset(CaseStatus) - frozenset(s for s in CaseStatus if s.terminal) - WAITING
        return [c for c in self.store.list_cases(statuses=active | TIMED, limit=1000) if self.is_due(c)]


def _span(seconds: float) -> str:
    """``30 min``, or ``45 s`` under a minute."""
    return f"{round(seconds / 60)} min" if seconds >= 60 else f"{round(seconds)} s"


def _targets(finding: Finding | None) -> list[tuple[str, str, float]]:
    """(service, signal, baseline) that must be back to normal: every link of the chain, else the finding's."""
    if finding is None:
        return []
    if finding.chain:  # restarts are a running total that never goes back down: pods ready again is the check
        return [
            (link.service, "unready", 0.0) if link.signal == "restarts" else (link.service, link.signal, link.baseline)
            for link in finding.chain
        ]
    if finding.service and finding.baseline is not None:
        return [(finding.service, finding.signal or "error_rate", finding.baseline)]
    return []


def _check(check: dict[str, JsonValue]) -> str:
    return check_text(check)
