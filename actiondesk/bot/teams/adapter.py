"""botbuilder's CloudAdapter, with ActionDesk's token checks and outbound credentials plugged into it.

botbuilder's own channel validation fetches keys with blocking ``requests`` on the event loop, raises an
IndexError for an unknown key id and plain Exceptions for a bad algorithm or signature (500s), and its
stock credentials (MSAL) refuse a non-https token endpoint. So inbound tokens are checked by
``tokens.check_channel_token`` and outbound tokens come from ``tokens.TokenSource``; everything else — turn
contexts, the Bot Connector client, invoke responses, proactive turns — is botbuilder's.
"""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any
from urllib.parse import urlsplit

from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from msrest.pipeline.async_abc import AsyncHTTPPolicy

from actiondesk.bot.teams.config import TeamsConfig, is_loopback, safe_url
from actiondesk.bot.teams.keys import SigningKeys
from actiondesk.bot.teams.tokens import TokenRejectedError, TokenSource, check_channel_token

log = logging.getLogger(__name__)


RETRIED = frozenset({412, 429, 502, 503, 504})
ATTEMPTS = 4
MAX_WAIT = 10.0


def _wait(attempt: int, retry_after: str | None) -> float:
    """Retry-After when the Bot Connector names one, else exponential backoff with full jitter."""
    try:
        if retry_after is not None:
            return min(MAX_WAIT, max(0.0, float(retry_after)))
    except ValueError:
        pass
    return random.uniform(0, min(MAX_WAIT, 0.5 * 2**attempt))


class ConnectorPolicy(AsyncHTTPPolicy[Any, Any]):
    """The bot's token on each Bot Connector request (none in development mode), and retries of 412, 429
    and 5xx gateway answers that honour Retry-After. One per client: a policy is a link in a pipeline."""

    def __init__(self, source: TokenSource | None) -> None:
        super().__init__()
        self._source = source

    async def send(self, request, **kwargs):  # type: ignore[no-untyped-def]  # msrest's untyped signature
        for attempt in range(ATTEMPTS):
            if self._source is not None:
                request.http_request.headers["Authorization"] = f"Bearer {await self._source.token()}"
            assert self.next is not None  # a policy always has its next link in a built pipeline
            response = await self.next.send(request, **kwargs)
            status = response.http_response.status_code
            if status not in RETRIED or attempt == ATTEMPTS - 1:
                return response
            wait = _wait(attempt, response.http_response.headers.get("Retry-After"))
            log.warning("teams: Bot Connector answered %d; retrying in %.1f s", status, wait)
            await asyncio.sleep(wait)
        return response


class Connectors(ConnectorFactory):
    """Bot Connector clients for a serviceUrl that passed authentication (https, or loopback)."""

    def __init__(self, config: TeamsConfig, tokens: TokenSource) -> None:
        self._config = config
        self._tokens = tokens

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        if not safe_url(service_url):
            raise TokenRejectedError(403, "serviceUrl must be https (plain http only for loopback)")
        return ConnectorClient(
            ConnectorPolicy(None if self._config.development else self._tokens), base_url=service_url
        )


class TeamsAuthentication(BotFrameworkAuthentication):
    def __init__(self, config: TeamsConfig, keys: SigningKeys, tokens: TokenSource) -> None:
        self._config = config
        self._keys = keys
        self._connectors = Connectors(config, tokens)

    async def authenticate_request(self, activity, auth_header: str) -> AuthenticateRequestResult:  # type: ignore[no-untyped-def]
        """Raise TokenRejectedError (401/403) for anything that is not a valid channel request."""
        service_url = activity.service_url or ""
        if self._config.development:
            if not (safe_url(service_url) and is_loopback(urlsplit(service_url).hostname)):
                raise TokenRejectedError(403, "local development mode accepts only loopback serviceUrls")
            identity = ClaimsIdentity({}, True, "anonymous")
        else:
            claims = await check_channel_token(
                auth_header or "",
                config=self._config,
                keys=self._keys,
                channel_id=activity.channel_id or "",
                service_url=service_url,
            )
            identity = ClaimsIdentity(claims, True)
        result = AuthenticateRequestResult()
        result.claims_identity = identity
        result.audience = self._config.scope.removesuffix("/.default")
        result.caller_id = None
        result.connector_factory = self._connectors
        return result

    async def authenticate_streaming_request(self, auth_header: str, channel_id_header: str):  # type: ignore[no-untyped-def]
        raise TokenRejectedError(401, "streaming connections are not supported")

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._connectors

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient | None:
        return None  # no user sign-in flows: the bot acts only as itself


def build_adapter(auth: TeamsAuthentication) -> CloudAdapter:
    adapter = CloudAdapter(auth)

    async def on_error(context, error: Exception) -> None:  # type: ignore[no-untyped-def]
        log.error("teams: turn failed: %s", error, exc_info=error)

    adapter.on_turn_error = on_error
    return adapter
