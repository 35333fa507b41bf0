"""Driving a case: lease it, advance it one persisted step at a time, wake it when its time comes."""

from __future__ import annotations

import logging
from datetime import timedelta

from actiondesk.agents.loop.base import QUEUED, TIMED, WAITING
from actiondesk.agents.loop.conversation import Conversation
from actiondesk.agents.loop.planning import Planning
from actiondesk.agents.loop.triaging import Triaging
from actiondesk.agents.loop.verifying import Verifying
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.tracing import case_scope, span

log = logging.getLogger(__name__)


class CaseLoop(Conversation, Triaging, Planning, Verifying):
    """The whole loop: each stage from its own module, driven here one persisted step at a time."""

    def run(self, case_id: str) -> Case:
        """Advance the case until it waits for a person or ends. Safe to call from any replica."""
        with case_scope(case_id), span("case.run"):  # logs and spans of this work carry the case id
            if not self.store.claim_lease(case_id, self.owner, self.clock.now(), self.settings.lease_seconds):
                log.info("case %s: leased by another worker", case_id)
                return self.store.get_case(case_id)
            leased = self.clock.now()
            try:
                case = self._awake(self.store.get_case(case_id))
                while self.is_due(case):
                    if self.clock.now() - leased >= self._renewal:  # else most of the lease is still ahead
                        leased = self.clock.now()
                        self.store.claim_lease(case_id, self.owner, leased, self.settings.lease_seconds)
                    before = case.status
                    with span("case.step", {"actiondesk.case.status": before.value}) as step:
                        case = self.advance(case)
                        step.set_attribute("actiondesk.case.next_status", case.status.value)
                    if case.status is not before:
                        log.info("case %s: %s -> %s", case_id, before.value, case.status.value)
                return case
            finally:
                self.store.release_lease(case_id, self.owner)

    @property
    def _renewal(self) -> timedelta:
        """How long after taking its lease a run renews it before the next step: a quarter of the lease, so every
        step starts with at least three quarters of it ahead (one write per step before, however short the step)."""
        return timedelta(seconds=self.settings.lease_seconds / 4)

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
