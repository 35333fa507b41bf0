"""When a person takes over, in Teams: an action that ran alone at level 3 is announced as a card in the notify
channel, and its Roll back (Action.Execute) opens a rollback case that governance decides; a hand-off mentions
the on-call people when nothing paged them; the post-mortem is posted to the case's thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from teams_fakes import (
    AAD,
    DIRECTORY,
    activity,
    card_text,
    cards,
    mention,
    post_signed,
    settings_for,
    start_desk,
)

NOTIFY = "19:notify0000@thread.tacv2"
GRACE = "00000000-0000-0000-0000-0000006ace00"


def roll_back(service_url: str, run_key: str, *, user: str, conversation: str) -> dict[str, Any]:
    value = {"action": {"type": "Action.Execute", "id": "rollback", "verb": "rollback", "data": {"run_key": run_key}}}
    return activity(
        "invoke", service_url, user=user, conversation=conversation, name="adaptiveCard/action", value=value
    )


def notice(calls: list) -> Any:
    for call in calls:
        if call.method == "POST" and call.path == f"/v3/conversations/{NOTIFY}/activities":
            for card in cards(call):
                if any(a.get("verb") == "rollback" for a in card.get("actions", [])):
                    return call, card
    return None


async def test_a_lone_action_is_announced_in_the_notify_channel_and_rolled_back_through_governance(
    tmp_path: Path, parts
):
    tokens, connector, http = parts
    settings = settings_for(tmp_path, tokens, autonomy={"payment-gateway": 3}, teams_notify_channel=NOTIFY)
    desk = await start_desk(settings)
    try:
        body = mention(connector.url, "payment gateway is throwing 500s")
        assert (await post_signed(http, desk.url, tokens, body)).status_code == 201
        _call, card = await connector.wait_for(notice)
        (case,) = desk.runtime.store.list_cases()
        (step,) = case.plan.steps  # type: ignore[union-attr]
        text = card_text(card)
        assert "ActionDesk ran rollback_deployment on its own" in text
        assert f"level 3, diagnosis {case.finding.confidence:.0%} sure (threshold 90%)" in text  # type: ignore[union-attr]
        (action,) = card["actions"]
        assert (action["verb"], action["data"]) == ("rollback", {"run_key": step.run_key})
        await connector.wait_for(lambda calls: desk.runtime.store.get_case(case.id).status.terminal)

        thread = f"{NOTIFY};messageid=1700000000000"
        stranger = roll_back(connector.url, str(step.run_key), user="mallory", conversation=thread)
        refused = (await post_signed(http, desk.url, tokens, stranger)).json()
        assert refused["statusCode"] == 403
        assert "only people in ActionDesk's directory" in refused["value"]["message"]

        click = roll_back(connector.url, str(step.run_key), user="bob", conversation=thread)
        answer = (await post_signed(http, desk.url, tokens, click)).json()
        assert answer["statusCode"] == 200
        assert "Roll back asked for by bob" in card_text(answer["value"])
        assert "Action.Execute" not in card_text(answer["value"])
        undo = next(c for c in desk.runtime.store.list_cases() if c.id != case.id)
        assert (undo.reporter, undo.surface, undo.plan.runbook) == ("bob", "teams", "rollback")  # type: ignore[union-attr]
        await connector.wait_for(lambda calls: desk.runtime.store.get_case(undo.id).status.terminal)
        decided = next(e for e in desk.runtime.store.audit(undo.id) if e.kind.value == "decision")
        assert (decided.payload["outcome"], decided.payload["confidence"]) == ("allow", 1.0)

        again = roll_back(connector.url, str(step.run_key), user="dave", conversation=thread)
        twice = (await post_signed(http, desk.url, tokens, again)).json()
        assert "already being rolled back" in card_text(twice["value"])
        assert len(desk.runtime.store.list_cases()) == 2
    finally:
        await desk.runner.cleanup()


async def test_a_hand_off_mentions_the_on_call_and_the_post_mortem_reaches_the_thread(tmp_path: Path, parts):
    tokens, connector, http = parts
    directory = tmp_path / "people.yaml"
    directory.write_text(
        DIRECTORY
        + f'  grace: {{email: grace@example.com, groups: [payments-oncall], teams_aad_object_id: "{GRACE}"}}\n'
    )
    desk = await start_desk(settings_for(tmp_path, tokens, directory_file=directory))
    try:
        body = mention(connector.url, "payment gateway is throwing 500s")
        conversation = body["conversation"]["id"]
        assert (await post_signed(http, desk.url, tokens, body)).status_code == 201
        await connector.wait_for(lambda calls: desk.runtime.store.approvals())
        (approval,) = desk.runtime.store.approvals()
        desk.runtime.approvals.decide(approval.id, "bob", False, "not during the sale")
        desk.runtime.loop.recorder.changed(approval.case_id)

        def handed(calls: list) -> Any:
            return next((c for c in calls if "Handed to payments on-call" in str((c.body or {}).get("text"))), None)

        posted = await connector.wait_for(handed)
        assert posted.path == f"/v3/conversations/{conversation}/activities"
        assert "<at>grace</at>" in posted.body["text"]
        (entity,) = posted.body["entities"]
        assert (entity["type"], entity["mentioned"]["id"], entity["text"]) == ("mention", GRACE, "<at>grace</at>")

        desk.runtime.loop.add_message(approval.case_id, "bob", "payment gateway is still throwing 500s, roll it back")
        desk.runtime.loop.run(approval.case_id)
        (again,) = desk.runtime.store.approvals(approval.case_id, status=None)[1:]
        desk.runtime.approvals.decide(again.id, "erin", True)
        desk.runtime.loop.run(approval.case_id)
        desk.runtime.loop.recorder.changed(approval.case_id)

        def postmortem(calls: list) -> Any:
            return next((c for c in calls if str((c.body or {}).get("text")).startswith("# Post-mortem")), None)

        posted = await connector.wait_for(postmortem)
        assert posted.path == f"/v3/conversations/{conversation}/activities"
        assert posted.body["textFormat"] == "markdown"
        for section in ("## Summary", "## Root cause", "## Approvals", "## Follow-ups"):
            assert section in posted.body["text"]
        assert AAD["bob"] not in posted.body["text"]
    finally:
        await desk.runner.cleanup()
