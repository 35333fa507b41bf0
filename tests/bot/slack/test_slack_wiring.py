"""Slack is on exactly when its token and signing secret are set; the console works either way. Two replicas on
one database turn two approvers clicking at the same moment into one decision (TESTPLAN A.6)."""

from __future__ import annotations

import asyncio

from authn import bearer
from slackdesk import start_desk
from slackfake import FakeSlack
from slackflow import MENTION, card

from actiondesk.core.approval import ApprovalStatus


async def test_slack_settings_mount_it_and_without_them_the_console_still_works(database_url: str, fake: FakeSlack):
    on, runner = await start_desk(database_url, fake, via_settings=True)
    try:
        status, _, _ = await on.event(MENTION, "Ev0WIRED")
        assert status == 200
        await fake.wait_for(card)
    finally:
        await on.session.close()
        await runner.cleanup()
    off, runner = await start_desk(database_url, fake, mount=False)
    try:
        async with off.session.post(off.events_url, data=b"{}") as response:
            assert response.status == 404
        async with off.session.get(off.url + "/healthz") as response:
            assert response.status == 200
        async with off.session.get(off.url + "/api/cases", headers=bearer(off.runtime, "alice")) as response:
            assert len(await response.json()) == 1
    finally:
        await off.session.close()
        await runner.cleanup()


async def test_two_approvers_clicking_at_once_on_two_replicas_make_one_decision(database_url: str, fake: FakeSlack):
    first, runner_a = await start_desk(database_url, fake)
    second, runner_b = await start_desk(database_url, fake)
    try:
        await first.event(MENTION, "Ev0REPLICAS")
        await fake.wait_for(card)
        (case,) = first.runtime.store.list_cases()
        (approval,) = first.runtime.store.approvals(case.id)
        answers = await asyncio.gather(
            first.click("approve", approval.id, "U0BOB", "T-bob"),
            second.click("approve", approval.id, "U0DAVE", "T-dave"),
        )
        assert [a[0] for a in answers] == [200, 200]
        (loser,) = await fake.wait_for(lambda f: f.named("chat.postEphemeral"))
        assert "Already handled" in loser.args["text"]
        (decided,) = first.runtime.store.approvals(case.id)
        assert decided.status is ApprovalStatus.APPROVED
        assert {decided.decided_by, {"U0BOB": "bob", "U0DAVE": "dave"}[loser.args["user"]]} == {"bob", "dave"}
        approvals = [e for e in first.runtime.store.audit(case.id) if e.kind.value == "approval"]
        assert [e.payload["status"] for e in approvals] == ["approved"]
    finally:
        for desk, runner in ((first, runner_a), (second, runner_b)):
            await desk.session.close()
            await runner.cleanup()


async def test_a_retry_arriving_while_the_first_delivery_is_in_flight_opens_one_case(desk):
    headers = [{}, {"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}]
    answers = await asyncio.gather(*(desk.event(MENTION, "Ev0INFLIGHT", **h) for h in headers))
    assert [a[0] for a in answers] == [200, 200]
    await desk.fake.wait_for(card)
    assert len(desk.runtime.store.list_cases()) == 1
