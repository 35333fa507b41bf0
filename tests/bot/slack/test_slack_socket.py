"""Socket Mode: with SLACK_APP_TOKEN the bot opens the WebSocket itself; envelopes are acked, a mention opens a
case, and a redelivered envelope (retry_attempt 1) opens nothing twice."""

from __future__ import annotations

import copy
import json

import pytest
from fixturefiles import sources
from slackdesk import start_desk
from slackfake import BOT_USER, FakeSlack, fixture
from slackflow import card


@pytest.mark.parametrize(
    "path", sources("slack/socket_mode_envelopes.jsonl", "slack/bolt-python-tests/socket_mode_envelopes.jsonl")
)
async def test_socket_mode_acks_envelopes_and_dedupes_a_redelivery(sqlite_url: str, fake: FakeSlack, path):
    envelope = next(e for e in map(json.loads, fixture(path).splitlines()) if e.get("type") == "events_api")
    envelope["payload"]["event"].update(user="U0ALICE", text=f"<@{BOT_USER}> the payment gateway is throwing 500s")
    retry = copy.deepcopy(envelope)
    retry.update(envelope_id="redelivered-1", retry_attempt=1, retry_reason="timeout")
    fake.envelopes = [envelope, retry]
    desk, runner = await start_desk(sqlite_url, fake, app_token="xapp-test")
    try:
        acks = await fake.wait_for(lambda f: len(f.named("socket_ack")) >= 2 and f.named("socket_ack"))
        assert {a.args["envelope_id"] for a in acks} == {envelope["envelope_id"], "redelivered-1"}
        await fake.wait_for(card)
        (case,) = desk.runtime.store.list_cases()
        assert case.reporter == "alice"
        assert case.thread["slack_channel"] == envelope["payload"]["event"]["channel"]
        assert fake.named("apps.connections.open")
    finally:
        await desk.session.close()
        await runner.cleanup()
