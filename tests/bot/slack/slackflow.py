"""Steps the Slack tests share: a mention that leads to an approval card, and reading what the fake saw."""

from __future__ import annotations

import asyncio

from slackfake import BOT_USER, Call, FakeSlack

from actiondesk.bot.slack import Pacing

FAST = Pacing(
    min_edit_seconds=0.3, updates_per_minute=50, post_interval_seconds=0.3
)  # spacing kept visible, tests stay quick

MENTION = {
    "type": "app_mention",
    "user": "U0ALICE",
    "text": f"<@{BOT_USER}> the payment gateway is throwing 500s",
    "ts": "1700000100.000100",
    "channel": "C0OPS",
    "event_ts": "1700000100.000100",
    "team": "T0TEAM",
}


def card(fake: FakeSlack) -> Call | None:
    """The first approval card posted (a question's buttons are not an approval)."""
    return next((call for call in fake.named("chat.postMessage") if is_card(call)), None)


async def case_with_card(desk):
    status, _, took = await desk.event(MENTION, "Ev0MENTION")
    assert status == 200
    assert took < 3
    posted = await desk.fake.wait_for(card)
    (case,) = desk.runtime.store.list_cases()
    (approval,) = desk.runtime.store.approvals(case.id)
    return case, approval, posted


def card_ts(fake: FakeSlack) -> str | None:
    found = card(fake)
    return None if found is None else found.answer.get("ts")


async def wait_runs(desk, case_id: str, want: int = 1):
    for _ in range(400):
        found = desk.runtime.store.runs(case_id)
        if len(found) >= want:
            return found
        await asyncio.sleep(0.05)  # polling the store for the worker thread's write, not waiting for time
    return desk.runtime.store.runs(case_id)


def is_card(call: Call) -> bool:
    return any(
        element.get("action_id") == "approve"
        for block in call.args.get("blocks") or []
        if block.get("type") == "actions"
        for element in block.get("elements") or []
    )
