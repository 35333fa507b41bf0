"""Fixtures for the bot's tests: the system Chromium driven by Playwright (and a page confined to the module's
``server``), and the world of the clarifying conversation every surface is tested with.

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
    from playwright.sync_api import Browser, Page, Request, Route
    from serverproc import ServerProcess

CHROMIUM = Path("/usr/bin/chromium")
# Chromium is a process of its own (the socket guard of tests/conftest.py does not reach it): every name but
# localhost resolves to nothing, and its own background traffic (updates, sync, metrics, safe browsing) is off,
# so the browser only ever touches loopback; each page's context also aborts any request off the server.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-default-apps",
    "--no-first-run",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]",
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


@pytest.fixture
def page(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    """A fresh browser context that may only talk to the module's ``server``: anything else (a CDN, a web font)
    fails, and so does an uncaught error in the page."""
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    outside: list[str] = []
    page_errors: list[str] = []

    def only_local(route: Route, request: Request) -> None:
        if request.url.startswith(server.url) or request.url.startswith("data:"):
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    context.route("**/*", only_local)
    opened = context.new_page()
    opened.on("pageerror", lambda exc: page_errors.append(str(exc)))
    yield opened
    context.close()
    assert outside == [], f"the page tried to load from outside the server: {outside}"
    assert page_errors == [], f"uncaught errors in the page: {page_errors}"


# payment-gateway's bad deploy (its errors reach checkout, which calls it) and, at the same moment, errors on
# search with no change before them: "something is broken" names neither, so triage has two chains to choose
# from and asks. Answering checkout leads to the deploy; answering search to an honest abstention.
TWO_CHAINS = """
name: two-chains-of-trouble
events:
  - {at: 0, deploy: {service: payment-gateway, version: v2.5.0, commit: 9f3c2ab, author: dana}}
  - {at: 60, fault: {service: payment-gateway, kind: error_rate, value: 0.35}}
  - {at: 60, fault: {service: search, kind: error_rate, value: 0.25}}
  - {at: 120, message: {user: alice, text: "something is broken"}}
"""


@pytest.fixture(scope="session")
def two_chains(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scenario file (for ACTIONDESK_SANDBOX_SCENARIO) of the world with two chains of trouble."""
    path = tmp_path_factory.mktemp("scenario") / "two-chains.yaml"
    path.write_text(TWO_CHAINS)
    return path
