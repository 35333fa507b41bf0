"""The case loop's shared parts: its settings, the case states it schedules by, and the base every stage builds on."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from actiondesk.actions.executor import Executor
from actiondesk.agents.governance import Governance
from actiondesk.agents.llm import LlmPlanner
from actiondesk.agents.llm.investigator import Investigator
from actiondesk.agents.planner import RunbookPlanner
from actiondesk.agents.record import Recorder, say
from actiondesk.agents.triage import Triage
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.audit_payloads import CaseEscalated, Message, read
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.finding import FindingKind
from actiondesk.core.plan import ActionCall, Plan, PlanStep

WAITING = frozenset({CaseStatus.AWAITING_APPROVAL, CaseStatus.AWAITING_REPLY, CaseStatus.SCHEDULED})
TIMED = frozenset({CaseStatus.WATCHING, CaseStatus.AWAITING_REPLY})  # waiting until ``wake_at``
QUEUED = frozenset(s for s in CaseStatus if not s.terminal) - WAITING - TIMED  # work to do as soon as a worker is free
ALERT_SURFACE = "alert"  # cases Alertmanager opened: nobody there to answer a question
INVESTIGABLE = frozenset({FindingKind.UNKNOWN_SERVICE, FindingKind.UNEXPLAINED_ANOMALY, FindingKind.NO_ANOMALY})
# A request's intake: the plan a message asks for (onboarding, offboarding), what is wrong with it, or None.
Intake = Callable[[Case], "Plan | str | None"]
# Holds the estate's readings steady for a block: every read in it sees the state as of its first read (the
# composition root passes the shared estate's; nullcontext when reads are in-process anyway).
Steady = Callable[[], AbstractContextManager[object]]
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


class LoopBase:
    """What every stage of the loop reads: the recorder, the executor, the agents, the settings."""

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
        steady: Steady = nullcontext,
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
        self.steady = steady  # a triage reads one picture of the estate, not one re-checked on every read

    def _escalate(self, case: Case, why: str) -> Case:
        return self.recorder.save(
            case.moved(CaseStatus.ESCALATED, self.clock.now()),
            CaseEscalated(reason=why),
            say(f"Handing this to a human: {why}"),
        )

    def thread(self, case: Case, trail: Sequence[AuditEntry] | None = None) -> list[str]:
        """Every message people wrote in the case, oldest first (the agent's own are left out). ``trail``: the
        case's audit entries when the caller has already read them."""
        entries = self.store.audit(case.id) if trail is None else trail
        return [
            read(e, Message).text for e in entries if e.kind is AuditKind.MESSAGE and e.actor != self.recorder.agent
        ] or [case.text]
