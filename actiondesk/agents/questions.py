"""The agent's questions in a case's thread and the answers people give to them.

When triage cannot tell which service is meant it asks, with the candidates as choices (``say(question,
choices=[...])`` in the audit trail) and the case waits in ``awaiting_reply``. Every surface shows the choices
as buttons; this module is the one place that says what a click means: a reply by the person who clicked,
with the choice as its text, accepted only while that question is the case's open one and only for a choice
it offered. Anyone may answer (answering is not approving): the answer decides nothing but what to look at.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

from actiondesk.agents.loop import CaseLoop
from actiondesk.core.audit import AuditEntry, AuditKind
from actiondesk.core.audit_payloads import CaseStopped, Message, parse, read
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.errors import StaleAnswerError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Question:
    """One question the agent asked, and how it ended. ``seq`` (its audit entry) identifies it everywhere."""

    case_id: str
    seq: int
    text: str
    choices: tuple[str, ...]
    open: bool
    answer: str | None = None  # the reply that closed it, verbatim
    answered_by: str | None = None
    closed_because: str | None = None  # why it closed with no answer (the escalation's reason)

    def outcome(self) -> str:
        """How the question ended, as the surfaces print it under the question once its buttons are gone."""
        if self.open:
            return "Waiting for an answer."
        if self.answered_by is not None:
            return f"Answered by {self.answered_by}: {self.answer}"
        if self.closed_because:
            return f"Closed without an answer: {self.closed_because}."
        return "Closed without an answer."


def questions(case: Case, entries: Iterable[AuditEntry], agent: str) -> list[Question]:
    """Every question of ``case`` in its audit trail, oldest first; only the newest can be open, and only
    while the case waits for a reply."""
    trail = list(entries)
    asked = [
        (i, e.seq, message, message.choices)
        for i, e in enumerate(trail)
        if e.kind is AuditKind.MESSAGE and e.actor == agent
        for message in [read(e, Message)]
        if message.choices is not None
    ]
    found: list[Question] = []
    for n, (i, seq, message, choices) in enumerate(asked):
        newest = n == len(asked) - 1
        question = Question(
            case_id=case.id,
            seq=seq,
            text=message.text,
            choices=tuple(choices),
            open=newest and case.status is CaseStatus.AWAITING_REPLY,
        )
        if not question.open:
            question = _closing(question, trail[i + 1 :], agent)
        found.append(question)
    return found


def _closing(question: Question, later: list[AuditEntry], agent: str) -> Question:
    """What closed the question: the first reply after it, else the escalation that gave up waiting."""
    for entry in later:
        if entry.kind is AuditKind.MESSAGE and entry.actor != agent:
            return replace(question, answer=read(entry, Message).text, answered_by=entry.actor)
        stopped = parse(entry)
        if isinstance(stopped, CaseStopped):
            return replace(question, closed_because=stopped.reason or None)
    return question


class QuestionDesk:
    """What the surfaces call: the questions of a case, and a click on one of its choices."""

    def __init__(self, loop: CaseLoop) -> None:
        self.loop = loop
        self.store = loop.store

    def asked(self, case_id: str) -> list[Question]:
        """The case's questions, oldest first (CaseNotFoundError for an unknown case)."""
        case = self.store.get_case(case_id)
        return questions(case, self.store.audit(case_id), self.loop.recorder.agent)

    def open_question(self, case: Case) -> Question | None:
        if case.status is not CaseStatus.AWAITING_REPLY:
            return None
        found = questions(case, self.store.audit(case.id), self.loop.recorder.agent)
        return found[-1] if found and found[-1].open else None

    def answer(
        self, case_id: str, person: str, choice: str, *, question: int | None = None, delivery: str | None = None
    ) -> Case:
        """A click on ``choice``: recorded as ``person``'s reply in the thread, which resumes triage.

        ``question`` is the seq of the question the button belonged to (None: the open one). Raise
        StaleAnswerError, changing nothing, when the case is not waiting for an answer, the question is not its
        open one, or the choice is not one it offered; CaseNotFoundError for an unknown case;
        DuplicateDeliveryError for a ``delivery`` already handled (checked first: a retried click that was taken
        is not refused); ConcurrencyError when the case kept changing under the click.
        """

        def still_open(case: Case) -> None:
            self._check(case, choice, question)

        answered = self.loop.add_message(case_id, person, choice, delivery=delivery, check=still_open)
        log.info("case %s: %s answered %r", case_id, person, choice)
        return answered

    def _check(self, case: Case, choice: str, question: int | None) -> None:
        open_question = self.open_question(case)
        if open_question is None:
            state = case.status.value.replace("_", " ")
            raise StaleAnswerError(f"case {case.id} is not waiting for an answer any more (it is {state})")
        if question is not None and question != open_question.seq:
            raise StaleAnswerError(f"that question of case {case.id} was replaced by a newer one")
        if choice not in open_question.choices:
            offered = ", ".join(open_question.choices) or "nothing"
            raise StaleAnswerError(f"{choice!r} is not one of the answers offered ({offered})")
