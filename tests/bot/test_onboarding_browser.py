"""The console's onboarding form in a real headless Chromium against `actiondesk serve`, with the sandbox's
procurement down (a scenario's prelude): bad fields are shown under each field and nothing opens; a good form
opens the request, its account is confirmed, the hardware order fails and stops the chain, and Compensate opens
the governed undo, which disables the account."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from serverproc import ServerProcess, server_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

UI_TIMEOUT_MS = 60_000
SCENARIO = """name: procurement-down
events:
  - {at: 0, fault: {system: procurement, kind: unavailable}}
"""


@pytest.fixture(scope="module")
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("onboarding-console")
    (workdir / "down.yaml").write_text(SCENARIO)
    env = server_env(
        f"sqlite:///{workdir / 'a.db'}",
        ACTIONDESK_SANDBOX_SCENARIO=str(workdir / "down.yaml"),
        ACTIONDESK_AUTONOMY=json.dumps({"tier:3": 3}),
    )
    started = ServerProcess.start(env, cwd=workdir)
    started.url = started.url.rstrip("/")
    yield started
    started.process.terminate()
    try:
        started.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        started.kill()


@pytest.fixture
def page(browser: Browser, server: ServerProcess) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    yield opened
    context.close()
    assert errors == [], f"uncaught errors in the page: {errors}"


def test_the_form_checks_fields_then_a_stopped_request_is_compensated(page: Page, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    page.goto(server.url + "/")
    expect(page.get_by_test_id("user-select")).to_have_value("alice", timeout=UI_TIMEOUT_MS)
    page.get_by_test_id("user-select").select_option("bob")
    page.get_by_test_id("onboard").locator("summary").click()
    form = page.get_by_test_id("onboard-form")
    expect(form.get_by_test_id("onboard-role").locator("option")).to_have_count(4, timeout=UI_TIMEOUT_MS)

    form.get_by_test_id("onboard-name").fill("Jane")
    form.get_by_test_id("onboard-manager").fill("nobody")
    form.get_by_test_id("onboard-submit").click()
    expect(form.locator("[data-error='name']")).to_contain_text("first and last name", timeout=UI_TIMEOUT_MS)
    expect(form.locator("[data-error='role']")).to_contain_text("pick a role")
    expect(form.locator("[data-error='manager']")).to_contain_text("no person 'nobody'")
    expect(page.get_by_test_id("case-item")).to_have_count(0)

    form.get_by_test_id("onboard-name").fill("Jane Doe")
    form.get_by_test_id("onboard-role").select_option("data-analyst")
    form.get_by_test_id("onboard-start").fill("2030-01-07")
    form.get_by_test_id("onboard-manager").fill("bob")
    form.get_by_test_id("onboard-submit").click()

    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "failed", timeout=UI_TIMEOUT_MS)
    steps = page.get_by_test_id("plan-step")
    expect(steps.first).to_have_attribute("data-status", "succeeded")
    expect(steps.first.get_by_test_id("plan-step-confirmation")).to_contain_text("identity confirmed:")
    expect(steps.nth(1)).to_have_attribute("data-status", "failed")
    expect(page.get_by_test_id("message").filter(has_text="Completed: create_account jdoe")).to_have_count(1)

    page.get_by_test_id("compensate").click()
    expect(page.get_by_test_id("plan-runbook")).to_have_text("compensation", timeout=UI_TIMEOUT_MS)
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "resolved", timeout=UI_TIMEOUT_MS)
    expect(page.get_by_test_id("plan-step")).to_contain_text("disable_account")
