"""Sign-in through a real OpenID Connect provider (the `oidc-provider` package, on loopback) in headless Chromium.

alice and bob each sign in at the provider's login form; the console shows who they are (no "You are" switcher,
no demo banner); alice reports and cannot approve; bob approves as himself; nobody can act as someone else:
a body naming another person is refused, and without a session or token every write is 401 and changes nothing.
Chromium keeps the ``Secure`` session cookie over plain http because 127.0.0.1 is a loopback (secure) origin.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import httpx
import pytest
from oidcserver import CLIENT_ID, CLIENT_SECRET, OidcProvider, require
from serverproc import ServerProcess, server_env

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.browser

UI_TIMEOUT_MS = 30_000
RESOLVE_TIMEOUT_MS = 90_000


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    require()
    started = OidcProvider.start()
    yield started
    started.stop()


def _oidc_env(database_url: str, issuer: str, **extra: str) -> dict[str, str]:
    return server_env(
        database_url,
        ACTIONDESK_OIDC_ISSUER=issuer,
        ACTIONDESK_OIDC_CLIENT_ID=CLIENT_ID,
        ACTIONDESK_OIDC_CLIENT_SECRET=CLIENT_SECRET,
        **extra,
    )


@pytest.fixture(scope="module")
def server(
    browser: Browser, provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    workdir = tmp_path_factory.mktemp("signin")
    started = ServerProcess.start(_oidc_env(f"sqlite:///{workdir / 'a.db'}", provider.issuer), cwd=workdir)
    started.url = started.url.rstrip("/")
    provider.register(started.url + "/auth/callback")
    yield started
    started.stop()


def _context(browser: Browser, server: ServerProcess, provider: OidcProvider) -> BrowserContext:
    """A browser that may talk to ActionDesk and the provider only."""
    context = browser.new_context(viewport={"width": 1440, "height": 960})

    def only_local(route, request) -> None:  # type: ignore[no-untyped-def]
        allowed = (server.url, provider.issuer, "data:")
        route.continue_() if request.url.startswith(allowed) else route.abort()

    context.route("**/*", only_local)
    return context


def _sign_in(page: Page, server: ServerProcess, provider: OidcProvider, login: str) -> None:
    from playwright.sync_api import expect

    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile("^" + re.escape(provider.issuer)), timeout=UI_TIMEOUT_MS)
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("anything")
    page.locator("button[type=submit]").click()
    consent = page.locator("button[type=submit]")  # the provider asks to authorise ActionDesk once per account
    expect(consent).to_be_visible(timeout=UI_TIMEOUT_MS)
    consent.click()
    expect(page.get_by_test_id("signed-in-as")).to_have_text(login, timeout=UI_TIMEOUT_MS)


def test_sign_in_approve_as_the_signed_in_approver_and_nobody_else(
    browser: Browser, server: ServerProcess, provider: OidcProvider
) -> None:
    from playwright.sync_api import expect

    alice_context, bob_context = _context(browser, server, provider), _context(browser, server, provider)
    try:
        alice = alice_context.new_page()
        _sign_in(alice, server, provider, "alice")
        expect(alice.get_by_test_id("demo-banner")).to_be_hidden()
        expect(alice.get_by_test_id("demo-whoami")).to_be_hidden()
        cookies = {c["name"]: c for c in alice_context.cookies(server.url)}
        session = cookies["__Host-actiondesk_session"]
        assert (session["httpOnly"], session["secure"], session["sameSite"]) == (True, True, "Lax")

        alice.get_by_test_id("chat-input").fill("the payment gateway is throwing 500s")
        alice.get_by_test_id("chat-send").click()
        card = alice.get_by_test_id("approval-card")
        expect(card).to_have_attribute("data-status", "pending", timeout=UI_TIMEOUT_MS)
        card.get_by_test_id("approve-button").click()
        expect(card.get_by_test_id("error")).to_contain_text(
            "alice is not in the approver group sre", timeout=UI_TIMEOUT_MS
        )

        # alice cannot act as bob: a body that names a person is refused, whatever it says
        impersonation = alice.evaluate(
            """async () => {
                const approval = document.querySelector('[data-testid=approval-card]').dataset.approvalId;
                const body = JSON.stringify({decision: 'approve', user: 'bob'});
                const r = await fetch('/api/approvals/' + approval,
                    {method: 'POST', headers: {'Content-Type': 'application/json'}, body});
                return [r.status, await r.text()];
            }"""
        )
        assert impersonation[0] == 400, impersonation
        expect(card).to_have_attribute("data-status", "pending")

        # without a session or a token every write is 401 and changes nothing
        approval_id = card.get_attribute("data-approval-id")
        with httpx.Client(base_url=server.url, timeout=10) as anonymous:
            for path, body in (
                ("/api/cases", {"text": "let me in"}),
                (f"/api/approvals/{approval_id}", {"decision": "approve"}),
            ):
                assert anonymous.post(path, json=body).status_code == 401
            assert anonymous.get("/api/cases").status_code == 401
            assert anonymous.get("/", follow_redirects=False).status_code == 302

        bob = bob_context.new_page()
        _sign_in(bob, server, provider, "bob")
        bob.get_by_test_id("case-item").first.click()
        bob_card = bob.get_by_test_id("approval-card")
        expect(bob_card).to_have_attribute("data-status", "pending", timeout=UI_TIMEOUT_MS)
        bob_card.get_by_test_id("approve-button").click()
        expect(bob_card).to_have_attribute("data-status", "approved", timeout=UI_TIMEOUT_MS)
        expect(bob_card.get_by_test_id("decided-by")).to_have_text("bob")
        expect(bob.get_by_test_id("case-status")).to_have_attribute(
            "data-status", "resolved", timeout=RESOLVE_TIMEOUT_MS
        )

        bob.get_by_test_id("sign-out").click()
        expect(bob.get_by_role("heading", name="Signed out")).to_be_visible(timeout=UI_TIMEOUT_MS)
        after = bob.evaluate("async () => (await fetch('/api/me')).status")
        assert after == 401
    finally:
        alice_context.close()
        bob_context.close()


def test_serve_on_all_interfaces_needs_sign_in(provider: OidcProvider, tmp_path) -> None:
    bare = server_env(f"sqlite:///{tmp_path / 'bare.db'}")
    refused = subprocess.run(
        [sys.executable, "-m", "actiondesk", "serve", "--host", "0.0.0.0", "--port", "0"],
        env=bare,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2
    assert "refusing to serve on 0.0.0.0" in refused.stderr
    assert "ACTIONDESK_OIDC_ISSUER" in refused.stderr
    assert "ActionDesk serving" not in refused.stdout

    env = _oidc_env(
        f"sqlite:///{tmp_path / 'oidc.db'}", provider.issuer, ACTIONDESK_PUBLIC_URL="https://desk.example.com"
    )
    started = ServerProcess.start(env, tmp_path, host="0.0.0.0")
    try:
        port = started.url.rsplit(":", 1)[1].strip("/")
        answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert answer.status_code == 200
        login = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=False, timeout=10)
        assert login.status_code == 302
        assert login.headers["Location"].startswith("/auth/login")
    finally:
        started.stop()
