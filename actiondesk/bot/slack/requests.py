"""The onboarding form in Slack: `/actiondesk onboard` opens a modal; its submission is checked field by field
before anything runs (each problem shown under its field, the modal kept open), then the request's case opens
in a thread of the channel the command was typed in.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from functools import partial
from typing import Any

from actiondesk.agents.fulfilment import HireForm
from actiondesk.bot.slack.client import FAILURES
from actiondesk.bot.slack.desk import SlackDesk
from actiondesk.bot.slack.threads import CHANNEL, TEAM, THREAD
from actiondesk.core.errors import InvalidRequestError

log = logging.getLogger(__name__)

ONBOARD_VIEW = "onboard_form"
# form field -> (block id, action id)
FIELDS = {
    "name": ("name", "name_input"),
    "role": ("role", "role_input"),
    "start": ("start", "start_input"),
    "manager": ("manager", "manager_input"),
    "user": ("username", "username_input"),
    "email": ("email", "email_input"),
}


def _input(field: str, label: str, element: dict[str, Any], optional: bool = False) -> dict[str, Any]:
    block, action = FIELDS[field]
    return {
        "type": "input",
        "block_id": block,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": action},
    }


def onboarding_view(roles: list[tuple[str, str]], channel: str, today: date) -> dict[str, Any]:
    """The modal: name, role (the catalog's), start date, manager (a Slack user), optional user name and email."""
    options = [{"text": {"type": "plain_text", "text": title[:75]}, "value": name} for name, title in roles]
    return {
        "type": "modal",
        "callback_id": ONBOARD_VIEW,
        "private_metadata": json.dumps({"channel": channel}),
        "title": {"type": "plain_text", "text": "Onboard a new hire"},
        "submit": {"type": "plain_text", "text": "Onboard"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            _input("name", "Full name", {"type": "plain_text_input", "placeholder": _text("Jane Doe")}),
            _input("role", "Role", {"type": "static_select", "options": options[:100]}),
            _input("start", "Start date", {"type": "datepicker", "initial_date": today.isoformat()}),
            _input("manager", "Manager", {"type": "users_select"}),
            _input("user", "User name", {"type": "plain_text_input", "placeholder": _text("jdoe")}, optional=True),
            _input("email", "Work email", {"type": "email_text_input"}, optional=True),
        ],
    }


def _text(text: str) -> dict[str, str]:
    return {"type": "plain_text", "text": text}


def _value(values: dict[str, Any], field: str) -> str:
    block, action = FIELDS[field]
    state = (values.get(block) or {}).get(action) or {}
    for key in ("value", "selected_date", "selected_user"):
        if state.get(key):
            return str(state[key])
    selected = state.get("selected_option") or {}
    return str(selected.get("value") or "")


async def open_onboarding(desk: SlackDesk, trigger_id: str, channel: str) -> None:
    roles = [(r.name, r.title or r.name) for r in desk.front.fulfilment.roles.roles.values()]
    view = onboarding_view(roles, channel, desk.front.clock.now().date())
    await desk.client.views_open(trigger_id=trigger_id, view=view)


async def on_onboard_submit(desk: SlackDesk, ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
    """Check the fields and answer within the ack: errors keep the modal open; a good form closes it and the
    case opens in a thread of the channel the command came from."""
    view = body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    user_id = str((body.get("user") or {}).get("id", ""))
    manager_id = _value(values, "manager")
    person, manager = await desk.identity.person(user_id), await desk.identity.person(manager_id)
    form = HireForm(
        name=_value(values, "name"),
        role=_value(values, "role"),
        start=_value(values, "start"),
        manager=manager,
        user=_value(values, "user"),
        email=_value(values, "email"),
    )
    try:
        await asyncio.to_thread(desk.front.fulfilment.check, form)
    except InvalidRequestError as exc:
        errors = {FIELDS[f][0]: message[:150] for f, message in exc.fields.items() if f in FIELDS}
        await ack(response_action="errors", errors=errors or {"name": str(exc)[:150]})
        return
    await ack()
    if not await desk.first_time(f"slack:view:{view.get('id')}:{view.get('hash')}", "slack_view"):
        return
    channel = str(json.loads(view.get("private_metadata") or "{}").get("channel", ""))
    try:
        posted = await desk.client.chat_postMessage(
            channel=channel, text=f"Onboarding request from <@{user_id}>: {form.name}, {form.role}, from {form.start}"
        )
    except FAILURES as exc:
        log.warning("slack: could not start the onboarding thread in %s: %s", channel, type(exc).__name__)
        return
    root = str(posted.get("ts", ""))
    thread = {CHANNEL: channel, THREAD: root, TEAM: str((body.get("team") or {}).get("id", ""))}
    case = await asyncio.to_thread(partial(desk.front.fulfilment.onboard, form, person, surface="slack", thread=thread))
    await asyncio.to_thread(desk.threads.link, channel, root, case.id)
    log.info("case %s: onboarding opened from a Slack form by %s", case.id, person)
    desk.progress.touch(case.id)
    desk.worker.kick(case.id)
