"""Who clicked: a Teams user mapped to a directory person by AAD object id, else by email.

The email comes from the Bot Connector's member lookup (Teams does not put it in activities). An unmapped
user is named ``teams:<aad object id or Teams id>``, a name no directory entry can have: such a user can
report, and every approval refuses them.
"""

from __future__ import annotations

import asyncio
import logging

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsInfo

from actiondesk.core.ports import Directory

log = logging.getLogger(__name__)


async def identify(context: TurnContext, directory: Directory) -> str:
    sender = context.activity.from_property
    aad = getattr(sender, "aad_object_id", None) if sender else None
    if aad:
        person = await asyncio.to_thread(directory.find_person, teams_aad_object_id=aad)
        if person is not None:
            return person.name
    user_id = sender.id if sender and sender.id else ""
    email = await _email(context, user_id)
    if email:
        person = await asyncio.to_thread(directory.find_person, email=email)
        if person is not None:
            return person.name
    return f"teams:{aad or user_id or 'unknown'}"


async def _email(context: TurnContext, user_id: str) -> str | None:
    if not user_id or context.activity.channel_id != "msteams":
        return None
    try:
        member = await TeamsInfo.get_member(context, user_id)
    except Exception as exc:  # noqa: BLE001 - a failed lookup leaves the user unmapped, which is the safe side
        log.info("teams: member lookup for an unmapped user failed: %s", type(exc).__name__)
        return None
    return getattr(member, "email", None) or getattr(member, "user_principal_name", None)
