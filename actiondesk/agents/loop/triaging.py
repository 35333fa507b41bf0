"""The triage stage: read the signals (and the thread), ask, watch, or let the model investigate."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from actiondesk.agents.loop.base import ALERT_SURFACE, INVESTIGABLE, LoopBase
from actiondesk.agents.record import Note, say
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.audit_payloads import CaseEscalated, FindingNoted, Message, read
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.finding import Finding, FindingKind


class Triaging(LoopBase):
    """Reading what is wrong, asking, watching, or letting the model investigate."""

    def _asked(self, trail: Sequence[AuditEntry]) -> bool:
        """Whether the agent already asked this case's reporter a question (a message with choices)."""
        return any(
            e.kind is AuditKind.MESSAGE and e.actor == self.recorder.agent and read(e, Message).choices for e in trail
        )

    def _triage(self, case: Case) -> Case:
        now = self.clock.now()
        trail = list(self.store.audit(case.id))  # read once for the thread and the questions asked
        thread = self.thread(case, trail)
        with self.steady():  # its readings of every service from one state, checked for news once
            finding = self.triage.run(case, thread, asked=self._asked(trail))
        if self._watching(case, finding):
            return self._watch(case, finding)
        inquiry: list[Note] = []
        if self._investigable(case, finding):
            case, finding, inquiry = self._investigate(case, finding, thread)
        service = finding.service or case.service
        notes = [*inquiry, FindingNoted.of(finding), say(finding.summary)]
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
                FindingNoted.of(finding),
                say(finding.question, choices=list(finding.candidates)),
            )
        if case.watch_until is not None:
            minutes = max(1, round(self.settings.watch_seconds / 60))
            notes[-1] = say(f"{finding.summary} I watched for {minutes} min.")
        return self.recorder.save(
            case.moved(CaseStatus.ESCALATED, now, finding=finding, service=service, wake_at=None),
            *notes,
            CaseEscalated(reason="triage abstained"),
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
                FindingNoted.of(finding),
                say(
                    f"{finding.summary} I will re-read {watched}'s signals every "
                    f"{self.settings.watch_step_seconds:g} s for up to {minutes} min and tell you what I find."
                ),
            )
        until = case.watch_until
        return self.recorder.save(case.moved(CaseStatus.WATCHING, now, finding=finding, wake_at=min(now + step, until)))
