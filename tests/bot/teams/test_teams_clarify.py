"""The clarifying conversation in Teams, through the fakes (signed activities and invokes, a recording Bot
Connector): "something is broken" → a question card with one Action.Execute per candidate → the click is the
clicker's reply, the card comes back without its buttons and is edited in place for everyone → finding →
approval → resolved. Stale, forged and misplaced clicks get an error and change nothing; the Action.Submit
fallback answers too; a reply that adds nothing gets an answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from teams_fakes import Call, World, card_text, cards, execute, invoke, mention, started_world

from actiondesk.core.case import CaseStatus


@pytest.fixture
async def world(tmp_path: Path, two_chains: Path) -> AsyncIterator[World]:
    async with started_world(tmp_path, sandbox_scenario=two_chains) as world:
        yield world


def choices(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        action
        for element in card.get("body", [])
        if element.get("type") == "ActionSet"
        for action in element["actions"]
        if action.get("verb") == "answer"
    ]


async def asked(world: World) -> tuple[str, Call, list[dict[str, Any]]]:
    """Report "something is broken"; wait for the question card: (conversation, its POST, its buttons)."""
    body = mention(world.connector.url, "something is broken")
    assert (await world.post(body)).status_code == 201
    posted = await world.connector.wait_for(
        lambda calls: next((c for c in calls if c.method == "POST" and any(choices(k) for k in cards(c))), None)
    )
    return body["conversation"]["id"], posted, choices(cards(posted)[0])


def answering(world: World, button: dict[str, Any], user: str, conversation: str, **data: Any) -> dict[str, Any]:
    return invoke(world.connector.url, "answer", {**button["data"], **data}, user=user, conversation=conversation)


def card_id(world: World, call: Call) -> str:
    return world.connector.ids[world.connector.calls.index(call)]


async def test_a_clicked_answer_continues_the_same_case_to_the_fix(world: World) -> None:
    conversation, posted, buttons = await asked(world)
    assert [b["title"] for b in buttons] == ["checkout", "search"]
    assert all(b["type"] == "Action.Execute" and b["fallback"]["type"] == "Action.Submit" for b in buttons)
    assert "Which one are you seeing?" in card_text(cards(posted)[0])
    (case,) = world.desk.runtime.store.list_cases(None, 5)
    assert case.status is CaseStatus.AWAITING_REPLY

    response = await world.post(answering(world, buttons[0], "alice", conversation))

    body = response.json()
    assert (response.status_code, body["statusCode"], body["type"]) == (
        200,
        200,
        "application/vnd.microsoft.card.adaptive",
    )
    assert "Answered by alice: checkout" in card_text(body["value"])
    assert choices(body["value"]) == []
    question_id = card_id(world, posted)
    edited = await world.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "PUT" and c.path.endswith(f"/activities/{question_id}")]
    )
    assert "Answered by alice: checkout" in card_text(cards(edited[0])[0])
    approval_id, _ = await world.approval_card()
    approved = await world.post(
        execute(world.connector.url, approval_id, "approve", user="bob", conversation=conversation)
    )
    assert "Approved by bob" in card_text(approved.json()["value"])
    await world.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "POST" and "is resolved" in str((c.body or {}).get("text"))],
        timeout=60,
    )
    case = world.desk.runtime.store.get_case(case.id)
    assert case.status is CaseStatus.RESOLVED
    assert case.finding is not None
    assert case.finding.culprit is not None
    assert (case.finding.culprit.service, case.finding.culprit.commit) == ("payment-gateway", "9f3c2ab")


async def test_stale_forged_and_misplaced_clicks_get_an_error_and_an_unmapped_person_may_answer(world: World) -> None:
    conversation, _, (checkout, search) = await asked(world)

    async def refused(body: dict[str, Any]) -> str:
        answer = (await world.post(body)).json()
        assert (answer["statusCode"], answer["type"]) == (400, "application/vnd.microsoft.error")
        return answer["value"]["message"]

    assert "'orders-db' is not one of the answers offered" in await refused(
        answering(world, checkout, "alice", conversation, choice="orders-db")
    )
    assert "not one ActionDesk knows" in await refused(answering(world, checkout, "alice", conversation, question="x"))
    assert "does not belong to case" in await refused(answering(world, checkout, "alice", "19:another@thread.tacv2"))
    (case,) = world.desk.runtime.store.list_cases(None, 5)
    assert world.desk.runtime.store.get_case(case.id).status is CaseStatus.AWAITING_REPLY

    taken = answering(world, search, "mallory", conversation)  # not in the directory: may answer, never approve
    first = (await world.post(taken)).json()
    assert "Answered by teams:" in card_text(first["value"])
    again = (await world.post(taken)).json()  # the same invoke delivered again: the card as it is, no new effect
    assert again["value"] == first["value"]
    assert "not waiting for an answer any more" in await refused(answering(world, checkout, "bob", conversation))
    replies = [e.payload["text"] for e in world.desk.runtime.store.audit(case.id) if e.actor.startswith("teams:")]
    assert replies == ["search"]


async def test_the_submit_fallback_answers_and_a_reply_that_adds_nothing_is_answered(world: World) -> None:
    conversation, posted, (checkout, _) = await asked(world)
    question_id = card_id(world, posted)
    submit = mention(world.connector.url, "", conversation=conversation, user="alice")
    submit.pop("entities")
    submit.pop("text", None)
    submit.update(replyToId=question_id, value={**checkout["fallback"]["data"]})
    assert (await world.post(submit)).status_code == 201
    await world.connector.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.method == "PUT"
            and c.path.endswith(f"/activities/{question_id}")
            and "Answered by alice" in str(c.body)
        ]
    )
    await world.approval_card()

    reply = mention(world.connector.url, "any news?", conversation=conversation, user="alice")
    reply.pop("entities")
    reply["text"] = "any news?"
    assert (await world.post(reply)).status_code == 201
    answered = await world.connector.wait_for(
        lambda calls: [
            c for c in calls if c.method == "POST" and "waiting for an approval" in str((c.body or {}).get("text"))
        ]
    )
    assert answered[0].body["text"] == "Noted. The case is waiting for an approval before it acts."
