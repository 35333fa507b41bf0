"""Slack users as ActionDesk people: by slack_user_id in the directory, else by profile email (users.info).

An unmapped user is named ``slack:<user id>``: they can report, and the approval desk refuses them because
that name is not in the directory.

A user's person is asked of the directory again KNOWN_SECONDS after it was found, as the console's credentials
are (bot/auth/guard.py): an LDAP or SCIM directory that maps the user to someone else, or to no one, is followed
within that time, not at the next restart. At most KNOWN_KEPT users are remembered, the least recently found
forgotten first.

A user's profile email, once read (users.info), is kept too (at most KNOWN_KEPT, the least recently read forgotten
first). While Slack cannot answer, the
directory is asked with the email read before, so a person mapped by email stays that person through a Slack
outage instead of becoming ``slack:<id>``, whose clicks the approval desk refuses. The directory's answer is
always fresh; only the profile's email may be as old as the outage.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from slack_sdk.web.async_client import AsyncWebClient

from actiondesk.bot.slack.client import FAILURES
from actiondesk.core.ports import Directory
from actiondesk.core.recent import Recent

log = logging.getLogger(__name__)

KNOWN_SECONDS = 30.0
KNOWN_KEPT = 10_000


def unmapped(user_id: str) -> str:
    return f"slack:{user_id}"


class SlackIdentity:
    def __init__(
        self,
        directory: Directory,
        client: AsyncWebClient,
        *,
        kept: int = KNOWN_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._directory = directory
        self._client = client
        self._clock = clock
        self._known: Recent[str, tuple[str, float]] = Recent(kept)  # user id → (person, when found)
        self._emails: Recent[str, str] = Recent(kept)  # user id → the profile email Slack gave last

    async def person(self, user_id: str) -> str:
        """The directory name of the Slack user, or ``slack:<id>`` when the directory does not know them."""
        known = self._known.get(user_id)
        if known is not None and self._clock() - known[1] < KNOWN_SECONDS:
            return known[0]
        found = await asyncio.to_thread(self._directory.find_person, slack_user_id=user_id)
        if found is None:
            email = await self._email(user_id)
            if email:
                found = await asyncio.to_thread(self._directory.find_person, email=email)
        if found is None:
            return unmapped(user_id)
        self._known.put(user_id, (found.name, self._clock()))
        return found.name

    async def _email(self, user_id: str) -> str | None:
        try:
            answer = await self._client.users_info(user=user_id)
        except FAILURES as exc:
            remembered = self._emails.get(user_id)
            log.warning(
                "slack: users.info for %s failed: %s%s",
                user_id,
                type(exc).__name__,
                "; asking the directory with the email Slack gave before" if remembered else "",
            )
            return remembered
        user = answer.get("user") or {}
        email = (user.get("profile") or {}).get("email")
        if not isinstance(email, str) or not email:
            self._emails.forget(user_id)
            return None
        self._emails.put(user_id, email)
        return email
