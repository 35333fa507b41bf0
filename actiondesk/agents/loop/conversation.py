"""Talking to cases: opening one from a message, and a reply in its thread (with the answer it gets)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from actiondesk.agents.intent import classify
from actiondesk.agents.llm.guard import suspicions
from actiondesk.agents.loop.base import REPLY_ATTEMPTS, LoopBase, shown
from actiondesk.agents.record import Note, say
from actiondesk.core.audit_payloads import CaseOpened, InjectionSuspected, Message, PlanNoted
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.errors import ConcurrencyError, DuplicateDeliveryError
from actiondesk.core.plan import Plan
from actiondesk.core.ports import UnitOfWork
from actiondesk.core.redact import redact_text

log = logging.getLogger(__name__)


class Conversation(LoopBase):
    """Opening cases and the replies in their threads."""

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
                    CaseOpened(case_kind=case.kind.value, title=case.title, surface=surface, reporter=reporter),
                    Message(text=text),
                ],
                actor=reporter,
            ):
                uow.append_audit(draft)
            if plan is not None:
                self.recorder.append(uow, case.id, [PlanNoted.of(plan)])
        self.recorder.changed(case.id, case.surface)
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
            PlanNoted.of(found),
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
        note: Note = Message(text=text)
        new_service = self._new_service(case, text)
        flagged: list[Note] = []
        if self.llm is not None:  # a reply is untrusted text the model will read: say so when it talks to the model
            flagged = [
                InjectionSuspected(source="reply", why=why) for why in suspicions(text, self.executor.catalog.names())
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
        self.recorder.changed(case.id, case.surface)
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
