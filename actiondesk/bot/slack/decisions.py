"""Approve / Reject clicks. The clicker is mapped to a person server-side; the approval desk checks the
group, separation of duties, expiry and turns concurrent clicks into one decision (compare-and-set).
Refusals go back ephemerally; the card itself is edited by Progress from the stored approval."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from slack_sdk.errors import SlackApiError

from actiondesk.agents.desk import Refusal
from actiondesk.bot.slack.blocks import REASON_BLOCK, REASON_INPUT, reject_modal, reject_prompt
from actiondesk.bot.slack.desk import SlackDesk, Where, origin

log = logging.getLogger(__name__)


def _reason(state: dict[str, Any]) -> str:
    value = ((state.get("values") or {}).get(REASON_BLOCK) or {}).get(REASON_INPUT) or {}
    return str(value.get("value") or "").strip()


async def _first_click(desk: SlackDesk, body: dict[str, Any], kind: str) -> bool:
    action = (body.get("actions") or [{}])[0]
    key = f"slack:{kind}:{body.get('trigger_id') or action.get('action_ts')}"
    return await desk.first_time(key, f"slack_{kind}")


async def decide(desk: SlackDesk, approval_id: str, user: str, approve: bool, reason: str | None, where: Where) -> None:
    channel, thread_ts = where
    person = await desk.identity.person(user)
    verdict = await asyncio.to_thread(desk.front.decide, approval_id, person, approve, reason)
    if verdict.approval is not None and verdict.refused is Refusal.EXPIRED:
        desk.progress.touch(verdict.approval.case_id)  # the card shows the expiry
    if not verdict.decided or verdict.approval is None:
        await desk.ephemeral(channel, user, verdict.told(), thread_ts=thread_ts)
        return
    approval = verdict.approval
    log.info("case %s: approval %s %s from Slack", approval.case_id, approval.id, approval.status.value)
    desk.progress.touch(approval.case_id)
    desk.worker.kick(approval.case_id)


async def on_approve(desk: SlackDesk, body: dict[str, Any]) -> None:
    if not await _first_click(desk, body, "action"):
        return
    approval_id = str((body.get("actions") or [{}])[0].get("value", ""))
    await decide(desk, approval_id, str(body["user"]["id"]), True, None, origin(body))


async def on_reject(desk: SlackDesk, body: dict[str, Any]) -> None:
    """Ask for a reason in a modal; when the trigger_id has expired, ask in an ephemeral message instead."""
    if not await _first_click(desk, body, "action"):
        return
    approval_id = str((body.get("actions") or [{}])[0].get("value", ""))
    user = str(body["user"]["id"])
    channel, thread_ts = origin(body)
    person = await desk.identity.person(user)

    verdict = await asyncio.to_thread(desk.front.may_decide, approval_id, person)
    if not verdict.decided or verdict.approval is None:
        await desk.ephemeral(channel, user, verdict.told(), thread_ts=thread_ts)
        return
    approval = verdict.approval
    metadata = json.dumps({"approval": approval_id, "channel": channel, "thread_ts": thread_ts})
    try:
        await desk.client.views_open(trigger_id=str(body.get("trigger_id", "")), view=reject_modal(approval, metadata))
    except SlackApiError as exc:
        why = exc.response.get("error")
        log.info("case %s: reject modal not opened (%s); asking in the thread", approval.case_id, why)
        await desk.ephemeral(
            channel, user, "Reject: give a reason", thread_ts=thread_ts, blocks=reject_prompt(approval)
        )


async def on_reject_confirm(desk: SlackDesk, body: dict[str, Any]) -> None:
    """The ephemeral fallback's button: the reason comes from the message's input block."""
    if not await _first_click(desk, body, "action"):
        return
    approval_id = str((body.get("actions") or [{}])[0].get("value", ""))
    reason = _reason(body.get("state") or {}) or None
    await decide(desk, approval_id, str(body["user"]["id"]), False, reason, origin(body))


async def on_reject_view(desk: SlackDesk, body: dict[str, Any]) -> None:
    view = body.get("view") or {}
    if not await desk.first_time(f"slack:view:{view.get('id')}:{view.get('hash')}", "slack_view"):
        return
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        meta = {}
    where = (str(meta.get("channel", "")), meta.get("thread_ts"))
    reason = _reason(view.get("state") or {}) or None
    await decide(desk, str(meta.get("approval", "")), str(body["user"]["id"]), False, reason, where)
