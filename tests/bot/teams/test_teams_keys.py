"""TESTPLAN B12: signing keys rotate without downtime; an unreachable metadata endpoint falls back to the
cached keys; with no keys at all every token is refused; made-up key ids cannot force a fetch each."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from teams_fakes import Key, TokenService

from actiondesk.bot.teams.keys import KeysUnavailableError, SigningKeys


@pytest.fixture
async def service() -> AsyncIterator[TokenService]:
    tokens = TokenService()
    await tokens.start_service()
    yield tokens
    await tokens.stop()


def fetches(tokens: TokenService) -> int:
    return len([c for c in tokens.calls if c.path == "/keys"])


async def test_a_rotated_key_is_picked_up_on_first_sight(service):
    async with aiohttp.ClientSession() as session:
        keys = SigningKeys(f"{service.url}/openid", session, min_refresh=0)
        assert await keys.get("test-key-1") is not None
        rotated = Key(kid="test-key-2")
        service.keys = [rotated]
        found = await keys.get("test-key-2")
        assert found is not None
        assert "msteams" in found.endorsements


async def test_unknown_key_ids_do_not_each_cause_a_fetch(service):
    async with aiohttp.ClientSession() as session:
        keys = SigningKeys(f"{service.url}/openid", session, min_refresh=3600)
        assert await keys.get("test-key-1") is not None
        for n in range(20):
            assert await keys.get(f"made-up-{n}") is None
        assert fetches(service) == 1


async def test_cached_keys_survive_an_unreachable_metadata_endpoint(service):
    async with aiohttp.ClientSession() as session:
        keys = SigningKeys(f"{service.url}/openid", session, min_refresh=0)
        assert await keys.get("test-key-1") is not None
        await service.stop()
        assert await keys.get("test-key-1") is not None
        assert await keys.get("never-seen") is None


async def test_no_keys_at_all_fails_closed():
    async with aiohttp.ClientSession() as session:
        keys = SigningKeys("http://127.0.0.1:9/openid", session, min_refresh=0)
        with pytest.raises(KeysUnavailableError):
            await keys.get("test-key-1")


async def test_a_failing_endpoint_is_not_hammered_before_the_first_keys(service):
    service.down = True
    async with aiohttp.ClientSession() as session:
        keys = SigningKeys(f"{service.url}/openid", session, min_refresh=3600)
        for _ in range(5):
            with pytest.raises(KeysUnavailableError):
                await keys.get("test-key-1")
    assert len([c for c in service.calls if c.path == "/openid"]) == 1
