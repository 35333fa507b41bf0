"""The bot's Web API client: Slack's own base URL or a local one, and it honours 429 Retry-After."""

from __future__ import annotations

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from actiondesk.bot.slack.config import SlackConfig

RATE_LIMIT_RETRIES = 5
# What a Web API call can raise: Slack's answer was not ok (after the retries), or the network failed.
FAILURES = (SlackApiError, ClientError, OSError, TimeoutError)


def make_client(config: SlackConfig, *, signed_in: bool = True) -> AsyncWebClient:
    """A client whose rate-limited calls sleep Retry-After (plus jitter) on the event loop, then retry.

    The sleep is an asyncio sleep, so other channels and cases keep flowing while one call waits. Bolt's client is
    not ``signed_in``: each request's copy of it takes the token from the authorization (account.py).
    """
    return AsyncWebClient(
        token=config.bot_token if signed_in else None,
        base_url=config.api_url if config.api_url.endswith("/") else config.api_url + "/",
        timeout=10,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
        ],
    )
