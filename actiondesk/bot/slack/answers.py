"""A click on one of a question's buttons: the clicker's reply in the thread.

The clicker is mapped to a person like any author of a message (an unmapped user answers as ``slack:<id>``:
answering is not approving). The question desk checks the choice against the case's open question; a stale,
forged or misplaced click is refused in an ephemeral message and changes nothing. The question message itself
is edited by Progress once the answer is in (its buttons give way to who answered what).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from pydantic import ValidationError

from actiondesk.bot.slack.blocks import Choice
from actiondesk.bot.slack.desk import SlackDesk, origin
from actiondesk.bot.slack.threads import thread_of
from actiondesk.core.case import Case
from actiondesk.core.errors import CaseNotFoundError, ConcurrencyError, DuplicateDeliveryError, StaleAnswerError

log = logging.getLogger(__name__)


async def on_choose(desk: SlackDesk, body: dict[str, Any]) -> None:
    action = (body.get("actions") or [{}])[0]
    user = str((body.get("user") or {}).get("id", ""))
    channel, thread_ts = origin(body)
    try:
        clicked = Choice.model_validate_json(str(action.get("value") or ""))
    except ValidationError:
        log.warning("slack: a question button with a value ActionDesk did not make, from %s", user)
        await desk.ephemeral(channel, user, "Not taken: that button is not one ActionDesk made.", thread_ts=thread_ts)
        return
    person = await desk.identity.person(user)
    delivery = f"slack:answer:{body.get('trigger_id') or action.get('action_ts')}"

    def answer() -> Case:
        case = desk.front.case(clicked.case)
        home = thread_of(case)
        if case.surface != "slack" or home is None or home[0] != channel:
            raise StaleAnswerError(f"that button does not belong to case {case.id}'s conversation")
        return desk.front.answer(case.id, person, clicked.choice, question=clicked.question, delivery=delivery)

    try:
        case = await asyncio.to_thread(answer)
    except DuplicateDeliveryError:
        log.info("slack: answer click %s delivered again; ignored", delivery)
        return
    except (StaleAnswerError, CaseNotFoundError) as exc:
        log.info("case %s: %s's answer %r refused: %s", clicked.case, person, clicked.choice, exc)
        await desk.ephemeral(channel, user, f"Not taken: {exc}.", thread_ts=thread_ts)
        return
    except ConcurrencyError:
        await desk.ephemeral(channel, user, "Not taken: the case changed meanwhile; try again.", thread_ts=thread_ts)
        return
    log.info("case %s: %s answered %r from Slack", case.id, person, clicked.choice)
    desk.progress.touch(case.id)
    desk.worker.kick(case.id)
