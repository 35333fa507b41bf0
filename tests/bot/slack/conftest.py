"""Fixtures: a local fake Slack, and the ActionDesk server talking to it (see slackdesk.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slackdesk import Desk, start_desk
from slackfake import FakeSlack

from actiondesk.bot.slack.scopes import METHOD_SCOPES


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    slack = await FakeSlack().start()
    yield slack
    await slack.stop()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'slack.db'}"


@pytest.fixture
async def desk(sqlite_url: str, fake: FakeSlack) -> AsyncIterator[Desk]:
    running, runner = await start_desk(sqlite_url, fake)
    yield running
    await running.session.close()
    await runner.cleanup()
    called = {c.method.split("#")[0] for c in fake.calls} - {"response_url"}
    assert called <= set(METHOD_SCOPES), f"methods outside manifest.yml's scopes: {called - set(METHOD_SCOPES)}"
