"""The keys that sign the Bot Framework's tokens: OpenID metadata → JWKS, fetched asynchronously and cached.

Refreshed when a day old, and on an unknown key id (at most once a minute, so a stream of made-up key ids
cannot turn into a stream of fetches). When the metadata endpoint is unreachable the cached keys are used
for up to a week; after that, and with no keys at all, every token is refused (fail closed).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import aiohttp
from jwt import PyJWK
from jwt.exceptions import PyJWKError

from actiondesk.bot.teams.config import safe_url
from actiondesk.core.errors import ActionDeskError

log = logging.getLogger(__name__)

MAX_AGE = 24 * 3600.0
STALE_LIMIT = 7 * 24 * 3600.0
MIN_REFRESH = 60.0


class KeysUnavailableError(ActionDeskError):
    """Raised when no usable signing keys can be had."""


@dataclass(frozen=True)
class SigningKey:
    key: PyJWK
    endorsements: frozenset[str]


@dataclass
class SigningKeys:
    metadata_url: str
    session: aiohttp.ClientSession
    min_refresh: float = MIN_REFRESH
    _keys: dict[str, SigningKey] = field(default_factory=dict)
    _fetched: float | None = None
    _tried: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, kid: str) -> SigningKey | None:
        now = time.monotonic()
        if self._fetched is None or now - self._fetched > MAX_AGE or kid not in self._keys:
            await self._refresh(force=self._tried is None)
        if self._fetched is None or time.monotonic() - self._fetched > STALE_LIMIT:
            raise KeysUnavailableError("no current signing keys: the OpenID metadata endpoint is unreachable")
        return self._keys.get(kid)

    async def _refresh(self, *, force: bool) -> None:
        async with self._lock:
            now = time.monotonic()
            if not force and self._tried is not None and now - self._tried < self.min_refresh:
                return
            self._tried = now
            try:
                self._keys = await self._fetch()
                self._fetched = time.monotonic()
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError, PyJWKError) as exc:
                log.warning("teams: cannot refresh signing keys from %s: %s", self.metadata_url, exc)

    async def _fetch(self) -> dict[str, SigningKey]:
        timeout = aiohttp.ClientTimeout(total=10)
        async with self.session.get(self.metadata_url, timeout=timeout) as response:
            response.raise_for_status()
            jwks_uri = str((await response.json(content_type=None))["jwks_uri"])
        if not safe_url(jwks_uri):
            raise ValueError(f"jwks_uri {jwks_uri!r} is neither https nor loopback")
        async with self.session.get(jwks_uri, timeout=timeout) as response:
            response.raise_for_status()
            document = await response.json(content_type=None)
        keys: dict[str, SigningKey] = {}
        for entry in document["keys"]:
            if entry.get("kty") != "RSA" or not entry.get("kid"):
                continue
            keys[str(entry["kid"])] = SigningKey(
                key=PyJWK(entry, algorithm="RS256"), endorsements=frozenset(entry.get("endorsements") or ())
            )
        log.info("teams: %d signing keys loaded", len(keys))
        return keys
