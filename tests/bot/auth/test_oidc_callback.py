"""The sign-in callback refuses what did not start in this browser, a replayed or unknown state, and an issuer's
error, without creating a session; sign-in settings are checked at start."""

from __future__ import annotations

import pytest

from actiondesk.bot.auth.config import AccessConfig, Mode
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.settings import Settings

ISSUER = "http://127.0.0.1:9"  # nothing listens: no test here reaches the issuer


def _oidc() -> AccessConfig:
    return AccessConfig(
        mode=Mode.OIDC,
        session_hours=12,
        issuer=ISSUER,
        client_id="actiondesk",
        client_secret="s",
        public_url="http://127.0.0.1:8080",
    )


async def test_a_callback_that_did_not_start_here_makes_no_session(console_factory):
    console = await console_factory(_oidc())
    for query, cookie, status in (
        ("?code=c&state=s", None, 400),  # no login cookie: started elsewhere (login CSRF)
        ("?code=c&state=s", "other", 400),  # a cookie for another sign-in
        ("?error=access_denied&state=s", "s", 401),
        ("?code=c&state=s", "s", 401),  # the state is unknown to the database (used, expired or forged)
    ):
        headers = {"Cookie": f"__Host-actiondesk_login={cookie}"} if cookie else {}
        answer = await console.http.get("/auth/callback" + query, headers=headers, allow_redirects=False)
        assert answer.status == status, (query, cookie, await answer.text())
        assert "Set-Cookie" not in answer.headers or "actiondesk_session" not in answer.headers["Set-Cookie"]
    own = {"Origin": "http://127.0.0.1:8080"}  # ACTIONDESK_PUBLIC_URL's origin
    demo = await console.http.post("/auth/demo", json={"person": "bob"}, headers=own)
    assert demo.status == 404, await demo.text()  # no demo with sign-in
    elsewhere = {"Origin": console.origin}  # where the test client happens to be is not the public origin
    assert (await console.http.post("/auth/demo", json={"person": "bob"}, headers=elsewhere)).status == 403
    page = await console.http.get("/", allow_redirects=False)
    assert page.status == 302
    assert page.headers["Location"] == "/auth/login?next=/"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"oidc_issuer": "http://idp.example.com"}, "must be an https URL"),
        ({"oidc_issuer": "https://idp.example.com"}, "ACTIONDESK_OIDC_CLIENT_ID"),
        ({"oidc_issuer": "https://idp.example.com", "oidc_client_id": "x", "oidc_scopes": "email"}, "openid"),
        ({"public_url": "http://desk.example.com"}, "ACTIONDESK_PUBLIC_URL"),
    ],
)
def test_bad_sign_in_settings_stop_the_start(fields, message):
    settings = Settings(_env_file=None, **fields)  # type: ignore[call-arg]
    with pytest.raises(ConfigurationError, match=message):
        AccessConfig.from_settings(settings)


def test_off_loopback_sign_in_needs_a_public_url_and_the_demo_refuses():
    demo = AccessConfig.from_settings(Settings(_env_file=None))  # type: ignore[call-arg]
    demo.check_listen("127.0.0.1")
    demo.check_listen("::1")
    for host in ("0.0.0.0", "::", "192.0.2.10"):
        with pytest.raises(ConfigurationError, match="ACTIONDESK_OIDC_ISSUER"):
            demo.check_listen(host)
    oidc = AccessConfig.from_settings(
        Settings(_env_file=None, oidc_issuer="https://idp.example.com", oidc_client_id="x")  # type: ignore[call-arg]
    )
    with pytest.raises(ConfigurationError, match="ACTIONDESK_PUBLIC_URL"):
        oidc.check_listen("0.0.0.0")
    assert oidc.listening_at("http://127.0.0.1:8080").redirect_uri == "http://127.0.0.1:8080/auth/callback"
