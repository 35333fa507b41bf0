"""The front desk: the one door every surface (the console, Slack, Teams, the alert webhook, the command line)
goes through to ActionDesk. A surface translates its own words into these calls and renders what comes back;
the rules live here once, below all of them:

- where a message goes (``reaches``): into the case of its conversation, unless that conversation carries one
  case after another (a Teams personal chat) and its case is closed, when it opens a new case;
- where an alert goes (``alert``): into the open case its fingerprint opened (a resolution also into a closed
  one); a firing alert with no case opens one, once;
- who may decide an approval and how a click that changes nothing is told (``decide``, ``may_decide``);
- who may roll back from a chat surface (people of the directory) and what a rollback opens (``rollback``);
- what the commands do: status, audit, compensate, hand off, take a handed-off case, the desk's controls.

Calls block (they read and write the store): surfaces on the event loop run them in a thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from actiondesk.agents.approvals import ApprovalDesk
from actiondesk.agents.controls import Controls
from actiondesk.agents.fulfilment import FulfilmentDesk
from actiondesk.agents.loop import CaseLoop
from actiondesk.agents.ownership import OwnerBook, TakeOver
from actiondesk.agents.questions import Question, QuestionDesk, questions
from actiondesk.agents.rollback import RollbackDesk
from actiondesk.core.approval import Approval
from actiondesk.core.audit import AuditEntry
from actiondesk.core.audit_payloads import P, read
from actiondesk.core.case import Case, CaseKind, CaseStatus
from actiondesk.core.errors import (
    ApprovalConflictError,
    ApprovalExpiredError,
    ApprovalNotFoundError,
    CaseNotFoundError,
    ConcurrencyError,
    DuplicateDeliveryError,
    GovernanceError,
    NotAuthorizedError,
)
from actiondesk.core.ports import Clock, Directory, Store

log = logging.getLogger(__name__)

CHAT = frozenset({"slack", "teams"})  # surfaces whose people are chat identities, mapped to the directory


class Refusal(StrEnum):
    """Why a click on an approval changed nothing."""

    MISSING = "missing"  # there is no such approval
    EXPIRED = "expired"  # it expired before the click
    HANDLED = "handled"  # someone (or an earlier click) decided it already
    NOT_ALLOWED = "not_allowed"  # the clicker may not decide it (group, separation of duties, unmapped)


@dataclass(frozen=True)
class Verdict:
    """What a decision (or a check before one) came to: the approval as it now stands (None when there is no
    such approval) and, when nothing changed, why."""

    approval: Approval | None
    refused: Refusal | None = None
    why: str = ""

    @property
    def decided(self) -> bool:
        return self.refused is None

    def told(self) -> str:
        """The refusal in words for the clicker ("" when the decision was taken)."""
        match self.refused:
            case None:
                return ""
            case Refusal.MISSING:
                return "That approval does not exist."
            case Refusal.EXPIRED:
                return f"Too late: {self.why}. It will not run."
            case Refusal.HANDLED:
                return f"Already handled: {self.why}."
            case Refusal.NOT_ALLOWED:
                return f"You cannot decide this: {self.why}."


@dataclass(frozen=True)
class CaseStatusView:
    """One case as a status reply shows it: the case and its approvals."""

    case: Case
    approvals: list[Approval]


@dataclass(frozen=True)
class CaseView:
    """One case as the console shows it: with its approvals, its timeline and the questions it asked."""

    case: Case
    approvals: list[Approval]
    timeline: list[AuditEntry]
    asked: list[Question]


class FrontDesk:
    """Built once by the composition root and handed to every surface instead of the runtime or the store."""

    def __init__(
        self,
        *,
        store: Store,
        clock: Clock,
        loop: CaseLoop,
        approvals: ApprovalDesk,
        questions: QuestionDesk,
        rollbacks: RollbackDesk,
        fulfilment: FulfilmentDesk,
        controls: Controls,
        directory: Directory,
        takeover: TakeOver | None = None,
    ) -> None:
        self._store = store
        self.clock = clock
        self._loop = loop
        self._approvals = approvals
        self.questions = questions
        self._rollbacks = rollbacks
        self.fulfilment = fulfilment
        self.controls = controls
        self.directory = directory
        self.takeover = takeover

    @property
    def agent(self) -> str:
        """The name the agents act and audit under (a surface tells the agent's words from people's by it)."""
        return self._loop.recorder.agent

    @property
    def owners(self) -> OwnerBook | None:
        """The owners file: each team's on-call group and channels (None without hand-offs)."""
        return self.takeover.owners if self.takeover is not None else None

    # -- deliveries ------------------------------------------------------------------------------------------

    def remember(self, delivery: str, source: str) -> bool:
        """Record a delivery key (a chat event id, a click's trigger id) before any side effect: False for a
        retry or a replay, which must then do nothing."""
        with self._store.transaction() as uow:
            return uow.remember(delivery, source, self.clock.now())

    # -- cases -----------------------------------------------------------------------------------------------

    def open_case(
        self,
        text: str,
        who: str,
        *,
        surface: str,
        thread: dict[str, str] | None = None,
        delivery: str | None = None,
    ) -> Case:
        """Open a case from what ``who`` said; ``delivery`` (the surface's event id) is recorded with it, so a
        retried event raises DuplicateDeliveryError instead of opening a second case."""
        return self._loop.open_case(text, who, surface=surface, thread=thread, delivery=delivery)

    def reply(self, case_id: str, who: str, text: str, *, delivery: str | None = None) -> Case:
        """What ``who`` said in the case's conversation, added to the case (which wakes a waiting case)."""
        return self._loop.add_message(case_id, who, text, delivery=delivery)

    def reaches(self, case_id: str | None, *, carries_many: bool = False) -> str | None:
        """The case a message in a conversation bound to ``case_id`` reaches, or None: the message opens a new
        case. ``carries_many``: the conversation carries one case after another (a Teams personal chat), so a
        closed case there no longer takes messages; a thread that belongs to one case always reaches it."""
        if case_id is None:
            return None
        if carries_many and self._store.get_case(case_id).status.terminal:
            return None
        return case_id

    def case(self, case_id: str) -> Case:
        return self._store.get_case(case_id)

    def audit(self, case_id: str, after_seq: int = 0) -> list[AuditEntry]:
        """The case's audit trail, oldest first; only the entries after ``after_seq`` when given (what a surface
        following the case has not seen yet)."""
        return list(self._store.audit(case_id, after_seq))

    def newest(self, case_id: str, model: type[P], where: Callable[[P], bool] = lambda _: True) -> P | None:
        """The payload of the case's newest audit entry of ``model``'s kind that ``where`` accepts."""
        found = None
        for entry in self._store.audit(case_id):
            if entry.kind is model.kind and where(payload := read(entry, model)):
                found = payload
        return found

    def answer(
        self, case_id: str, who: str, choice: str, *, question: int | None = None, delivery: str | None = None
    ) -> Case:
        """A click on one of a question's choices (anyone in the conversation may answer: answering is not
        approving); StaleAnswerError when the question is no longer the open one."""
        return self.questions.answer(case_id, who, choice, question=question, delivery=delivery)

    def alert(
        self, fingerprint: str, text: str, *, firing: bool, delivery: str, service: str | None = None
    ) -> str | None:
        """An alert from the monitoring, and the case it reached (None: a repeat, or a resolution of nothing
        open). The delivery key and the fingerprint's case are written in the transaction of the case or note
        they lead to, so a re-sent alert does nothing and concurrent deliveries open one case."""
        for _ in range(2):  # a second pass when another delivery opened this alert's case under us
            known = self._store.alert_case(fingerprint)
            case = None
            if known is not None:
                try:
                    case = self._store.get_case(known)
                except CaseNotFoundError:
                    case = None
            try:
                if case is not None and (not case.status.terminal or not firing):
                    self._loop.add_message(case.id, "alertmanager", text, delivery=delivery, answer=False)
                    return case.id
                if not firing or known is not None:
                    self.remember(delivery, "alertmanager")  # nothing to open: the delivery is remembered all the same
                    return None
                opened = self._loop.open_case(
                    text,
                    "alertmanager",
                    surface="alert",
                    service=service,
                    kind=CaseKind.INCIDENT,
                    thread={"alert_fingerprint": fingerprint},
                    delivery=delivery,
                    alert=fingerprint,
                )
            except DuplicateDeliveryError:
                return None  # Alertmanager re-sends firing alerts on every group interval
            except ConcurrencyError:
                continue  # the same alert's case was opened by a concurrent delivery: reach that one
            log.info("case %s: opened by the alert %s", opened.id, fingerprint)
            return opened.id
        return None

    # -- approvals -------------------------------------------------------------------------------------------

    def approval(self, approval_id: str) -> Approval:
        with self._store.transaction() as uow:
            return uow.get_approval(approval_id)

    def may_decide(self, approval_id: str, who: str) -> Verdict:
        """Whether ``who`` may decide the approval, changing nothing (before a reason is asked for, or when a
        click is delivered again)."""
        try:
            approval = self.approval(approval_id)
        except ApprovalNotFoundError:
            return Verdict(None, Refusal.MISSING)
        try:
            self._approvals.check(approval, who)
        except GovernanceError as exc:
            return Verdict(approval, Refusal.NOT_ALLOWED, str(exc))
        return Verdict(approval)

    def decide(self, approval_id: str, who: str, approve: bool, reason: str | None = None) -> Verdict:
        """Approve or reject for ``who``: the approval desk checks the group, separation of duties and expiry,
        and turns concurrent clicks into one decision. A refusal is a Verdict, never an exception."""
        try:
            return Verdict(self._approvals.decide(approval_id, who, approve, reason))
        except ApprovalNotFoundError:
            return Verdict(None, Refusal.MISSING)
        except ApprovalExpiredError as exc:
            return Verdict(self.approval(approval_id), Refusal.EXPIRED, str(exc))
        except ApprovalConflictError as exc:
            return Verdict(self.approval(approval_id), Refusal.HANDLED, str(exc))
        except GovernanceError as exc:
            return Verdict(self.approval(approval_id), Refusal.NOT_ALLOWED, str(exc))

    def approvals_of(self, case_id: str) -> list[Approval]:
        return self._store.approvals(case_id)

    # -- rollback, compensation, hand-off ------------------------------------------------------------------

    def rollback(
        self, run_key: str, who: str, *, surface: str = "console", thread: dict[str, str] | None = None
    ) -> Case:
        """Open the case that undoes a finished action run; governance decides its call like any other. From a
        chat surface only people of the directory may ask (NotAuthorizedError otherwise)."""
        self.may_roll_back(who, surface=surface)
        return self._rollbacks.request(run_key, who, surface=surface, thread=thread)

    def may_roll_back(self, who: str, *, surface: str) -> None:
        """Raise NotAuthorizedError unless ``who`` may ask for a rollback from ``surface``: on a chat surface, a
        person of the directory (an unmapped chat user may not); elsewhere the signed-in or local operator."""
        if surface in CHAT and self.directory.person(who) is None:
            raise NotAuthorizedError("only people in ActionDesk's directory can roll back an action")

    def run_case(self, run_key: str) -> str | None:
        """The case whose action run has this key (None for a run outside a case)."""
        return self._store.get_run(run_key).case_id

    def compensate(self, case_id: str, who: str, *, surface: str = "console") -> Case:
        """Open the case that undoes a stopped request's completed steps, each through policy."""
        return self.fulfilment.compensate(case_id, who, surface=surface)

    def hand_off(self, case_id: str, who: str) -> Case:
        """Give a stopped request to a person (its ticket goes to the assignment group)."""
        return self.fulfilment.hand_off(case_id, who)

    def take(self, case_id: str, who: str) -> Case:
        """``who`` has the handed-off case (the pick-up is recorded); only people of the directory may."""
        if self.takeover is None or self.directory.person(who) is None:
            raise NotAuthorizedError("only people in ActionDesk's directory can take a case")
        return self.takeover.take(self._loop.recorder, case_id, who)

    def drive(self, case_id: str) -> Case:
        """Advance the case here and now until it waits or ends (the command line has no worker)."""
        return self._loop.run(case_id)

    # -- status ----------------------------------------------------------------------------------------------

    def status(self, case_id: str) -> CaseStatusView:
        case = self._store.get_case(case_id)
        return CaseStatusView(case, self._store.approvals(case.id))

    def view(self, case_id: str) -> CaseView:
        case = self._store.get_case(case_id)
        timeline = list(self._store.audit(case_id))
        asked = questions(case, timeline, self._loop.recorder.agent)
        return CaseView(case, self._store.approvals(case_id), timeline, asked)

    def cases(self, limit: int = 100) -> list[Case]:
        """The newest cases, whatever their state."""
        return self._store.list_cases(None, limit)

    def open_cases(self, limit: int = 20) -> list[Case]:
        active = frozenset(s for s in CaseStatus if not s.terminal)
        return self._store.list_cases(statuses=active, limit=limit)

    def audit_verifies(self) -> bool:
        return self._store.verify_audit().ok


__all__ = ["CHAT", "CaseStatusView", "CaseView", "FrontDesk", "Refusal", "Verdict"]
