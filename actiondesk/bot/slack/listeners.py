"""The Bolt listeners, registered in one place. ``register`` returns what it registered, so a test can keep
manifest.yml (events, commands, interactivity) in step with the code."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext

from actiondesk.bot.slack.answers import on_choose
from actiondesk.bot.slack.blocks import APPROVE, CHOOSE, REJECT, REJECT_CONFIRM, REJECT_VIEW
from actiondesk.bot.slack.commands import COMMAND, Commands
from actiondesk.bot.slack.conversations import on_mention, on_message
from actiondesk.bot.slack.decisions import on_approve, on_reject, on_reject_confirm, on_reject_view
from actiondesk.bot.slack.desk import SlackDesk
from actiondesk.bot.slack.notices import ROLLBACK, TAKE
from actiondesk.bot.slack.requests import ONBOARD_VIEW, on_onboard_submit
from actiondesk.bot.slack.takeover import on_rollback, on_take

log = logging.getLogger(__name__)

# Message events arrive per kind of conversation; each needs its own bot event (and history scope).
MESSAGE_EVENTS = ("message.channels", "message.groups", "message.im")


@dataclass
class Registered:
    events: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    views: list[str] = field(default_factory=list)


Click = Callable[[SlackDesk, dict[str, Any]], Awaitable[None]]


def _clicked(desk: SlackDesk, handle: Click) -> Callable[..., Awaitable[None]]:
    async def listener(ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        await ack()  # first: Slack wants the 200 within 3 s, and trigger_id dies 3 s after the click
        try:
            await handle(desk, body)
        except Exception:  # the edge of a surface handler: log, keep serving
            log.exception("slack: %s failed", handle.__name__)

    return listener


async def _handled(what: str, body: dict[str, Any], handle: Callable[[], Awaitable[None]]) -> None:
    try:
        await handle()
    except Exception:  # the edge of a surface handler
        log.exception("slack: %s %s failed", what, body.get("event_id"))


def register(app: AsyncApp, desk: SlackDesk) -> Registered:
    done = Registered()
    commands = Commands(desk)

    # an event's handling runs after Bolt has acked it, when its turn comes (bot/jobs/turns.py): the listener
    # returns at once, and the event waits as its handling, not as a task holding its request
    async def mention(body: dict[str, Any], event: dict[str, Any]) -> None:
        desk.worker.after_ack(partial(_handled, "app_mention", body, partial(on_mention, desk, body, event)))

    async def message(body: dict[str, Any], event: dict[str, Any], context: AsyncBoltContext) -> None:
        handle = partial(on_message, desk, body, event, context.bot_user_id)
        desk.worker.after_ack(partial(_handled, "message", body, handle))

    async def command(ack: Callable[..., Awaitable[Any]], body: dict[str, Any], respond: Any) -> None:
        await ack()  # the work runs after the ack; its answer goes to response_url
        try:
            await commands.answer(body, respond)
        except Exception:  # the edge of a surface handler
            log.exception("slack: %s %s failed", COMMAND, str(body.get("text", "")).split(" ")[0])

    app.event("app_mention")(mention)
    done.events.append("app_mention")
    app.event("message")(message)
    done.events.extend(MESSAGE_EVENTS)
    app.command(COMMAND)(command)
    done.commands.append(COMMAND)
    clicks = (
        (APPROVE, on_approve),
        (REJECT, on_reject),
        (REJECT_CONFIRM, on_reject_confirm),
        (ROLLBACK, on_rollback),
        (TAKE, on_take),
    )
    for action_id, handle in clicks:
        app.action(action_id)(_clicked(desk, handle))
        done.actions.append(action_id)
    app.action(CHOOSE)(_clicked(desk, on_choose))  # a question's buttons: choose:0, choose:1, ...
    done.actions.append(CHOOSE.pattern)
    app.view(REJECT_VIEW)(_clicked(desk, on_reject_view))
    done.views.append(REJECT_VIEW)

    async def onboard_submitted(ack: Callable[..., Awaitable[Any]], body: dict[str, Any]) -> None:
        try:
            await on_onboard_submit(desk, ack, body)  # acks itself: with the fields' errors, or to close
        except Exception:  # the edge of a surface handler
            log.exception("slack: the onboarding form failed")

    app.view(ONBOARD_VIEW)(onboard_submitted)
    done.views.append(ONBOARD_VIEW)
    return done
