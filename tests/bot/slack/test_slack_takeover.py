"""When a person takes over, in Slack: an action that ran alone at level 3 is announced in the notify channel
with a Roll back button that opens a rollback case through governance; an unsure diagnosis waits for approval
instead; a hand-off mentions the owner's on-call with a Take it button; a post-mortem reaches the thread."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from slackdesk import Desk, start_desk
from slackfake import FakeSlack
from slackflow import MENTION, card

from actiondesk.bot.slack.notices import ROLLBACK, TAKE
from actiondesk.core.audit import AuditKind
from actiondesk.core.case import CaseStatus

NOTIFY = "C0NOTIFY"


@pytest.fixture
async def level3(tmp_path: Path, fake: FakeSlack) -> AsyncIterator[Desk]:
    settings = {"autonomy": {"payment-gateway": 3}, "slack_notify_channel": NOTIFY}
    running, runner = await start_desk(f"sqlite:///{tmp_path / 'l3.db'}", fake, settings=settings)
    yield running
    await running.session.close()
    await runner.cleanup()


def buttons(call: Any, action_id: str) -> list[dict]:
    return [
        e
        for block in call.args.get("blocks") or []
        if block.get("type") == "actions"
        for e in block["elements"]
        if e["action_id"] == action_id
    ]


def notice(fake: FakeSlack) -> Any:
    found = [c for c in fake.named("chat.postMessage") if c.args.get("channel") == NOTIFY and buttons(c, ROLLBACK)]
    return found[0] if found else None


async def test_a_sure_level_3_rollback_runs_alone_is_announced_and_rolled_back_through_governance(level3: Desk):
    desk = level3
    await desk.event(MENTION, "Ev0L3")
    posted = await desk.fake.wait_for(notice)
    (case,) = desk.runtime.store.list_cases()
    assert desk.runtime.store.approvals(case.id) == [], "nobody was asked"
    (step,) = case.plan.steps  # type: ignore[union-attr]
    assert (step.decision.outcome.value, step.decision.autonomy_level) == ("allow", 3)  # type: ignore[union-attr]
    assert step.decision.confidence == case.finding.confidence >= 0.9  # type: ignore[union-attr]
    text = posted.args["text"]
    assert text.startswith("ActionDesk ran `rollback_deployment ")
    assert f"service=payment-gateway, to_version={step.call.params['to_version']}`" in text
    assert f"level 3, diagnosis {case.finding.confidence:.0%} sure (threshold 90%)" in text  # type: ignore[union-attr]
    assert "owned by payments" in text
    (button,) = buttons(posted, ROLLBACK)
    assert button["value"] == step.run_key
    assert f"/actiondesk rollback {step.run_key}" in str(posted.args["blocks"])

    resolved = await desk.fake.wait_for(lambda f: desk.runtime.store.get_case(case.id).status.terminal)
    assert resolved
    assert desk.runtime.store.get_case(case.id).status is CaseStatus.RESOLVED

    await desk.click(ROLLBACK, step.run_key, "U0NOBODY", "T-rb-0", channel=NOTIFY)
    refused = await desk.fake.wait_for(lambda f: f.named("chat.postEphemeral"))
    assert "Only people in ActionDesk's directory" in refused[0].args["text"]
    assert len(desk.runtime.store.list_cases()) == 1

    await desk.click(ROLLBACK, step.run_key, "U0BOB", "T-rb-1", channel=NOTIFY)
    updated = await desk.fake.wait_for(
        lambda f: [c for c in f.named("chat.update") if "Roll back asked for by bob" in str(c.args.get("text"))]
    )
    assert updated[0].args["channel"] == NOTIFY
    assert buttons(updated[0], ROLLBACK) == []
    undo = next(c for c in desk.runtime.store.list_cases() if c.id != case.id)
    assert (undo.reporter, undo.plan.runbook) == ("bob", "rollback")  # type: ignore[union-attr]
    assert undo.thread == {"slack_channel": NOTIFY, "slack_thread_ts": "1700000000.000002", "slack_team": "T0TEAM"}
    (inverse,) = undo.plan.steps  # type: ignore[union-attr]
    assert inverse.call.params["to_version"] == step.call.params["from_version"]
    done = await desk.fake.wait_for(
        lambda f: desk.runtime.store.get_case(undo.id).status.terminal and desk.runtime.store.get_case(undo.id)
    )
    assert done.status is CaseStatus.RESOLVED
    decided = next(e for e in desk.runtime.store.audit(undo.id) if e.kind is AuditKind.DECISION)
    assert decided.payload["outcome"] == "allow"  # governance decided it, as a call a person asked for
    assert decided.payload["confidence"] == 1.0

    await desk.click(ROLLBACK, step.run_key, "U0ERIN", "T-rb-2", channel=NOTIFY)
    again = await desk.fake.wait_for(
        lambda f: len(f.named("chat.postEphemeral")) >= 2 and f.named("chat.postEphemeral")
    )
    assert "already being rolled back" in again[1].args["text"]
    assert len(desk.runtime.store.list_cases()) == 2


async def test_an_unsure_diagnosis_at_level_3_waits_for_approval(tmp_path: Path, fake: FakeSlack):
    settings = {
        "autonomy": {"payment-gateway": 3},
        "confidence_thresholds": {"payment-gateway": 0.99},
        "slack_notify_channel": NOTIFY,
    }
    desk, runner = await start_desk(f"sqlite:///{tmp_path / 'unsure.db'}", fake, settings=settings)
    try:
        await desk.event(MENTION, "Ev0UNSURE")
        posted = await fake.wait_for(card)
        (case,) = desk.runtime.store.list_cases()
        assert case.status is CaseStatus.AWAITING_APPROVAL
        assert "ladder.autonomous.unsure" in str(posted.args["blocks"])
        assert f"{case.finding.confidence:.0%} sure, below the threshold of 99%" in str(posted.args["blocks"])  # type: ignore[union-attr]
        assert notice(fake) is None
    finally:
        await desk.session.close()
        await runner.cleanup()


async def test_a_hand_off_mentions_the_on_call_and_take_it_picks_it_up(desk: Desk):
    await desk.event(MENTION, "Ev0HAND")
    approval_card = await desk.fake.wait_for(card)
    (case,) = desk.runtime.store.list_cases()
    (approval,) = desk.runtime.store.approvals(case.id)
    assert approval_card.args["thread_ts"] == MENTION["ts"]
    desk.runtime.approvals.decide(approval.id, "bob", False, "not during the sale")
    desk.runtime.loop.recorder.changed(case.id)

    def hand_off(f: FakeSlack) -> Any:
        return next((c for c in f.named("chat.postMessage") if buttons(c, TAKE)), None)

    posted = await desk.fake.wait_for(hand_off)
    assert posted.args["thread_ts"] == MENTION["ts"]
    assert "<@U0GRACE>" in str(posted.args["blocks"]), "no pager: the on-call person is mentioned"
    assert "Handed to payments on-call" in posted.args["text"]
    assert buttons(posted, TAKE)[0]["value"] == case.id

    await desk.click(TAKE, case.id, "U0GRACE", "T-take")
    await desk.fake.wait_for(
        lambda f: [c for c in f.named("chat.update") if "grace has case" in str(c.args.get("text"))]
    )
    (picked,) = [e.payload for e in desk.runtime.store.audit(case.id) if e.kind is AuditKind.PICKED_UP]
    assert (picked["by"], picked["how"], picked["team"]) == ("grace", "take", "payments")


async def test_the_post_mortem_reaches_the_thread(desk: Desk):
    await desk.event(MENTION, "Ev0PM")
    await desk.fake.wait_for(card)
    (case,) = desk.runtime.store.list_cases()
    (approval,) = desk.runtime.store.approvals(case.id)
    await desk.click("approve", approval.id, "U0BOB", "T-pm")

    def postmortem(f: FakeSlack) -> Any:
        return next((c for c in f.named("chat.postMessage") if str(c.args.get("text")).startswith("Post-mortem")), None)

    posted = await desk.fake.wait_for(postmortem)
    assert posted.args["thread_ts"] == MENTION["ts"]
    shown = "\n".join(b["text"]["text"] for b in posted.args["blocks"])
    for heading in ("*Summary*", "*Impact*", "*Root cause*", "*Approvals*", "*MTTR*", "*Follow-ups*"):
        assert heading in shown
    assert "approved by bob" in shown


def test_without_a_pager_the_hand_off_mentions_the_team_user_group_and_the_people(tmp_path: Path) -> None:
    from actiondesk.adapters.sandbox import SandboxEstate, default_estate
    from actiondesk.bot.slack.notices import hand_off_blocks, hand_off_text
    from actiondesk.core.audit_payloads import HandedOff
    from actiondesk.core.clock import SystemClock

    clock = SystemClock()
    directory = SandboxEstate(default_estate(clock.now()), clock)
    handed = HandedOff(team="payments", group="payments-oncall", people=["grace"], paged=[], mention=True,
                       reason="a <b> & c")  # fmt: skip
    text = hand_off_text(handed, directory, mrkdwn=True, usergroup="S0PAY")
    assert text.startswith(":sos: Handed to payments on-call: <!subteam^S0PAY>, <@U0GRACE> (payments-oncall).")
    assert text.endswith("Why: a &lt;b&gt; &amp; c")
    paged = handed.model_copy(update={"paged": ["pagerduty"], "mention": False})
    assert "<@" not in hand_off_text(paged, directory, mrkdwn=True, usergroup="S0PAY")
    assert "paged through pagerduty" in hand_off_text(paged, directory)
    (section, actions) = hand_off_blocks(handed, "C-1", directory, usergroup="S0PAY")
    assert "<!subteam^S0PAY>" in section["text"]["text"]
    assert actions["elements"][0]["value"] == "C-1"
