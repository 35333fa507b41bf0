"""Mentions and direct messages open cases; replies in a case's thread reach the case."""

from __future__ import annotations

import asyncio
import logging
import re
from functools import partial
from typing import Any

from actiondesk.bot.slack.desk import SlackDesk
from actiondesk.bot.slack.threads import CHANNEL, TEAM, THREAD
from actiondesk.core.errors import DuplicateDeliveryError

log = logging.getLogger(__name__)

MENTION = re.compile(r"<@[A-Z0-9]+(\|[^>]*)?>")


def clean(text: str) -> str:
    return MENTION.sub("", text or "").strip()


# Subtypes that are still a person speaking; every other subtype (bot_message, message_changed,
# message_deleted, channel_join...) is not a message to act on.
SPOKEN = frozenset({"thread_broadcast", "file_share"})


def from_a_bot(event: dict[str, Any]) -> bool:
    """A bot's message (ours or another's) or an edit/system notice: never a report or a reply."""
    subtype = event.get("subtype")
    return bool(event.get("bot_id") or event.get("bot_profile") or (subtype and subtype not in SPOKEN))


async def on_mention(desk: SlackDesk, body: dict[str, Any], event: dict[str, Any]) -> None:
    if from_a_bot(event):
        return
    await _converse(desk, body, event)


async def on_message(desk: SlackDesk, body: dict[str, Any], event: dict[str, Any], bot_user_id: str | None) -> None:
    """A DM opens a case; a message in a case's thread is a reply. Mentions are left to on_mention."""
    if from_a_bot(event):
        return
    direct = event.get("channel_type") == "im"
    in_thread = event.get("thread_ts") is not None
    if not direct and not in_thread:
        return
    if not direct and bot_user_id and f"<@{bot_user_id}" in (event.get("text") or ""):
        return  # the app_mention event for this message does the work
    await _converse(desk, body, event, open_new=direct)


async def _converse(desk: SlackDesk, body: dict[str, Any], event: dict[str, Any], *, open_new: bool = True) -> None:
    """The delivery is recorded in the same transaction as the case or reply it leads to: a retried event
    (X-Slack-Retry-Num, or a replay) finds it recorded and does nothing, even while the first is in flight.

    A reply in a thread is keyed by its message, so a reply that mentions the bot reaches the case once: its
    app_mention and its message events both carry it. (on_message leaves it to on_mention when the bot's user id
    is known; before auth.test has answered, account.py, it is not.)"""
    thread_ts, ts = event.get("thread_ts"), event.get("ts")
    if thread_ts and ts:
        delivery = f"slack:message:{event.get('channel', '')}:{ts}"
    else:
        delivery = f"slack:event:{body.get('event_id')}"
    try:
        await _converse_once(desk, body, event, open_new=open_new, delivery=delivery)
    except DuplicateDeliveryError:
        log.info("slack: event %s delivered again; ignored", body.get("event_id"))


async def _converse_once(
    desk: SlackDesk, body: dict[str, Any], event: dict[str, Any], *, open_new: bool, delivery: str
) -> None:
    channel, user = str(event.get("channel", "")), str(event.get("user", ""))
    text = clean(str(event.get("text", "")))
    thread_ts = event.get("thread_ts")
    person = await desk.identity.person(user)
    front = desk.front
    if thread_ts:
        bound = await asyncio.to_thread(desk.threads.case_in, channel, str(thread_ts))
        case_id = await asyncio.to_thread(front.reaches, bound)  # a case's thread is the case's, even closed
        if case_id is not None:
            if text:
                await asyncio.to_thread(partial(front.reply, case_id, person, text, delivery=delivery))
                desk.worker.kick(case_id)
            return
    if not open_new or not text:
        return
    root = str(thread_ts or event.get("ts", ""))
    thread = {CHANNEL: channel, THREAD: root, TEAM: str(body.get("team_id", ""))}
    case = await asyncio.to_thread(
        partial(front.open_case, text, person, surface="slack", thread=thread, delivery=delivery)
    )
    await asyncio.to_thread(desk.threads.link, channel, root, case.id)
    log.info("case %s: opened from Slack by %s", case.id, person)
    desk.progress.touch(case.id)
    desk.worker.kick(case.id)
