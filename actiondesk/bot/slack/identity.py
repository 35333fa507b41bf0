"""Slack users as ActionDesk people: by slack_user_id in the directory, else by profile email (users.info).

An unmapped user is named ``slack:<user id>``: they can report, and the approval desk refuses them because
that name is not in the directory.
"""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.web.async_client import AsyncWebClient

from actiondesk.bot.slack.client import FAILURES
from actiondesk.core.ports import Directory

log = logging.getLogger(__name__)


def unmapped(user_id: str) -> str:
    return f"slack:{user_id}"


class SlackIdentity:
    def __init__(self, directory: Directory, client: AsyncWebClient) -> None:
        self._directory = directory
        self._client = client
        self._known: dict[str, str] = {}

    async def person(self, user_id: str) -> str:
        """The directory name of the Slack user, or ``slack:<id>`` when the directory does not know them."""
        if user_id in self._known:
            return self._known[user_id]
        found = await asyncio.to_thread(self._directory.find_person, slack_user_id=user_id)
        if found is None:
            email = await self._email(user_id)
            if email:
                found = await asyncio.to_thread(self._directory.find_person, email=email)
        if found is None:
            return unmapped(user_id)
        self._known[user_id] = found.name
        return found.name

    async def _email(self, user_id: str) -> str | None:
        try:
            answer = await self._client.users_info(user=user_id)
        except FAILURES as exc:
            log.warning("slack: users.info for %s failed: %s", user_id, type(exc).__name__)
            return None
        user = answer.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        return email if isinstance(email, str) and email else None
