"""The clarifying conversation in Slack, through the fake: "something is broken" → a question in the thread with
one button per candidate → a click (a signed block_actions) is the clicker's reply → the question is edited in
place without its buttons → finding → approval → resolved. Stale, forged and misplaced clicks are refused
ephemerally; free text answers too; a reply that adds nothing gets an answer; an unanswered question closes."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slackdesk import Desk, start_desk
from slackfake import BOT_USER, Call, FakeSlack
from slackflow import MENTION, card

from actiondesk.core.audit import AuditKind
from actiondesk.core.case import Case, CaseStatus

BROKEN = {**MENTION, "text": f"<@{BOT_USER}> something is broken"}


@pytest.fixture
async def desk(sqlite_url: str, fake: FakeSlack, two_chains: Path) -> AsyncIterator[Desk]:
    running, runner = await start_desk(sqlite_url, fake, settings={"sandbox_scenario": two_chains})
    yield running
    await running.session.close()
    await runner.cleanup()


def buttons(call: Call) -> list[dict[str, Any]]:
    return [
        element
        for block in call.args.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
        if str(element.get("action_id", "")).startswith("choose:")
    ]


def question(fake: FakeSlack) -> Call | None:
    return next((c for c in fake.named("chat.postMessage") if buttons(c)), None)


def edits_of(fake: FakeSlack, ts: str) -> list[Call]:
    return [c for c in fake.named("chat.update") if c.args.get("ts") == ts]


async def asked(desk: Desk) -> tuple[Case, Call]:
    status, _, took = await desk.event(BROKEN, "Ev0BROKEN")
    assert status == 200
    assert took < 3
    posted = await desk.fake.wait_for(question)
    (case,) = desk.runtime.store.list_cases()
    return case, posted


async def click(desk: Desk, button: dict[str, Any], user: str, trigger: str, **kw: str) -> None:
    status, _, took = await desk.click(button["action_id"], button["value"], user, trigger, **kw)
    assert status == 200
    assert took < 3


async def refusal(desk: Desk, n: int) -> Call:
    """The ``n``th ephemeral message (a refusal), once it is sent."""
    sent = await desk.fake.wait_for(lambda f: len(f.named("chat.postEphemeral")) >= n and f.named("chat.postEphemeral"))
    return sent[n - 1]


def case_now(desk: Desk, case_id: str) -> Case:
    return desk.runtime.store.get_case(case_id)


async def test_a_clicked_answer_continues_the_same_case_to_the_fix(desk: Desk) -> None:
    case, posted = await asked(desk)
    assert posted.args["thread_ts"] == MENTION["ts"]
    assert "Which one are you seeing?" in posted.args["text"]
    shown = buttons(posted)
    assert [b["text"]["text"] for b in shown] == ["checkout", "search"]
    assert len({b["action_id"] for b in shown}) == 2  # unique within their block, as Block Kit requires
    assert json.loads(shown[0]["value"])["case"] == case.id
    assert case_now(desk, case.id).status is CaseStatus.AWAITING_REPLY

    await click(desk, shown[0], "U0ALICE", "T-checkout")

    edited = await desk.fake.wait_for(lambda f: edits_of(f, posted.answer["ts"]))
    assert buttons(edited[0]) == []
    assert "Answered by alice: checkout" in json.dumps(edited[0].args["blocks"])
    approval = await desk.fake.wait_for(card)
    assert "rollback_deployment" in json.dumps(approval.args["blocks"])
    reply = [e for e in desk.runtime.store.audit(case.id) if e.kind is AuditKind.MESSAGE and e.actor == "alice"][-1]
    assert reply.payload["text"] == "checkout"
    finding = case_now(desk, case.id).finding
    assert finding is not None
    assert finding.culprit is not None
    assert (finding.culprit.service, finding.culprit.commit) == ("payment-gateway", "9f3c2ab")

    (pending,) = desk.runtime.store.approvals(case.id)
    await desk.click("approve", pending.id, "U0BOB", "T-approve")
    await desk.fake.wait_for(
        lambda f: any("resolved" in str(c.args.get("text")) for c in f.named("chat.update")), timeout=60
    )
    assert case_now(desk, case.id).status is CaseStatus.RESOLVED
    assert len(edits_of(desk.fake, posted.answer["ts"])) == 1  # the question was edited once, not on every change


async def test_stale_forged_and_misplaced_clicks_are_refused_and_an_unmapped_person_may_answer(desk: Desk) -> None:
    case, posted = await asked(desk)
    checkout, search = buttons(posted)
    forged = {**checkout, "value": json.dumps({**json.loads(checkout["value"]), "choice": "orders-db"})}

    await click(desk, forged, "U0ALICE", "T-forged")
    assert "'orders-db' is not one of the answers offered" in (await refusal(desk, 1)).args["text"]
    await click(desk, {**checkout, "value": "checkout"}, "U0ALICE", "T-garbage")
    assert "not one ActionDesk made" in (await refusal(desk, 2)).args["text"]
    await click(desk, checkout, "U0ALICE", "T-elsewhere", channel="C0ELSEWHERE")
    assert "does not belong to case" in (await refusal(desk, 3)).args["text"]
    assert [c.args["user"] for c in desk.fake.named("chat.postEphemeral")] == ["U0ALICE"] * 3
    assert case_now(desk, case.id).status is CaseStatus.AWAITING_REPLY
    assert edits_of(desk.fake, posted.answer["ts"]) == []

    await click(desk, search, "U0NOBODY", "T-search")  # not in the directory: may answer, never approve
    edited = await desk.fake.wait_for(lambda f: edits_of(f, posted.answer["ts"]))
    assert "Answered by slack:U0NOBODY: search" in json.dumps(edited[0].args["blocks"])

    await click(desk, checkout, "U0BOB", "T-late")  # the old buttons, still on someone's screen
    assert "not waiting for an answer any more" in (await refusal(desk, 4)).args["text"]
    await click(desk, search, "U0NOBODY", "T-search")  # the first click delivered again: nothing at all
    replies = [e.payload["text"] for e in desk.runtime.store.audit(case.id) if e.actor in {"bob", "slack:U0NOBODY"}]
    assert replies == ["search"]
    assert len(desk.fake.named("chat.postEphemeral")) == 4


async def test_a_free_text_answer_resumes_triage_and_a_reply_that_adds_nothing_is_answered(desk: Desk) -> None:
    case, posted = await asked(desk)
    reply = {
        "type": "message",
        "channel_type": "channel",
        "user": "U0ALICE",
        "text": "it's checkout, customers cannot pay",
        "ts": "1700000200.000100",
        "thread_ts": MENTION["ts"],
        "channel": "C0OPS",
    }
    assert (await desk.event(reply, "Ev0ANSWER"))[0] == 200

    edited = await desk.fake.wait_for(lambda f: edits_of(f, posted.answer["ts"]))
    assert "Answered by alice: it's checkout, customers cannot pay" in json.dumps(edited[0].args["blocks"])
    await desk.fake.wait_for(card)
    assert case_now(desk, case.id).status is CaseStatus.AWAITING_APPROVAL

    nothing = {**reply, "text": "any news?", "ts": "1700000300.000100"}
    assert (await desk.event(nothing, "Ev0NEWS"))[0] == 200
    answered = await desk.fake.wait_for(
        lambda f: [c for c in f.named("chat.postMessage") if "waiting for an approval" in str(c.args.get("text"))]
    )
    assert answered[0].args["thread_ts"] == MENTION["ts"]
    assert answered[0].args["text"] == "Noted. The case is waiting for an approval before it acts."


async def test_an_unanswered_question_loses_its_buttons_when_the_case_is_handed_over(
    sqlite_url: str, fake: FakeSlack, two_chains: Path
) -> None:
    desk, runner = await start_desk(
        sqlite_url,
        fake,
        settings={"sandbox_scenario": two_chains, "clarify_timeout_seconds": 1, "lease_seconds": 1},
    )
    try:
        case, posted = await asked(desk)
        edited = await fake.wait_for(lambda f: edits_of(f, posted.answer["ts"]))  # the scheduler's resume sweep
        assert buttons(edited[0]) == []
        assert "Closed without an answer: no answer to my question in 1 s" in json.dumps(edited[0].args["blocks"])
        assert case_now(desk, case.id).status is CaseStatus.ESCALATED
        await click(desk, buttons(posted)[0], "U0ALICE", "T-too-late")
        assert "not waiting for an answer any more (it is escalated)" in (await refusal(desk, 1)).args["text"]
    finally:
        await desk.session.close()
        await runner.cleanup()
