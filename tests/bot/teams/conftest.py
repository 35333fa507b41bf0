"""Fixtures of the Teams tests: the local token service and Bot Connector, and an HTTP client to post with."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from teams_fakes import Connector, TokenService


@pytest.fixture
async def parts() -> AsyncIterator[tuple[TokenService, Connector, httpx.AsyncClient]]:
    tokens, connector = TokenService(), Connector()
    await tokens.start_service()
    await connector.start_connector()
    async with httpx.AsyncClient(timeout=30) as http:
        yield tokens, connector, http
    await connector.stop()
    await tokens.stop()
