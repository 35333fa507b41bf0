"""The dashboard lists the changes CI/CD posted, in headless Chromium against a real server."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from serverproc import ServerProcess, server_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

TOKEN = "a-pipeline-token-0123456789"


def test_a_posted_deploy_shows_in_the_dashboards_changes(browser: Browser, tmp_path: Path) -> None:
    env = server_env(f"sqlite:///{tmp_path / 'a.db'}", ACTIONDESK_CHANGES_TOKEN=TOKEN)
    server = ServerProcess.start(env, cwd=tmp_path)
    try:
        body = {
            "id": "ci-77",
            "service": "payment-gateway",
            "kind": "deploy",
            "version": "v2.5.0",
            "previous_version": "v2.4.9",
            "author": "release-bot",
        }
        posted = httpx.post(f"{server.url}/api/changes", json=body, headers={"Authorization": f"Bearer {TOKEN}"})
        assert posted.status_code == 201, posted.text
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{server.url.rstrip('/')}/dashboard")
        page.wait_for_selector("[data-testid='changes-body'][data-loaded='1']", timeout=30_000)
        cells = page.locator("[data-testid='changes-body'] tr[data-change='ci-77'] td").all_inner_texts()
        assert cells[1:] == ["payment-gateway", "deploy", "v2.4.9 \u2192 v2.5.0", "release-bot", "api"]
        assert errors == []
        page.context.close()
    finally:
        server.stop()
