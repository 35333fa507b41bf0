"""Forged or stale requests get 401 and write nothing (TESTPLAN A.1, A.2); Slack's documented signature vector
holds (tests/data/slack, cross-checked with the shared one when it is there)."""

from __future__ import annotations

import json
import time
from functools import partial

import pytest
from fixturefiles import sources
from slack_sdk.signature import SignatureVerifier
from slackfake import SECRET, event_body, fixture, post, signed

from actiondesk.bot.slack import ingress

MENTION = {
    "type": "app_mention",
    "user": "U0ALICE",
    "text": "<@UBOTACTIONDESK> the payment gateway is throwing 500s",
    "ts": "1700000100.000100",
    "channel": "C0OPS",
}


@pytest.mark.parametrize("path", sources("slack/signature_test_vector.json", "slack/signature_test_vector.json"))
def test_the_documented_signature_vector_verifies(path):
    vector = fixture(path)
    verifier = SignatureVerifier(vector["signing_secret"], clock=_Frozen(int(vector["x_slack_request_timestamp"])))
    assert verifier.is_valid(vector["raw_body"], vector["x_slack_request_timestamp"], vector["x_slack_signature"])
    changed = vector["raw_body"].replace("%2F", "/", 1)  # the same text, one byte encoded differently
    assert not verifier.is_valid(changed, vector["x_slack_request_timestamp"], vector["x_slack_signature"])


class _Frozen:
    def __init__(self, now: int) -> None:
        self._now = now

    def now(self) -> float:
        return float(self._now)


def _forgeries() -> list[tuple[str, object]]:
    return [
        ("wrong secret", lambda body: (body, signed(body, secret="not-the-secret", content_type="application/json"))),
        (
            "body changed by one byte",
            lambda body: (body.replace("500s", "501s"), signed(body, content_type="application/json")),
        ),
        ("301 s old", lambda body: (body, signed(body, at=time.time() - 301, content_type="application/json"))),
        # ahead by a clear margin: 301 s ahead truncated to whole seconds is inside the window a second later
        ("6 min ahead", lambda body: (body, signed(body, at=time.time() + 360, content_type="application/json"))),
        ("no signature", lambda body: (body, {"X-Slack-Request-Timestamp": str(int(time.time()))})),
        ("no timestamp", lambda body: (body, {"X-Slack-Signature": _signature(body)})),
    ]


def _signature(body: str) -> str:
    return signed(body, content_type="application/json")["X-Slack-Signature"]


@pytest.mark.parametrize(("name", "forge"), _forgeries(), ids=[n for n, _ in _forgeries()])
async def test_forged_and_stale_requests_get_401_and_write_nothing(desk, name, forge):
    body, headers = forge(event_body(MENTION, f"Ev-{name}"))
    status, text, _ = await post(desk.session, desk.events_url, body, headers)
    assert status == 401, (name, text)
    assert json.loads(text) == {"error": "invalid request"}
    assert desk.runtime.store.list_cases() == []
    assert list(desk.runtime.store.audit()) == []
    assert [c.method for c in desk.fake.calls if c.method != "auth.test"] == []


@pytest.mark.parametrize(
    "path", sources("slack/event_callback.app_mention.json", "slack/bolt-python-tests/event_callback.app_mention.json")
)
async def test_a_real_shaped_mention_is_accepted(desk, path):
    envelope = fixture(path)
    event = envelope["event"]
    event["text"] = "<@W111> the payment gateway is throwing 500s"
    body = json.dumps(envelope)
    status, _, took = await post(desk.session, desk.events_url, body, signed(body, content_type="application/json"))
    assert status == 200
    assert took < 3
    await desk.fake.wait_for(lambda f: f.named("chat.postMessage"))
    (case,) = desk.runtime.store.list_cases()
    assert case.reporter == f"slack:{event['user']}"  # unmapped: may report, never approve
    assert case.thread == {
        "slack_channel": event["channel"],
        "slack_thread_ts": event["ts"],
        "slack_team": envelope["team_id"],
    }


async def test_the_url_verification_challenge_is_answered_only_when_signed(desk):
    body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"})
    status, text, _ = await post(desk.session, desk.events_url, body, signed(body, content_type="application/json"))
    assert (status, json.loads(text)) == (200, {"challenge": "c-123"})
    forged = signed(body, secret="x", content_type="application/json")
    assert (await post(desk.session, desk.events_url, body, forged))[0] == 401


def _malformed_headers() -> list[tuple[str, dict[str, str]]]:
    now = str(int(time.time()))
    valid = "v0=" + "0" * 64
    arabic = "\u0661\u0667" + "\u0660" * 8  # Arabic-Indic digits: int() accepts them
    return [
        ("non-numeric timestamp", {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": valid}),
        ("fractional timestamp", {"X-Slack-Request-Timestamp": now + ".5", "X-Slack-Signature": valid}),
        ("non-ASCII timestamp", {"X-Slack-Request-Timestamp": arabic, "X-Slack-Signature": valid}),
        ("non-ASCII signature", {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=é" + "0" * 63}),
        ("huge timestamp", {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": valid}),
    ]


@pytest.mark.parametrize(("name", "headers"), _malformed_headers(), ids=[n for n, _ in _malformed_headers()])
async def test_malformed_signature_headers_get_401_not_500(desk, name, headers):
    body = event_body(MENTION, f"Ev-{name}")
    async with desk.session.post(
        desk.events_url, data=body.encode("utf-8"), headers={**headers, "Content-Type": "application/json"}
    ) as response:
        assert response.status == 401, (name, await response.text())
    assert desk.runtime.store.list_cases() == []


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", '{"type": "event_callback", "event": '),
        ("application/json", "[" * 100_000),
        ("application/json", '["not", "an", "envelope"]'),
        ("application/x-www-form-urlencoded", "payload=%7Bnot%20json"),
        ("application/x-www-form-urlencoded", "payload=" + "%5B" * 50_000),
    ],
    ids=["truncated JSON", "deeply nested JSON", "a JSON array", "form with a broken payload", "form, nested payload"],
)
async def test_signed_bodies_that_are_not_what_they_claim_get_400(desk, content_type, body):
    status, text, _ = await post(desk.session, desk.events_url, body, signed(body, content_type=content_type))
    assert status == 400, text
    assert desk.runtime.store.list_cases() == []


@pytest.mark.parametrize(("offset", "valid"), [(-301, False), (-300, True), (0, True), (300, True), (301, False)])
def test_the_window_is_five_minutes_either_side(offset, valid):
    """The boundary itself, on a frozen clock: the requests above are well outside it, whatever the machine's pace."""
    now, body = 1_700_000_000, event_body(MENTION, "Ev-window")
    headers = signed(body, at=now + offset, content_type="application/json")
    verifier = SignatureVerifier(SECRET, clock=_Frozen(now))
    check = partial(ingress.check, verifier, body.encode(), headers["X-Slack-Request-Timestamp"])
    if valid:
        check(headers["X-Slack-Signature"], "application/json")
    else:
        with pytest.raises(ingress.Refusal, match="stale timestamp"):
            check(headers["X-Slack-Signature"], "application/json")
