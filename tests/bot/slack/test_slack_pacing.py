"""Outbound limits: chat.update stays inside the per-workspace budget, each message is edited at most once per
spacing interval with the newest state, and a 429 is waited out (Retry-After) without holding up other channels."""

from __future__ import annotations

from itertools import pairwise

from slackflow import FAST, MENTION, case_with_card, is_card

from actiondesk.bot.slack.pacing import Pacing, UpdateBudget


class Tick:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_thirty_incidents_updating_at_once_stay_within_fifty_updates_a_minute():
    clock = Tick()
    budget = UpdateBudget(Pacing(min_edit_seconds=3, updates_per_minute=50), clock)
    sent: list[float] = []
    wanted = {f"msg-{i}": 10 for i in range(30)}  # 30 status messages, each wanting 10 edits
    while any(wanted.values()) and clock.now < 600:
        for message, left in wanted.items():
            if left and budget.wait(message) == 0:
                budget.spend(message)
                sent.append(clock.now)
                wanted[message] -= 1
        clock.now += 0.1
    assert not any(wanted.values())
    for start in sent:
        assert len([t for t in sent if start <= t < start + 60]) <= 50


def test_one_message_waits_its_spacing_while_others_go():
    clock = Tick()
    budget = UpdateBudget(Pacing(min_edit_seconds=3, updates_per_minute=50), clock)
    budget.spend("a")
    assert budget.wait("a") == 3
    assert budget.wait("b") == 0
    clock.now = 3.0
    assert budget.wait("a") == 0
    budget.posted("c")  # a fresh post counts as its message's last edit
    assert budget.wait("c") == 3


async def test_the_status_message_is_one_message_edited_in_place_and_spaced(desk):
    case, approval, _ = await case_with_card(desk)
    await desk.click("approve", approval.id, "U0BOB", "T-approve-pace")

    def status_posts() -> list:
        """Posts other than the approval card and, once the incident resolves, its post-mortem (its own post)."""
        posts = desk.fake.named("chat.postMessage")
        return [c for c in posts if not is_card(c) and not c.args["text"].startswith("Post-mortem of")]

    first = status_posts()
    assert len(first) == 1
    status_ts = first[0].answer["ts"]
    edits = await desk.fake.wait_for(
        lambda f: (
            (e := [c for c in f.named("chat.update") if c.args["ts"] == status_ts])
            and any(
                "acting" in c.args["text"] or "verifying" in c.args["text"] or "resolved" in c.args["text"] for c in e
            )
            and e
        ),
        timeout=30,
    )
    spacing = FAST.min_edit_seconds
    times = [first[0].at] + [c.at for c in edits]
    assert all(b - a >= spacing * 0.99 for a, b in pairwise(times))
    assert status_posts() == first
    assert case.id in edits[-1].args["text"]


async def test_a_429_is_waited_out_and_other_channels_keep_flowing(desk):
    desk.fake.rate_limit("chat.postMessage", retry_after=2, channel="C0OPS")
    await desk.event(MENTION, "Ev0LIMITED")
    other = {**MENTION, "channel": "C0WEB", "ts": "1700000300.000100", "event_ts": "1700000300.000100"}
    await desk.event(other, "Ev0OTHER")
    posts = await desk.fake.wait_for(
        lambda f: len({c.args["channel"] for c in f.named("chat.postMessage")}) == 2 and f.calls, timeout=30
    )
    limited = next(c for c in posts if c.method == "chat.postMessage#429")
    ops = next(c for c in posts if c.method == "chat.postMessage" and c.args["channel"] == "C0OPS")
    web = next(c for c in posts if c.method == "chat.postMessage" and c.args["channel"] == "C0WEB")
    assert ops.at - limited.at >= 2  # waited Retry-After, no tight loop
    assert len([c for c in posts if c.method.endswith("#429")]) == 1
    assert web.at < ops.at  # the other channel was not held up


def test_posts_to_one_channel_are_paced_to_one_a_second_and_other_channels_are_not_held():
    """Defect: chat.postMessage had no per-channel pacing; Slack allows about one message a second per channel."""
    clock = Tick()
    budget = UpdateBudget(Pacing(), clock)
    assert budget.post_wait("C0OPS") == 0
    budget.post_spend("C0OPS")
    assert budget.post_wait("C0OPS") == 1.0
    assert budget.post_wait("C0WEB") == 0
    clock.now = 0.4
    assert budget.post_wait("C0OPS") == 0.6
    clock.now = 1.0
    assert budget.post_wait("C0OPS") == 0


async def test_the_status_message_and_the_card_in_one_channel_are_spaced(desk):
    await case_with_card(desk)
    posts = [c for c in desk.fake.named("chat.postMessage") if c.args["channel"] == "C0OPS"]
    assert len(posts) >= 2
    assert all(b.at - a.at >= FAST.post_interval_seconds * 0.99 for a, b in pairwise(posts))


def test_a_message_past_its_spacing_is_forgotten_once_a_window_has_passed():
    clock = Tick()
    budget = UpdateBudget(Pacing(min_edit_seconds=3, updates_per_minute=50, post_interval_seconds=1), clock)
    for i in range(200):  # 200 cases' status messages posted and edited once each, in their own channels
        budget.post_spend(f"D{i}")
        budget.posted(f"msg-{i}")
        clock.now += 0.1
    assert budget.remembered == 400
    clock.now += 60.0
    budget.spend("msg-new")  # the next edit, a window later, forgets what no longer holds anything up
    assert budget.remembered == 1
    assert budget.wait("msg-new") == 3, "what still holds up its message is kept"
    assert budget.wait("msg-0") == 0
    assert budget.post_wait("D0") == 0
