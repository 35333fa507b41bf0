"""Reject asks for a reason in a modal, or in an ephemeral prompt when the trigger_id has expired; the card then
says who rejected and why. An expired approval's card says so, and a late click is refused."""

from __future__ import annotations

import asyncio
import json
import urllib.parse

from slackfake import TEAM, post, signed
from slackflow import card_ts, case_with_card

from actiondesk.core.approval import ApprovalStatus


def _view_submission(approval_id: str, user: str, reason: str, view_id: str = "V1") -> str:
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "acme"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A0ACTIONDESK",
        "token": "verification_token",
        "trigger_id": "T-view",
        "view": {
            "id": view_id,
            "team_id": TEAM,
            "type": "modal",
            "callback_id": "reject_reason",
            "private_metadata": json.dumps({"approval": approval_id, "channel": "C0OPS", "thread_ts": None}),
            "state": {"values": {"reason": {"reason_input": {"type": "plain_text_input", "value": reason}}}},
            "hash": "h1",
        },
        "response_urls": [],
    }
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


async def test_reject_opens_a_modal_and_its_reason_lands_on_the_card(desk):
    case, approval, _ = await case_with_card(desk)
    status, _, took = await desk.click("reject", approval.id, "U0BOB", "T-reject")
    assert status == 200
    assert took < 3
    (opened,) = await desk.fake.wait_for(lambda f: f.named("views.open"))
    assert opened.args["trigger_id"] == "T-reject"
    assert json.loads(opened.args["view"]["private_metadata"])["approval"] == approval.id
    assert desk.runtime.store.approvals(case.id)[0].status is ApprovalStatus.PENDING  # nothing decided yet
    body = _view_submission(approval.id, "U0BOB", "not during the sale")
    headers = signed(body, content_type="application/x-www-form-urlencoded")
    status, text, _ = await post(desk.session, desk.events_url, body, headers)
    assert status == 200
    assert text == ""  # the modal closes
    update = await desk.fake.wait_for(
        lambda f: [c for c in f.named("chat.update") if c.args.get("ts") == card_ts(f) and "Rejected by" in str(c.args)]
    )
    assert "not during the sale" in str(update[0].args["blocks"])
    (stored,) = desk.runtime.store.approvals(case.id)
    assert (stored.status, stored.decided_by, stored.reason) == (ApprovalStatus.REJECTED, "bob", "not during the sale")
    assert desk.runtime.store.runs(case.id) == []


async def test_an_expired_trigger_falls_back_to_an_ephemeral_prompt(desk):
    case, approval, _ = await case_with_card(desk)
    await desk.click("reject", approval.id, "U0BOB", "expired-trigger")
    (prompt,) = await desk.fake.wait_for(lambda f: f.named("chat.postEphemeral"))
    assert prompt.args["user"] == "U0BOB"
    buttons = [e for b in prompt.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [("reject_confirm", approval.id)]
    assert desk.runtime.store.approvals(case.id)[0].status is ApprovalStatus.PENDING


async def test_a_non_approvers_reject_gets_no_modal(desk):
    case, approval, _ = await case_with_card(desk)
    await desk.click("reject", approval.id, "U0FRANK", "T-frank-reject")
    (refusal,) = await desk.fake.wait_for(lambda f: f.named("chat.postEphemeral"))
    assert "cannot decide" in refusal.args["text"]
    assert desk.fake.named("views.open") == []
    assert desk.runtime.store.approvals(case.id)[0].status is ApprovalStatus.PENDING


async def test_an_expired_approval_shows_as_expired_and_a_late_click_runs_nothing(desk):
    case, approval, _ = await case_with_card(desk)
    assert await asyncio.to_thread(desk.runtime.approvals.expire, approval)  # what the sweeper does when it is due
    await desk.fake.wait_for(
        lambda f: [c for c in f.named("chat.update") if c.args.get("ts") == card_ts(f) and "Expired" in str(c.args)]
    )
    await desk.click("approve", approval.id, "U0BOB", "T-late")
    (refusal,) = await desk.fake.wait_for(lambda f: f.named("chat.postEphemeral"))
    assert "Too late" in refusal.args["text"]
    assert desk.runtime.store.approvals(case.id)[0].status is ApprovalStatus.EXPIRED
    assert desk.runtime.store.runs(case.id) == []
