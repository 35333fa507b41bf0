"""Retries of a case step that raises, around ``CaseLoop.run``: bounded, with backoff, persisted.

A step that raises (an alert naming a service the estate does not know, an adapter failing) used to leave its
case where it was, retried by every sweep for ever with a traceback, and its step never counted. Here each
failure is saved in one transaction with the case: the attempt count and the next time it may run
(``case_attempts``) and the step count (so ``ACTIONDESK_MAX_STEPS`` holds). The next attempt waits
``base * 2^(n-1)`` seconds (at most MAX_WAIT); after ``attempts`` failures, or at the step bound, the case is
escalated with the reason. A run that gets through clears the count (read first: a run with none to clear
writes nothing more).

A ConcurrencyError (another writer changed the case first) is not the step's failure: it is retried soon and
not counted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from actiondesk.agents.loop import WAITING, CaseLoop
from actiondesk.agents.record import say
from actiondesk.core.audit_payloads import CaseEscalated
from actiondesk.core.case import CaseStatus
from actiondesk.core.errors import ConcurrencyError
from actiondesk.core.redact import redact_text

log = logging.getLogger(__name__)

MAX_WAIT = 600.0
CONTENTION_WAIT = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_seconds: float = 5.0

    def wait(self, attempt: int) -> float:
        """Seconds before attempt ``attempt + 1``, after ``attempt`` failures."""
        return min(MAX_WAIT, self.base_seconds * 2.0 ** (attempt - 1))


class StepRetries:
    def __init__(self, loop: CaseLoop, policy: RetryPolicy) -> None:
        self.loop = loop
        self.policy = policy

    def run(self, case_id: str) -> float | None:
        """Advance the case once; None when done (or it waits for a person), else seconds until the next try."""
        try:
            self.loop.run(case_id)
        except ConcurrencyError:
            log.info("case %s: changed under us, trying again", case_id)
            return CONTENTION_WAIT
        except Exception as exc:  # the edge of a step: whatever it raised is counted, then retried or escalated
            log.exception("case %s: a step raised", case_id)
            return self.failed(case_id, exc)
        if self.loop.store.failed_attempts(case_id):  # a read first: most runs have none to clear, and a write
            with self.loop.store.transaction() as uow:  # waits its turn for the lock (SQLite) and syncs to disk
                uow.clear_attempts(case_id)
        return None

    def failed(self, case_id: str, exc: Exception) -> float | None:
        """Record a failed step; seconds until the next attempt, or None when the case went to a human."""
        loop, now = self.loop, self.loop.clock.now()
        error = redact_text(f"{type(exc).__name__}: {exc}")[:500]
        with loop.store.transaction() as uow:
            case = uow.get_case(case_id)
            if case.status.terminal or case.status in WAITING:  # a person or a date moves it on, not a retry
                uow.clear_attempts(case_id)
                return None
            attempts = uow.failed_attempts(case_id) + 1
            counted = case.changed(now, steps_taken=case.steps_taken + 1)  # a failed step is a step
            bound = counted.steps_taken >= loop.settings.max_steps
            if attempts >= self.policy.attempts or bound:
                why = (
                    f"step bound reached ({loop.settings.max_steps} steps) while a step kept failing: {error}"
                    if bound and attempts < self.policy.attempts
                    else f"the {case.status.value} step failed {attempts} times: {error}"
                )
                uow.clear_attempts(case_id)
                loop.recorder.save(
                    counted.moved(CaseStatus.ESCALATED, now),
                    CaseEscalated(reason=why),
                    say(f"Handing this to a human: {why}"),
                    uow=uow,
                )
                log.warning("case %s: escalated after %d failed attempts", case_id, attempts)
                wait = None
            else:
                wait = self.policy.wait(attempts)
                uow.record_attempt(case_id, attempts, now + timedelta(seconds=wait), error, now)
                loop.recorder.save(counted, uow=uow)
                log.info("case %s: attempt %d failed; next in %.1f s", case_id, attempts, wait)
        loop.recorder.changed(case_id, case.surface)
        return wait
