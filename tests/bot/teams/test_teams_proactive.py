"""Proactive messages from stored conversation references: an approval that expires is announced and its
card edited; a late click runs nothing; a case opened by an alert starts its own thread in the channel the
bot was last addressed in."""

from __future__ import annotations

import asyncio

import pytest
from teams_fakes import (
    activity,
    card_text,
    cards,
    execute,
    mention,
    post_signed,
    settings_for,
    start_desk,
)

_post = post_signed


def _approval_card(calls: list) -> tuple[str, int] | None:
    for index, call in enumerate(calls):
        for card in cards(call):
            for action in card.get("actions", []):
                if action.get("verb") == "approve":
                    return action["data"]["approval_id"], index
    return None


async def test_an_expired_approval_is_announced_its_card_edited_and_a_late_click_runs_nothing(tmp_path, parts):
    tokens, connector, http = parts
    desk = await start_desk(settings_for(tmp_path, tokens, approval_ttl_seconds=1, lease_seconds=1.0))
    try:
        body = mention(connector.url, "payment gateway is throwing 500s")
        assert (await _post(http, desk.url, tokens, body)).status_code == 201
        approval_id, index = await connector.wait_for(_approval_card)
        card_id = connector.ids[index]
        await connector.wait_for(
            lambda calls: [
                c
                for c in calls
                if c.method == "PUT" and c.path.endswith(card_id) and "Expired" in card_text(cards(c)[0])
            ]
        )
        await connector.wait_for(
            lambda calls: [c for c in calls if "expired: nobody decided" in str((c.body or {}).get("text"))]
        )
        late = execute(connector.url, approval_id, "approve", user="bob", conversation=body["conversation"]["id"])
        response = (await _post(http, desk.url, tokens, late)).json()
        assert response["statusCode"] == 200
        assert "Expired" in card_text(response["value"])
        case_id = desk.runtime.store.approvals()[0].case_id
        assert [r for r in desk.runtime.store.runs(case_id) if r.action == "rollback_deployment"] == []
    finally:
        await desk.runner.cleanup()


@pytest.mark.parametrize("how", ["mentioned", "installed"])
async def test_a_case_opened_by_an_alert_starts_a_thread_in_the_home_channel(tmp_path, parts, how):
    tokens, connector, http = parts
    desk = await start_desk(settings_for(tmp_path, tokens))
    try:
        if how == "mentioned":
            body = mention(connector.url, "hello, is anything broken?")
            assert (await _post(http, desk.url, tokens, body)).status_code == 201
            await connector.wait_for(lambda calls: [c for c in calls if c.method == "POST"])
        else:
            body = activity("conversationUpdate", connector.url, conversation="19:general@thread.tacv2")
            body["membersAdded"] = [{"id": body["recipient"]["id"]}]
            assert (await _post(http, desk.url, tokens, body)).status_code == 201
        channel = body["conversation"]["id"].split(";")[0]
        case = await asyncio.to_thread(
            desk.runtime.loop.open_case, "payment-gateway 5xx above 20%", "alertmanager", surface="alert"
        )
        posted = await connector.wait_for(
            lambda calls: [
                c for c in calls if c.method == "POST" and c.path == f"/v3/conversations/{channel}/activities"
            ]
        )
        assert case.id in card_text(cards(posted[0])[0])
    finally:
        await desk.runner.cleanup()
