"""Every `/actiondesk` command is acked at once and answers (via response_url) within 3 s."""

from __future__ import annotations

import time

from actiondesk.core.audit import AuditKind

COMMANDS = [
    ("help", "/actiondesk <command>"),
    ("status", "No open cases"),
    ("status 30d", "first-contact resolution"),
    ("status 0d", "A period is a number of days or hours"),
    ("audit C-nothere", "Refused: no case C-nothere"),
    ("rollback C-nothere/step-0", "Refused:"),
    ("freeze add Holiday 2030-12-24T00:00Z 2030-12-27T00:00Z payment-gateway", "set the freeze *Holiday*"),
    ("freeze list", "Holiday"),
    ("freeze end Holiday", "ended the freeze"),
    ("chaos start search 2", "started a chaos day for *search*"),
    ("chaos stop search", "stopped the chaos day"),
    ("autonomy search 3", "set the autonomy of `search` to 3"),
    ("autonomy", "`search`: 3"),
    ("kill on investigating an outage", "kill switch ON"),
    ("kill off", "kill switch off"),
    ("frobnicate", "Unknown command"),
]


async def test_each_command_is_acked_and_answered_within_3_seconds(desk):
    """In order on one server: later commands see what earlier ones set."""
    for n, (text, expected) in enumerate(COMMANDS):
        started = time.monotonic()
        status, _, took = await desk.command(text, "U0BOB", f"trigger-{n}", hook=f"cmd{n}")
        assert status == 200, text
        assert took < 3, text
        answer = await desk.fake.wait_for(
            lambda f, n=n: [c for c in f.named("response_url") if c.args["hook"] == f"cmd{n}"],
            timeout=3 - (time.monotonic() - started),
        )
        assert time.monotonic() - started < 3, text
        assert expected in answer[0].args["text"], (text, answer[0].args["text"])


async def test_controls_are_audited_under_the_person_and_refused_to_others(desk):
    await desk.command("freeze add Patch 2030-01-01T00:00Z 2030-01-02T00:00Z", "U0BOB", "t-1", hook="a")
    await desk.fake.wait_for(lambda f: f.named("response_url"))
    changes = [e for e in desk.runtime.store.audit() if e.kind is AuditKind.SETTING_CHANGED]
    assert [(e.actor, e.payload["setting"]) for e in changes] == [("bob", "freeze")]
    await desk.command("kill on nope", "U0FRANK", "t-2", hook="b")
    refused = await desk.fake.wait_for(lambda f: [c for c in f.named("response_url") if c.args["hook"] == "b"])
    assert refused[0].args["text"].startswith("Refused:")
    assert refused[0].args["response_type"] == "ephemeral"
    assert desk.runtime.controls.state().kill_switch is False


async def test_a_replayed_command_runs_once(desk):
    for _ in range(2):
        await desk.command("freeze add Once 2030-01-01T00:00Z 2030-01-02T00:00Z", "U0BOB", "t-same", hook="r")
    await desk.fake.wait_for(lambda f: f.named("response_url"))
    await desk.command("help", "U0BOB", "t-after", hook="z")  # a later command: the replay had its chance
    await desk.fake.wait_for(lambda f: [c for c in f.named("response_url") if c.args["hook"] == "z"])
    assert len([c for c in desk.fake.named("response_url") if c.args["hook"] == "r"]) == 1


async def test_status_shows_the_period_figures(desk):
    await desk.command("status 24h", "U0BOB", "t-status", hook="s")
    answer = await desk.fake.wait_for(lambda f: [c for c in f.named("response_url") if c.args["hook"] == "s"])
    text = answer[0].args["text"]
    assert "*Last 24h*" in text
    assert "MTTR" in text
    assert "cost per resolved request" in text
