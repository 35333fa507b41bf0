"""Slack's Web API unreachable or hanging: events are acked at once and their cases open, and the bot learns its own
account (auth.test) in the background once Slack answers. Before then a reply that mentions the bot reaches its case
once, though both its app_mention and its message events carry it."""

from __future__ import annotations

import asyncio
import logging

from slackdesk import Desk, start_desk
from slackfake import BOT_ID, BOT_USER, FakeSlack
from slackflow import MENTION

from actiondesk.bot.slack.mount import SURFACE
from actiondesk.core.case import Case


async def _opened(desk: Desk, count: int = 1) -> list[Case]:
    for _ in range(400):
        cases = desk.runtime.store.list_cases()
        if len(cases) >= count:
            return cases
        await asyncio.sleep(0.05)  # polling the store for the handler's write
    raise AssertionError(f"{count} case(s) not opened")


def _said(desk: Desk, case_id: str, person: str) -> list[str]:
    return [str(e.payload.get("text")) for e in desk.runtime.store.audit(case_id) if e.actor == person]


async def test_with_slacks_web_api_unreachable_a_mention_is_acked_at_once_and_opens_its_case(sqlite_url, caplog):
    fake = await FakeSlack().start()
    port = fake.port
    await fake.stop()  # nothing listens on Slack's address now: every Web API call is refused
    desk, runner = await start_desk(sqlite_url, fake)
    surface = desk.app[SURFACE]
    try:
        with caplog.at_level(logging.INFO, logger="actiondesk.bot.slack.account"):
            # Bolt's own authorization called auth.test first, waited out the client's connection retries (3 s,
            # past Slack's deadline) and answered 500: Slack gave the report up after its own retries
            status, text, took = await desk.event(MENTION, "Ev0UNREACHABLE")
            assert (status, text) == (200, "")
            assert took < 3  # Slack's deadline; the 500 came after 1.5 to 3.5 s of the client's retries
            (case,) = await _opened(desk)
            assert case.text == "the payment gateway is throwing 500s"
            assert case.surface == "slack"
            assert surface.account.known is None
            for _ in range(200):  # the account's first ask, after the client's own connection retries
                if any("auth.test failed (ClientConnectorError)" in r.getMessage() for r in caplog.records):
                    break
                await asyncio.sleep(0.05)  # polling the log for the surface's background task
            failed = [r for r in caplog.records if "auth.test failed" in r.getMessage()]
            assert failed[0].levelname == "ERROR"
            assert "ClientConnectorError" in failed[0].getMessage()

            await fake.start(port)  # Slack answers again: the account is learned without any request asking
            for _ in range(200):
                if surface.account.known is not None:
                    break
                await asyncio.sleep(0.05)  # polling the surface's background task
            known = surface.account.known
            assert known is not None
            assert (known.bot_user_id, known.bot_id, known.team_id) == (BOT_USER, BOT_ID, "T0TEAM")
            assert any(f"signed in as {BOT_USER}" in r.getMessage() for r in caplog.records)
        assert "xoxb-test" not in caplog.text
    finally:
        await desk.session.close()
        await runner.cleanup()
        await fake.stop()


async def test_with_auth_test_hanging_a_reply_that_mentions_the_bot_reaches_its_case_once(sqlite_url):
    fake = await FakeSlack().start()
    fake.slow["auth.test"] = 60.0  # Slack hangs on this one call: the bot's user id stays unknown
    desk, runner = await start_desk(sqlite_url, fake)
    try:
        status, _, took = await desk.event(MENTION, "Ev0OPEN")
        assert status == 200
        assert took < 3  # Slack's deadline: the ack waited for auth.test before, up to the client's 10 s timeout
        (case,) = await _opened(desk)
        assert desk.app[SURFACE].account.known is None

        said = f"<@{BOT_USER}> it started right after the deploy"
        reply = {"user": "U0ALICE", "text": said, "ts": "1700000200.000100", "thread_ts": MENTION["ts"]}
        mention = {**reply, "type": "app_mention", "channel": "C0OPS"}
        message = {**mention, "type": "message", "channel_type": "channel"}
        for event, event_id in ((mention, "Ev0MENTION"), (message, "Ev0MESSAGE")):
            assert (await desk.event(event, event_id))[0] == 200
        for _ in range(400):
            if "it started right after the deploy" in _said(desk, case.id, "alice"):
                break
            await asyncio.sleep(0.05)  # polling the store for the handler's write
        await desk.app[SURFACE].desk.worker.events.settle(5.0)
        assert _said(desk, case.id, "alice").count("it started right after the deploy") == 1

        again = {**message, "text": "and it is still failing", "ts": "1700000300.000100"}
        assert (await desk.event(again, "Ev0AGAIN"))[0] == 200  # a reply without a mention still reaches it
        for _ in range(400):
            if "and it is still failing" in _said(desk, case.id, "alice"):
                break
            await asyncio.sleep(0.05)
        assert "and it is still failing" in _said(desk, case.id, "alice")
        assert len(desk.runtime.store.list_cases()) == 1
    finally:
        await desk.session.close()
        await runner.cleanup()
        await fake.stop()
