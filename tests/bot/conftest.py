"""Fixtures for the bot's tests: the system Chromium driven by Playwright.

Needs /usr/bin/chromium and the `playwright` package (its own browser downloads are not used). Without them
browser tests are skipped, unless ACTIONDESK_REQUIRE_BROWSER=1 (CI), which fails them instead.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_problem() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (install the distribution's chromium package)"
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    problem = _browser_problem()
    if problem is not None:
        if os.environ.get("ACTIONDESK_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here, but {problem}")
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()
