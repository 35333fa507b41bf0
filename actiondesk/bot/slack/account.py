"""The bot's own Slack account (auth.test: its user id, its bot id, its workspace), learned off the ack path.

Bolt's single-workspace authorization calls auth.test when the first request arrives, before any listener, and
again on every request until one call succeeds. While Slack's Web API could not be reached (an egress proxy or
DNS down at start), every request waited out the client's connection retries, about 3 s and past Slack's ack
deadline, then got a 500. A report sent then was lost once Slack's own retries ran out.

Here the account is asked for when the surface starts, then again with a growing pause until Slack answers.
Bolt authorizes each request from what is known so far, without a call to Slack. Until the account is known, a
request carries the bot token and no ids. Our own messages are still recognised by their bot_id
(conversations.from_a_bot), and a mention in a thread reaches its case once, however many events carry it
(conversations.py keys a delivery by its message).
"""

from __future__ import annotations

import asyncio
import logging

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from actiondesk.bot.jobs.outbox import backoff
from actiondesk.bot.slack.client import FAILURES

log = logging.getLogger(__name__)

FIRST_PAUSE = 1.0  # seconds before auth.test is asked again after a failure, doubled each time
LONGEST_PAUSE = 300.0


class BotAccount(AsyncAuthorize):
    """Bolt's ``authorize``: the bot token with the account's ids once auth.test has answered."""

    def __init__(self, client: AsyncWebClient, bot_token: str) -> None:
        self._client = client
        self._token = bot_token
        self.known: AuthorizeResult | None = None

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult:
        known = self.known
        if known is None:
            return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=self._token, user_id=user_id)
        return AuthorizeResult(
            enterprise_id=known.enterprise_id,
            team_id=known.team_id,
            team=known.team,
            url=known.url,
            bot_id=known.bot_id,
            bot_user_id=known.bot_user_id,
            bot_token=self._token,
            bot_scopes=known.bot_scopes,
            user_id=user_id,
        )

    async def learn(self, first_pause: float = FIRST_PAUSE, longest_pause: float = LONGEST_PAUSE) -> None:
        """Ask auth.test until Slack answers (a task of the surface, cancelled when it stops)."""
        failures = 0
        while self.known is None:
            try:
                answer = await self._client.auth_test()
            except FAILURES as exc:
                failures += 1
                why = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
                pause = backoff(failures, first_pause, longest_pause)
                # the first failure is an error (a refused token needs a person), the ones after it are its echo
                (log.error if failures == 1 else log.warning)(
                    "slack: auth.test failed (%s), try %d; events are acked without the bot's ids, asking again in "
                    "%.0f s",
                    why,
                    failures,
                    pause,
                )
                await asyncio.sleep(pause)
                continue
            scopes = answer.headers.get("x-oauth-scopes") if answer.headers else None
            known = AuthorizeResult(
                enterprise_id=answer.get("enterprise_id"),
                team_id=answer.get("team_id"),
                team=answer.get("team"),
                url=answer.get("url"),
                bot_id=answer.get("bot_id"),
                bot_user_id=answer.get("user_id"),
                bot_token=self._token,
                bot_scopes=scopes,
            )
            self.known = known
            log.info("slack: signed in as %s (bot %s) in %s", known.bot_user_id, known.bot_id, known.team)
