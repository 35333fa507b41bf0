"""A mention opens a case and the bot answers in its thread; approvers' clicks run the action once; others are
refused; retries, replays and double clicks do nothing twice; the bot's own messages are ignored."""

from __future__ import annotations

import asyncio
import time

from slackfake import BOT_ID, BOT_USER
from slackflow import MENTION, card, card_ts, case_with_card, is_card, wait_runs

from actiondesk.core.approval import ApprovalStatus


async def test_a_mention_opens_a_case_answered_in_its_thread_with_a_card_from_the_stored_approval(desk):
    case, approval, card = await case_with_card(desk)
    assert case.surface == "slack"
    assert case.reporter == "alice"
    assert case.text == "the payment gateway is throwing 500s"
    first = desk.fake.named("chat.postMessage")[0]
    assert first.args["channel"] == "C0OPS"
    assert first.args["thread_ts"] == MENTION["ts"]
    assert card.args["thread_ts"] == MENTION["ts"]
    shown = str(card.args["blocks"])
    for fact in (approval.call.action, approval.target, approval.group, *approval.reasons, *approval.policy_ids):
        assert str(fact).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in shown
    for key, value in approval.call.params.items():
        assert f"{key} = {value}" in shown
    assert approval.expires_at.strftime("%Y-%m-%d %H:%M UTC") in shown
    buttons = next(b for b in card.args["blocks"] if b["type"] == "actions")["elements"]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("approve", approval.id), ("reject", approval.id)]


async def test_an_approvers_click_runs_the_action_once_and_the_card_says_who(desk):
    case, approval, _ = await case_with_card(desk)
    status, _, took = await desk.click("approve", approval.id, "U0BOB", "T-approve-1")
    assert status == 200
    assert took < 3
    await desk.fake.wait_for(
        lambda f: any(c.args.get("ts") == card_ts(f) and "Approved by" in str(c.args) for c in f.named("chat.update"))
    )
    runs = await wait_runs(desk, case.id)
    assert [r.action for r in runs] == ["rollback_deployment"]
    # the same click delivered again, and a second click, run nothing twice
    await desk.click("approve", approval.id, "U0BOB", "T-approve-1")
    await desk.click("approve", approval.id, "U0BOB", "T-approve-2")
    refusal = await desk.fake.wait_for(lambda f: f.named("chat.postEphemeral"))
    assert "Already handled" in refusal[0].args["text"]
    assert refusal[0].args["user"] == "U0BOB"
    assert len(await wait_runs(desk, case.id)) == 1
    assert len(desk.fake.named("chat.postEphemeral")) == 1  # the replayed delivery was dropped before any effect


async def test_a_non_approver_and_the_requester_are_refused_and_nothing_runs(desk):
    case, approval, _ = await case_with_card(desk)
    await desk.click("approve", approval.id, "U0FRANK", "T-frank")  # sales: not in sre
    await desk.click("approve", approval.id, "U0ALICE", "T-alice")  # the requester, not in sre either
    await desk.click("approve", approval.id, "U0NOBODY", "T-nobody")  # unmapped: can report, never approve
    refusals = await desk.fake.wait_for(
        lambda f: len(f.named("chat.postEphemeral")) >= 3 and f.named("chat.postEphemeral")
    )
    assert {c.args["user"] for c in refusals} == {"U0FRANK", "U0ALICE", "U0NOBODY"}
    assert all("cannot decide" in c.args["text"] for c in refusals)
    assert desk.runtime.store.approvals(case.id)[0].status is ApprovalStatus.PENDING
    assert desk.runtime.store.runs(case.id) == []


async def test_a_retried_event_opens_one_case(desk):
    for attempt in range(4):
        headers = {"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": "http_timeout"} if attempt else {}
        status, _, _ = await desk.event(MENTION, "Ev0RETRIED", **headers)
        assert status == 200
    await desk.fake.wait_for(card)
    assert len(desk.runtime.store.list_cases()) == 1
    assert len([c for c in desk.fake.named("chat.postMessage") if not is_card(c)]) == 1


async def test_thread_replies_reach_the_case_and_the_bots_own_messages_do_not(desk):
    case, _, _ = await case_with_card(desk)
    reply = {
        "type": "message",
        "channel_type": "channel",
        "user": "U0ALICE",
        "text": "it started right after the deploy",
        "ts": "1700000200.000100",
        "thread_ts": MENTION["ts"],
        "channel": "C0OPS",
    }
    own = {**reply, "user": BOT_USER, "bot_id": BOT_ID, "text": "I am the bot", "ts": "1700000201.000100"}
    assert (await desk.event(own, "Ev0OWN"))[0] == 200
    assert (await desk.event(reply, "Ev0REPLY"))[0] == 200
    for _ in range(400):
        texts = [e.payload.get("text") for e in desk.runtime.store.audit(case.id) if e.actor == "alice"]
        if "it started right after the deploy" in texts:
            break
        await asyncio.sleep(0.05)  # polling the store for the handler's write
    assert "it started right after the deploy" in texts
    assert "I am the bot" not in str([e.payload for e in desk.runtime.store.audit(case.id)])
    assert len(desk.runtime.store.list_cases()) == 1


async def test_rollback_of_a_finished_run_opens_a_case_that_goes_through_policy(desk):
    case, approval, _ = await case_with_card(desk)
    await desk.click("approve", approval.id, "U0BOB", "T-approve-rb")
    (run,) = await wait_runs(desk, case.id)
    for _ in range(400):
        if desk.runtime.store.runs(case.id)[0].status.value == "succeeded":
            break
        await asyncio.sleep(0.05)  # polling the store for the worker thread's write
    await desk.command(f"rollback {run.key}", "U0DAVE", "T-rollback", hook="rb")
    answer = await desk.fake.wait_for(lambda f: [c for c in f.named("response_url") if c.args["hook"] == "rb"])
    assert f"asked to roll back `{run.key}`" in answer[0].args["text"]
    assert answer[0].args["response_type"] == "in_channel"
    rollback = next(c for c in desk.runtime.store.list_cases() if c.id != case.id)
    assert rollback.reporter == "dave"
    assert rollback.plan is not None


async def test_a_direct_message_opens_a_case_and_edits_or_channel_chatter_do_not(desk):
    chatter = {"type": "message", "channel_type": "channel", "user": "U0ALICE", "text": "lunch?", "channel": "C0OPS"}
    edited = {**chatter, "channel_type": "im", "channel": "D0ALICE", "subtype": "message_changed", "ts": "1.1"}
    direct = {
        "type": "message",
        "channel_type": "im",
        "user": "U0ERIN",
        "text": "payment gateway is throwing 500s",
        "ts": "1700000400.000100",
        "channel": "D0ERIN",
    }
    for n, event in enumerate((chatter | {"ts": "1.2"}, edited, direct)):
        assert (await desk.event(event, f"Ev0DM{n}"))[0] == 200
    posted = await desk.fake.wait_for(lambda f: f.named("chat.postMessage"))
    assert (posted[0].args["channel"], posted[0].args["thread_ts"]) == ("D0ERIN", direct["ts"])
    (case,) = desk.runtime.store.list_cases()
    assert case.reporter == "erin"


async def test_a_click_whose_handling_outlives_3_seconds_is_still_acked_at_once(desk):
    case, approval, _ = await case_with_card(desk)
    desk.fake.slow["users.info"] = 3.5  # mapping an unknown clicker by email takes longer than Slack waits
    clicked = time.monotonic()
    status, _, took = await desk.click("approve", approval.id, "U0STRANGER", "T-slow")
    assert status == 200
    assert took < 3  # Slack's deadline, before the 3.5 s the handling takes (on a loaded machine an ack may take 1 s)
    (refusal,) = await desk.fake.wait_for(lambda f: f.named("chat.postEphemeral"), timeout=10)
    assert refusal.at - clicked >= 3.5  # the work really outlived the ack
    assert desk.runtime.store.runs(case.id) == []
