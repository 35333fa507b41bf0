"""The web console in a real headless Chromium, against the real server started as `python -m actiondesk serve`.

Needs /usr/bin/chromium and the `playwright` package (its own browser downloads are not used). Without them
the tests are skipped, unless ACTIONDESK_REQUIRE_BROWSER=1 (CI), which fails them instead.
"""

from __future__ import annotations

import re
import subprocess
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from serverproc import ServerProcess, keep_screenshot, server_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

STOP_TIMEOUT_SECONDS = 5.0
UI_TIMEOUT_MS = 30_000  # the case loop runs in the background; give it room on a slow CI machine
RESOLVE_TIMEOUT_MS = 90_000


@contextmanager
def _serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`python -m actiondesk serve` on port 0, on a fresh SQLite file; killed on leaving."""
    workdir = tmp_path_factory.mktemp("console")  # also the cwd, so no stray .env is read
    # a report of a service that looks fine is watched for 15 s (not 5 min) before it goes to people
    env = server_env(f"sqlite:///{workdir / 'a.db'}", ACTIONDESK_TRIAGE_WATCH_SECONDS="15")
    started = ServerProcess.start(env, cwd=workdir)
    started.url = started.url.rstrip("/")
    try:
        yield started
    finally:
        started.process.terminate()
        try:
            started.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            warnings.warn(f"the server did not stop within {STOP_TIMEOUT_SECONDS:.0f}s of SIGTERM", stacklevel=1)
            started.kill()


@pytest.fixture
def server(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server of each test's own: the suite's workers may run a module's tests in any order, so no test may
    build on what an earlier one did to a shared estate."""
    with _serving(tmp_path_factory) as started:
        yield started


def test_what_is_sent_while_you_are_changes_waits_for_the_new_session(page: Page, server: ServerProcess) -> None:
    """Changing "You are" ends the old session before the new one's cookie arrives: a message sent meanwhile waits
    for the switch and goes out as the new person (it went out as the old one, or with a cookie already ended:
    "the session expired")."""
    from playwright.sync_api import Route, expect

    page.goto(server.url + "/")
    user = page.get_by_test_id("user-select")
    expect(user).to_have_value("alice", timeout=UI_TIMEOUT_MS)
    held: list[Route] = []

    def hold(route: Route) -> None:  # the switch's sign-in is held until the message has been sent
        held.append(route)

    page.route("**/auth/demo", hold)
    user.select_option("bob")
    while not held:
        page.wait_for_timeout(20)
    page.get_by_test_id("chat-input").fill("the payment gateway is throwing 500s")
    page.get_by_test_id("chat-send").click()
    page.wait_for_timeout(300)  # time for the message's request to go out, were it not waiting
    held[0].continue_()
    expect(page.get_by_test_id("case-meta")).to_contain_text("reported by bob", timeout=UI_TIMEOUT_MS)
    expect(page.get_by_test_id("banner")).to_be_hidden()


def test_reporter_cannot_approve_then_sre_approves_and_the_case_resolves(
    page: Page, server: ServerProcess, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(server.url + "/")
    user = page.get_by_test_id("user-select")
    expect(user).to_have_value("alice", timeout=UI_TIMEOUT_MS)  # the first person in group support

    page.get_by_test_id("chat-input").fill("the payment gateway is throwing 500s")
    page.get_by_test_id("chat-send").click()

    messages = page.get_by_test_id("message")
    expect(messages.first).to_contain_text("the payment gateway is throwing 500s", timeout=UI_TIMEOUT_MS)
    expect(page.locator("[data-testid='case-item'][aria-current='true']")).to_contain_text("payment gateway")

    finding = page.get_by_test_id("finding")
    expect(finding.get_by_test_id("culprit-version")).to_have_text("v2.5.0", timeout=UI_TIMEOUT_MS)
    expect(finding.get_by_test_id("culprit-commit")).to_have_text("9f3c2ab")
    expect(finding.get_by_test_id("evidence-item").first).to_be_visible()

    card = page.get_by_test_id("approval-card")
    expect(card).to_have_attribute("data-status", "pending", timeout=UI_TIMEOUT_MS)
    expect(card.get_by_test_id("approval-action")).to_have_text("rollback_deployment")
    expect(card.get_by_test_id("approval-target")).to_have_text("payment-gateway")
    expect(card.get_by_test_id("approval-params")).to_contain_text("v2.4.1")
    expect(card.get_by_test_id("approval-group")).to_contain_text("sre")
    expect(card.get_by_test_id("approval-reasons")).not_to_be_empty()
    expect(card.get_by_test_id("approval-expires")).not_to_be_empty()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "awaiting_approval")
    expect(page.get_by_test_id("plan-step")).to_have_attribute("data-status", "awaiting_approval")

    # alice reported the incident and is not in sre: the server refuses, and the page says why.
    card.get_by_test_id("approve-button").click()
    error = card.get_by_test_id("error")
    expect(error).to_be_visible(timeout=UI_TIMEOUT_MS)
    expect(error).to_contain_text("alice is not in the approver group sre")
    expect(card).to_have_attribute("data-status", "pending")

    user.select_option("bob")
    expect(error).to_have_count(0)
    card.get_by_test_id("approve-button").click()

    expect(card).to_have_attribute("data-status", "approved", timeout=UI_TIMEOUT_MS)
    expect(card.get_by_test_id("decided-by")).to_have_text("bob")
    expect(page.get_by_test_id("plan-step")).to_have_attribute("data-status", "succeeded", timeout=RESOLVE_TIMEOUT_MS)
    expect(messages.filter(has_text="Verified")).to_have_count(1, timeout=RESOLVE_TIMEOUT_MS)
    # no ACTIONDESK_PUBLIC_URL: the post-mortem message links to the console at the address serve bound
    link = re.compile(re.escape(server.url) + r"/#case=C-[0-9a-f]+")
    expect(messages.filter(has_text="Post-mortem written")).to_contain_text(link, timeout=RESOLVE_TIMEOUT_MS)
    status = page.get_by_test_id("case-status")
    expect(status).to_have_attribute("data-status", "resolved", timeout=RESOLVE_TIMEOUT_MS)
    expect(status).to_have_text("resolved")
    expect(page.get_by_test_id("case-item").first).to_have_attribute("data-status", "resolved", timeout=UI_TIMEOUT_MS)

    # The audit trail, entry by entry, including alice's refused click.
    timeline = page.get_by_test_id("timeline")
    timeline.locator("summary").click()
    entries = timeline.get_by_test_id("timeline-entry")
    expect(entries.and_(page.locator("[data-kind='case_resolved']"))).to_have_count(1)
    expect(entries.and_(page.locator("[data-kind='approval']")).filter(has_text="refused by alice")).to_have_count(1)
    expect(entries.and_(page.locator("[data-kind='approval']")).filter(has_text="approved by bob")).to_have_count(1)
    expect(entries.first).to_have_attribute("data-kind", "case_opened")  # sign-ins come before, outside the case

    # The post-mortem, written from the stored facts when the incident resolved.
    postmortem = page.get_by_test_id("postmortem")
    expect(postmortem).to_be_visible(timeout=UI_TIMEOUT_MS)
    for section in ("## Summary", "## Impact", "## Timeline", "## Root cause", "## Approvals", "## Follow-ups"):
        expect(postmortem).to_contain_text(section)
    expect(postmortem).to_contain_text("commit 9f3c2ab")
    expect(postmortem).to_contain_text("approved by bob")
    download = page.get_by_test_id("postmortem-download")
    expect(download).to_have_attribute("href", re.compile(r"^/api/cases/C-[0-9a-f]+/postmortem\?format=md$"))
    text = page.request.get(server.url + str(download.get_attribute("href"))).text()
    assert text.startswith("# Post-mortem C-")
    assert "## What would have caught it earlier" in text

    page.get_by_test_id("details").evaluate("panel => { panel.scrollTop = 0; }")
    page.screenshot(path=str(tmp_path / "console-resolved.png"))
    keep_screenshot(page, "console.png")


def test_a_handed_off_case_names_its_owner_and_take_it_picks_it_up(page: Page, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    page.goto(server.url + "/")
    user = page.get_by_test_id("user-select")
    expect(user).to_have_value("alice", timeout=UI_TIMEOUT_MS)
    # first payment-gateway's bad deploy is rolled back, approved by bob (sre)
    page.get_by_test_id("chat-input").fill("the payment gateway is throwing 500s")
    page.get_by_test_id("chat-send").click()
    card = page.get_by_test_id("approval-card")
    expect(card).to_have_attribute("data-status", "pending", timeout=UI_TIMEOUT_MS)
    user.select_option("bob")
    card.get_by_test_id("approve-button").click()
    status = page.get_by_test_id("case-status")
    expect(status).to_have_attribute("data-status", "resolved", timeout=RESOLVE_TIMEOUT_MS)

    page.get_by_test_id("new-case").click()
    user.select_option("alice")
    page.get_by_test_id("chat-input").fill("payment gateway looks broken to me")
    page.get_by_test_id("chat-send").click()

    # payment-gateway was just rolled back: triage watches it come back, then, with search still slow, asks which
    # one is meant
    question = page.get_by_test_id("question")
    expect(question).to_have_attribute("data-open", "true", timeout=RESOLVE_TIMEOUT_MS)
    question.locator("[data-choice='payment-gateway']").click()
    owner = page.get_by_test_id("owner-card")
    expect(owner).to_be_visible(timeout=RESOLVE_TIMEOUT_MS)  # watched, nothing wrong to fix: handed to people
    expect(page.get_by_test_id("owner-team")).to_have_text("payments on-call")
    expect(page.get_by_test_id("owner-people")).to_contain_text("Handed to payments on-call: grace (payments-oncall)")
    user.select_option("grace")
    page.get_by_test_id("take-it").click()
    expect(page.get_by_test_id("owner-picked-up")).to_contain_text("grace has it", timeout=UI_TIMEOUT_MS)
    expect(page.get_by_test_id("take-it")).to_have_count(0)
    expect(page.get_by_test_id("postmortem-card")).to_be_hidden()


def test_server_text_is_shown_as_text_and_new_case_clears_the_selection(page: Page, server: ServerProcess) -> None:
    from playwright.sync_api import expect

    markup = '<img src="/x" onerror="window.pwned = 1"><b>bold</b> my keyboard is sticky'
    page.goto(server.url + "/")
    expect(page.get_by_test_id("user-select")).to_have_value("alice", timeout=UI_TIMEOUT_MS)
    page.get_by_test_id("chat-input").fill(markup)
    page.get_by_test_id("chat-send").click()

    first = page.get_by_test_id("message").first
    expect(first.get_by_test_id("message-text")).to_have_text(markup, timeout=UI_TIMEOUT_MS)
    expect(page.get_by_test_id("case-title")).to_have_text(markup[:80])
    expect(page.get_by_test_id("messages").locator("img, b")).to_have_count(0)
    expect(page.get_by_test_id("case-list").locator("img, b")).to_have_count(0)
    assert page.evaluate("window.pwned") is None

    page.get_by_test_id("new-case").click()
    expect(page.get_by_test_id("welcome")).to_be_visible()
    expect(page.get_by_test_id("chat-input")).to_have_attribute("placeholder", re.compile("opens a new case"))
    expect(page.locator(".case-item.active")).to_have_count(0)
