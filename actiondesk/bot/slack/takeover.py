"""Roll back and Take it clicks. The clicker is mapped to a directory person server-side (an unmapped user can
do neither); Roll back opens a rollback case that governance decides like any other call, in the notice's own
thread; Take it says the person has the handed-off case (which records the pick-up)."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from actiondesk.bot.slack.decisions import _first_click
from actiondesk.bot.slack.desk import SlackDesk, origin
from actiondesk.bot.slack.notices import acted_alone_blocks, hand_off_blocks
from actiondesk.bot.slack.threads import CHANNEL, TEAM, THREAD
from actiondesk.core.audit_payloads import ActedAlone, HandedOff
from actiondesk.core.errors import ActionDeskError

log = logging.getLogger(__name__)


def _clicked(body: dict[str, Any]) -> tuple[str, str, str, str]:
    """The button's value, the clicker, the channel and the ts of the message the button is on."""
    action = (body.get("actions") or [{}])[0]
    container = body.get("container") or {}
    channel, _ = origin(body)
    ts = str(container.get("message_ts") or (body.get("message") or {}).get("ts") or "")
    return str(action.get("value", "")), str((body.get("user") or {}).get("id", "")), channel, ts


def _acted_alone(desk: SlackDesk, case_id: str | None, run_key: str) -> ActedAlone | None:
    """The case's newest notice that ``run_key`` ran alone."""
    return desk.front.newest(case_id, ActedAlone, lambda alone: alone.run_key == run_key) if case_id else None


def _handed_off(desk: SlackDesk, case_id: str) -> HandedOff | None:
    """The case's newest hand-off."""
    return desk.front.newest(case_id, HandedOff)


async def on_rollback(desk: SlackDesk, body: dict[str, Any]) -> None:
    if not await _first_click(desk, body, "action"):
        return
    run_key, user, channel, ts = _clicked(body)
    person = await desk.identity.person(user)
    try:
        desk.front.may_roll_back(person, surface="slack")
    except ActionDeskError as exc:
        refused = str(exc)
        await desk.ephemeral(channel, user, f"{refused[:1].upper()}{refused[1:]}.")
        return
    if not await desk.first_time(f"slack:rollback:{run_key}", "slack_rollback"):
        await desk.ephemeral(channel, user, f"Run {run_key} is already being rolled back.")
        return
    thread = {CHANNEL: channel, THREAD: ts, TEAM: str((body.get("team") or {}).get("id", ""))}
    try:
        case = await asyncio.to_thread(partial(desk.front.rollback, run_key, person, surface="slack", thread=thread))
    except ActionDeskError as exc:
        await desk.ephemeral(channel, user, f"Cannot roll back {run_key}: {exc}")
        return
    await asyncio.to_thread(desk.threads.link, channel, ts, case.id)
    desk.progress.touch(case.id)
    desk.worker.kick(case.id)
    log.info("case %s: rollback of %s asked for by %s from Slack", case.id, run_key, person)
    ran = await asyncio.to_thread(desk.front.run_case, run_key)
    notice = await asyncio.to_thread(_acted_alone, desk, ran, run_key)
    if notice is not None and ran and ts:
        outcome = f"Roll back asked for by {person}: case {case.id} (policy decides)."
        blocks = acted_alone_blocks(notice, ran, outcome)
        await desk.client.chat_update(channel=channel, ts=ts, text=outcome, blocks=blocks)


async def on_take(desk: SlackDesk, body: dict[str, Any]) -> None:
    if not await _first_click(desk, body, "action"):
        return
    case_id, user, channel, ts = _clicked(body)
    person = await desk.identity.person(user)
    try:
        await asyncio.to_thread(desk.front.take, case_id, person)
    except ActionDeskError as exc:
        await desk.ephemeral(channel, user, f"Not taken: {exc}", thread_ts=ts or None)
        return
    desk.progress.touch(case_id)
    handed = await asyncio.to_thread(_handed_off, desk, case_id)
    if handed is not None and ts:
        blocks = hand_off_blocks(handed, case_id, desk.front.directory, taken_by=person)
        await desk.client.chat_update(channel=channel, ts=ts, text=f"{person} has case {case_id}.", blocks=blocks)
