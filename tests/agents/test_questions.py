"""Clicks on a question's choices, below the surfaces: a click is a reply by the person who clicked, taken only
while its question is open and only for a choice it offered; a question closed by the timeout refuses late
clicks; a reply that meets the worker's concurrent save is recorded all the same. SQLite and PostgreSQL.
(test_conversation.py has the conversation itself: asking, the timeout, answers to replies.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseStatus
from actiondesk.core.errors import ConcurrencyError, DuplicateDeliveryError, StaleAnswerError

if TYPE_CHECKING:
    from conftest import Desk, MakeDesk


def two_chains(desk: Desk) -> Case:
    """payment-gateway's bad deploy (its errors reach checkout) and unexplained errors on search; a report naming
    neither: triage asks which one is meant."""
    desk.deploy("payment-gateway", "v2.5.0", "9f3c2ab")
    desk.wait(60)
    desk.fault("payment-gateway", 0.35)
    desk.fault("search", 0.25)
    desk.wait(60)
    return desk.report("something is broken")


def test_a_click_is_the_clickers_reply_and_triage_continues_from_it_to_the_fix(desk: Desk) -> None:
    case = two_chains(desk)
    assert case.status is CaseStatus.AWAITING_REPLY
    (question,) = desk.runtime.questions.asked(case.id)
    assert question.open
    assert question.choices == ("checkout", "search")
    assert case.finding is not None
    assert question.text == case.finding.question

    answered = desk.runtime.questions.answer(case.id, "dave", "checkout", question=question.seq)

    assert answered.status is CaseStatus.TRIAGING
    reply = desk.audit(case.id)[-1]
    assert (reply.kind, reply.actor, reply.payload) == (AuditKind.MESSAGE, "dave", {"text": "checkout"})
    case = desk.runtime.loop.run(case.id)
    assert case.status is CaseStatus.AWAITING_APPROVAL
    assert case.finding is not None
    assert case.finding.culprit is not None
    assert (case.finding.culprit.service, case.finding.culprit.commit) == ("payment-gateway", "9f3c2ab")
    (closed,) = desk.runtime.questions.asked(case.id)
    assert not closed.open
    assert closed.outcome() == "Answered by dave: checkout"


def test_a_stale_or_forged_choice_is_refused_and_changes_nothing(desk: Desk) -> None:
    case = two_chains(desk)
    (question,) = desk.runtime.questions.asked(case.id)
    before = len(desk.audit(case.id))
    questions = desk.runtime.questions

    with pytest.raises(StaleAnswerError, match="'orders-db' is not one of the answers offered"):
        questions.answer(case.id, "alice", "orders-db")
    with pytest.raises(StaleAnswerError, match="replaced by a newer one"):
        questions.answer(case.id, "alice", "checkout", question=question.seq - 1)
    assert len(desk.audit(case.id)) == before
    assert desk.store.get_case(case.id).status is CaseStatus.AWAITING_REPLY

    questions.answer(case.id, "alice", "search", delivery="click-1")
    with pytest.raises(DuplicateDeliveryError):
        questions.answer(case.id, "alice", "search", delivery="click-1")  # the same click delivered again
    with pytest.raises(StaleAnswerError, match="not waiting for an answer any more"):
        questions.answer(case.id, "bob", "checkout", question=question.seq)  # a second click on the old buttons
    assert [text for who, text in said(desk, case.id) if who != "actiondesk"] == ["something is broken", "search"]


def test_a_question_closed_by_the_timeout_says_so_and_refuses_a_late_click(make_desk: MakeDesk) -> None:
    desk = make_desk(clarify_timeout_seconds=600)
    case = two_chains(desk)
    desk.wait(600)
    assert desk.runtime.loop.run(case.id).status is CaseStatus.ESCALATED

    (question,) = desk.runtime.questions.asked(case.id)
    assert not question.open
    assert question.outcome() == "Closed without an answer: no answer to my question in 10 min."
    with pytest.raises(StaleAnswerError, match="it is escalated"):
        desk.runtime.questions.answer(case.id, "alice", "checkout")


class RacingStore:
    """The store as the loop sees it, with the worker saving the case (``race`` of it) right after each of the
    first ``races`` reads: the case a reply was checked against is stale by the time the reply is saved."""

    def __init__(self, desk: Desk, races: int, race: Callable[[Case], Case] | None = None) -> None:
        self._store = desk.store
        self.races = races
        self._race = race or (lambda case: case.changed(desk.clock.now()))

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def get_case(self, case_id: str) -> Case:
        case = self._store.get_case(case_id)
        if self.races > 0:
            self.races -= 1
            with self._store.transaction() as uow:
                uow.save_case(self._race(case))
        return case


def said(desk: Desk, case_id: str) -> list[tuple[str, str]]:
    return [(e.actor, str(e.payload["text"])) for e in desk.audit(case_id) if e.kind is AuditKind.MESSAGE]


@pytest.mark.parametrize("races", [1, 2])
def test_a_reply_that_meets_the_workers_save_is_recorded_once_all_the_same(desk: Desk, races: int) -> None:
    desk.bad_deploy()
    case = desk.report()
    desk.runtime.loop.store = RacingStore(desk, races)  # type: ignore[assignment]

    desk.runtime.loop.add_message(case.id, "alice", "any news?", delivery="ev-1")

    assert said(desk, case.id)[-2:] == [
        ("alice", "any news?"),
        ("actiondesk", "Noted. The case is waiting for an approval before it acts."),
    ]


def test_a_reply_that_keeps_meeting_concurrent_saves_fails_whole(desk: Desk) -> None:
    desk.bad_deploy()
    case = desk.report()
    before = len(desk.audit(case.id))
    desk.runtime.loop.store = RacingStore(desk, 3)  # type: ignore[assignment]

    with pytest.raises(ConcurrencyError):
        desk.runtime.loop.add_message(case.id, "alice", "any news?", delivery="ev-2")
    assert len(desk.audit(case.id)) == before
    desk.runtime.loop.store = desk.store  # the delivery was not spent: its retry goes through
    desk.runtime.loop.add_message(case.id, "alice", "any news?", delivery="ev-2")
    assert said(desk, case.id)[-2][1] == "any news?"


def test_a_click_that_meets_the_timeout_escalation_is_checked_again_and_refused(desk: Desk) -> None:
    case = two_chains(desk)
    before = len(desk.audit(case.id))
    gave_up = RacingStore(desk, 1, lambda c: c.moved(CaseStatus.ESCALATED, desk.clock.now(), wake_at=None))
    desk.runtime.loop.store = gave_up  # type: ignore[assignment]

    with pytest.raises(StaleAnswerError, match="it is escalated"):
        desk.runtime.questions.answer(case.id, "alice", "checkout", delivery="click-2")
    assert len(desk.audit(case.id)) == before
