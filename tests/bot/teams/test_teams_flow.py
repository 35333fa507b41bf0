"""A Teams conversation end to end over HTTP: real JWTs from a local token service, the bot's replies and
card updates landing on a local Bot Connector, approvals through Action.Execute and Action.Submit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fixturefiles import sources
from teams_fakes import World, activity, card_text, cards, execute, mention, replay, spoken, started_world


@pytest.fixture
async def world(tmp_path) -> AsyncIterator[World]:
    async with started_world(tmp_path) as world:
        yield world


async def open_case(world: World, user: str = "alice") -> tuple[str, str]:
    body = mention(world.connector.url, "payment gateway is throwing 500s", user=user)
    response = await world.post(body)
    assert response.status_code == 201, response.text
    return body["conversation"]["id"], body["id"]


async def test_a_mention_opens_a_case_and_its_card_is_updated_in_place(world):
    conversation, _ = await open_case(world)
    first = await world.connector.wait_for(lambda calls: [c for c in calls if c.method == "POST" and cards(c)])
    card = cards(first[0])[0]
    assert "payment gateway is throwing 500s" in card_text(card)
    assert "<at>" not in card_text(card)
    assert first[0].authorization == "Bearer bot-outbound-token-0001"
    card_id = world.connector.ids[world.connector.calls.index(first[0])]
    updated = await world.connector.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.method == "PUT"
            and c.path.endswith(f"/activities/{card_id}")
            and "awaiting_approval" in card_text(cards(c)[0])
        ]
    )
    assert updated[0].path == f"/v3/conversations/{conversation}/activities/{card_id}"
    case = world.desk.runtime.store.list_cases(None, 5)[0]
    assert case.surface == "teams"
    assert case.reporter == "alice"
    assert case.text == "payment gateway is throwing 500s"


def approval_entries(world: World, approval_id: str) -> list[dict]:
    return [
        e.payload
        for e in world.desk.runtime.store.audit()
        if e.kind.value == "approval" and e.payload.get("approval_id") == approval_id
    ]


async def test_an_approvers_action_execute_runs_the_action_once_and_replaces_the_card(world):
    conversation, _ = await open_case(world)
    approval_id, _ = await world.approval_card()
    response = await world.post(
        execute(world.connector.url, approval_id, "approve", user="bob", conversation=conversation)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Approved by bob" in card_text(body["value"])
    assert "Action.Execute" not in card_text(body["value"])
    resolved = await world.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "POST" and "is resolved" in str((c.body or {}).get("text"))]
    )
    assert "Verification: payment-gateway's 5xx rate is back to" in resolved[0].body["text"]
    case_id = world.desk.runtime.store.approvals()[0].case_id
    runs = [r for r in world.desk.runtime.store.runs(case_id) if r.action == "rollback_deployment"]
    assert len(runs) == 1


@pytest.mark.parametrize(
    ("reporter", "clicker", "why"),
    [
        ("alice", "dave", "not in the approver group sre"),
        ("bob", "bob", "requested this production change"),
        ("alice", "mallory", "not in the directory"),
    ],
    ids=["non-approver", "requester", "unmapped"],
)
async def test_a_refused_click_gets_an_error_invoke_response_and_nothing_runs(world, reporter, clicker, why):
    conversation, _ = await open_case(world, user=reporter)
    approval_id, _ = await world.approval_card()
    response = await world.post(
        execute(world.connector.url, approval_id, "approve", user=clicker, conversation=conversation)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["statusCode"] == 403
    assert body["type"] == "application/vnd.microsoft.error"
    assert why in body["value"]["message"]
    approval = world.desk.runtime.store.approvals()[0]
    assert approval.status.value == "pending"
    assert [e["status"] for e in approval_entries(world, approval_id)] == ["refused"]


async def test_the_same_invoke_delivered_three_times_has_one_effect(world):
    conversation, _ = await open_case(world)
    approval_id, _ = await world.approval_card()
    invoke = execute(world.connector.url, approval_id, "approve", user="bob", conversation=conversation)
    bodies = [(await world.post(invoke)).json() for _ in range(3)]
    assert all(b["statusCode"] == 200 and "Approved by bob" in card_text(b["value"]) for b in bodies)
    assert [e["status"] for e in approval_entries(world, approval_id)] == ["approved"]
    await world.connector.wait_for(
        lambda calls: [c for c in calls if c.method == "POST" and "is resolved" in str((c.body or {}).get("text"))]
    )
    case_id = world.desk.runtime.store.approvals()[0].case_id
    assert len([r for r in world.desk.runtime.store.runs(case_id) if r.action == "rollback_deployment"]) == 1


async def test_the_same_invoke_delivered_three_times_at_once_decides_once(world):
    conversation, _ = await open_case(world)
    approval_id, _ = await world.approval_card()
    invoke = execute(world.connector.url, approval_id, "approve", user="bob", conversation=conversation)
    responses = await asyncio.gather(*(world.post(invoke) for _ in range(3)))
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [e["status"] for e in approval_entries(world, approval_id)] == ["approved"]
    assert world.desk.runtime.store.approvals()[0].decided_by == "bob"


async def test_a_throttled_send_is_retried_after_retry_after(world):
    world.connector.throttle = [429, 503]
    await open_case(world)
    sent = await world.connector.wait_for(lambda calls: [c for c in calls if c.method == "POST"][2:])
    assert sent[0].body == world.connector.calls[0].body
    card_id = world.connector.ids[2]
    await world.connector.wait_for(lambda calls: [c for c in calls if c.method == "PUT" and c.path.endswith(card_id)])


async def test_a_repeated_mention_opens_one_case(world):
    body = mention(world.connector.url, "payment gateway is throwing 500s")
    for _ in range(3):
        assert (await world.post(body)).status_code == 201
    assert len(world.desk.runtime.store.list_cases(None, 10)) == 1


async def test_action_submit_from_an_older_client_decides_and_edits_the_card(world):
    conversation, _ = await open_case(world)
    approval_id, card_id = await world.approval_card()
    submit = execute(world.connector.url, approval_id, "reject", user="erin", conversation=conversation)
    value = {"approval_id": approval_id, "verb": "reject", "reason": "not during the sale"}
    submit.update(type="message", replyToId=card_id, value=value)
    del submit["name"]
    world.connector.members["29:erin-teams-id"] = {
        "id": "29:erin-teams-id",
        "name": "Erin",
        "email": "erin@example.com",
    }
    assert (await world.post(submit)).status_code == 201
    edited = await world.connector.wait_for(
        lambda calls: [
            c
            for c in calls
            if c.method == "PUT"
            and c.path.endswith(f"/activities/{card_id}")
            and "Rejected by erin" in card_text(cards(c)[0])
        ]
    )
    assert edited
    approval = world.desk.runtime.store.approvals()[0]
    assert approval.status.value == "rejected"
    assert approval.reason == "not during the sale"


async def test_a_reply_in_the_thread_reaches_the_case(world):
    conversation, _ = await open_case(world)
    await world.approval_card()
    reply = mention(world.connector.url, "it started right after the deploy", conversation=conversation)
    del reply["entities"]
    reply["text"] = "it started right after the deploy"
    assert (await world.post(reply)).status_code == 201
    case = world.desk.runtime.store.list_cases(None, 5)[0]
    texts = [e.payload.get("text") for e in world.desk.runtime.store.audit(case.id) if e.kind.value == "message"]
    assert "it started right after the deploy" in texts
    assert len(world.desk.runtime.store.list_cases(None, 5)) == 1


def personal(world: World, text: str, conversation: str, user: str = "alice") -> dict[str, Any]:
    body = activity("message", world.connector.url, user=user, text=text, conversation=conversation)
    body["conversation"] = {"conversationType": "personal", "tenantId": "tenant-1", "id": conversation}
    return body


async def test_in_a_personal_chat_a_message_opens_a_case_and_the_next_one_reaches_it(world):
    chat = "a:1-personal-chat-with-alice"
    assert (await world.post(personal(world, "payment gateway is throwing 500s", chat))).status_code == 201
    await world.approval_card()
    assert (await world.post(personal(world, "customers are complaining too", chat))).status_code == 201
    (case,) = world.desk.runtime.store.list_cases(None, 5)
    texts = [e.payload.get("text") for e in world.desk.runtime.store.audit(case.id) if e.kind.value == "message"]
    assert "customers are complaining too" in texts
    sent = [c for c in world.connector.calls if c.method == "POST"]
    assert all(c.path.startswith(f"/v3/conversations/{chat}/activities") for c in sent)


@pytest.mark.parametrize("path", sources("teams/personal_message.json", "teams/vercel-chat-replay/dm__teams.json"))
async def test_a_recorded_personal_chat_message_opens_a_case(world, path):
    recorded = replay(path, "dmMessage")
    body = {**recorded, "serviceUrl": world.connector.url + "/", "channelId": "msteams"}
    body["recipient"] = {"id": "28:11111111-2222-3333-4444-555555555555", "name": "ActionDesk"}
    assert (await world.post(body)).status_code == 201
    (case,) = world.desk.runtime.store.list_cases(None, 5)
    assert case.text == spoken(recorded)
    assert case.surface == "teams"
