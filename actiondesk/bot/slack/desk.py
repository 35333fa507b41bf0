"""What every Slack listener works with: the front desk, the case worker, identity, threads and progress."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from actiondesk.agents.desk import FrontDesk
from actiondesk.bot.jobs.worker import CaseWorker
from actiondesk.bot.reports.metrics import Figures
from actiondesk.bot.slack.client import FAILURES
from actiondesk.bot.slack.identity import SlackIdentity
from actiondesk.bot.slack.progress import Progress
from actiondesk.bot.slack.threads import Threads

log = logging.getLogger(__name__)

Where = tuple[str, str | None]  # channel, thread ts: where a click happened, and where refusals are shown


def origin(body: dict[str, Any]) -> Where:
    """The channel and thread of the message a click (block_actions) came from."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    return str(channel), container.get("thread_ts")


@dataclass
class SlackDesk:
    front: FrontDesk
    worker: CaseWorker
    client: AsyncWebClient
    identity: SlackIdentity
    threads: Threads
    progress: Progress
    figures: Figures  # the period's figures a status reply shows
    outbox: Callable[[], str | None]  # the outbox's line in a status reply (None: nothing waits)

    async def first_time(self, key: str, source: str) -> bool:
        """Record a delivery key (event id, trigger id) before any side effect; False for a retry or replay."""

        fresh = await asyncio.to_thread(self.front.remember, key, source)
        if not fresh:
            log.info("slack: %s %s delivered again; ignored", source, key)
        return fresh

    async def ephemeral(
        self, channel: str, user: str, text: str, *, thread_ts: str | None = None, blocks: list[Any] | None = None
    ) -> None:
        """A message only ``user`` sees; refusals and errors go here, never to the whole channel."""
        try:
            await self.client.chat_postEphemeral(
                channel=channel, user=user, text=text, thread_ts=thread_ts, blocks=blocks
            )
        except FAILURES as exc:
            log.warning("slack: ephemeral message to %s failed: %s", user, type(exc).__name__)
