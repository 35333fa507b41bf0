"""Bot Framework tokens: checking the channel's inbound JWT, and getting the bot's own outbound token.

The inbound rules are botbuilder's channel validation, done here (asynchronously, and with every failure a
refusal instead of an exception of any type): Bearer scheme, RS256/RS384/RS512 only, a known key id whose
endorsements include the activity's channel, the Bot Framework issuer, the bot's app id as audience,
expiry with 5 minutes of clock skew, and a ``serviceurl`` claim equal to the activity's serviceUrl.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import aiohttp
import jwt

from actiondesk.bot.teams.config import TeamsConfig
from actiondesk.bot.teams.keys import KeysUnavailableError, SigningKeys
from actiondesk.core.errors import ActionDeskError, ConfigurationError

log = logging.getLogger(__name__)

ALGORITHMS = ("RS256", "RS384", "RS512")
SKEW_SECONDS = 5 * 60


class TokenRejectedError(ActionDeskError):
    """Raised when an inbound request is not authenticated (401) or not meant for this bot (403)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


async def check_channel_token(
    header: str, *, config: TeamsConfig, keys: SigningKeys, channel_id: str, service_url: str
) -> dict[str, object]:
    """The verified claims of the request's token; raise TokenRejectedError."""
    scheme, _, token = header.partition(" ")
    if scheme != "Bearer" or not token.strip():
        raise TokenRejectedError(401, "missing or malformed Authorization header")
    token = token.strip()
    try:
        head = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRejectedError(401, "malformed token") from None
    alg = head.get("alg")
    if alg not in ALGORITHMS:
        raise TokenRejectedError(401, f"token algorithm {alg!r} is not allowed")
    kid = head.get("kid")
    if not isinstance(kid, str) or not kid:
        raise TokenRejectedError(401, "token has no key id")
    try:
        signing = await keys.get(kid)
    except KeysUnavailableError as exc:
        raise TokenRejectedError(401, str(exc)) from None
    if signing is None:
        raise TokenRejectedError(401, "token signed by an unknown key")
    try:
        claims = jwt.decode(
            token,
            signing.key.key,
            algorithms=[alg],
            issuer=config.issuer,
            leeway=SKEW_SECONDS,
            options={"require": ["exp", "iss", "aud"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError:
        raise TokenRejectedError(401, "token expired") from None
    except jwt.InvalidIssuerError:
        raise TokenRejectedError(401, "token issuer is not the Bot Framework") from None
    except jwt.PyJWTError as exc:
        raise TokenRejectedError(401, f"token rejected: {type(exc).__name__}") from None
    if signing.endorsements and channel_id not in signing.endorsements:
        raise TokenRejectedError(403, f"signing key is not endorsed for channel {channel_id!r}")
    if claims.get("aud") != config.app_id:
        raise TokenRejectedError(403, "token audience is not this bot")
    if claims.get("serviceurl") != service_url:
        raise TokenRejectedError(403, "token serviceurl claim differs from the activity's serviceUrl")
    return claims


@dataclass
class TokenSource:
    """The bot's outbound token: OAuth2 client credentials against the configured token endpoint, cached."""

    config: TeamsConfig
    session: aiohttp.ClientSession
    _token: str = ""
    _expires: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def token(self) -> str:
        async with self._lock:
            if self._token and time.monotonic() < self._expires - 300:
                return self._token
            form = {
                "grant_type": "client_credentials",
                "client_id": self.config.app_id,
                "client_secret": self.config.password,
                "scope": self.config.scope,
            }
            try:
                async with self.session.post(
                    self.config.oauth_url, data=form, timeout=aiohttp.ClientTimeout(total=15)
                ) as response:
                    body = await response.json(content_type=None)
                    if response.status != 200 or "access_token" not in body:
                        error = body.get("error", response.status) if isinstance(body, dict) else response.status
                        raise ConfigurationError(f"the token endpoint refused the bot's credentials: {error}")
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                raise ConfigurationError(f"cannot reach the token endpoint: {type(exc).__name__}") from None
            self._token = str(body["access_token"])
            self._expires = time.monotonic() + float(body.get("expires_in", 3600))
            return self._token
