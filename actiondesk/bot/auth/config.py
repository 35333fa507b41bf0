"""How the console authenticates people, decided once from the settings.

With ``ACTIONDESK_OIDC_ISSUER`` set, people sign in through that issuer (``oidc`` mode). Without it the
console runs as the **demo**: anyone who reaches it picks who they are. That is allowed only on a loopback
address; ``serve`` refuses to listen anywhere else without an issuer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from urllib.parse import urlsplit

from actiondesk.bot.teams.config import is_loopback, safe_url
from actiondesk.core.errors import ConfigurationError
from actiondesk.core.settings import Settings

SIGN_IN_SETTINGS = (
    "ACTIONDESK_OIDC_ISSUER, ACTIONDESK_OIDC_CLIENT_ID, ACTIONDESK_OIDC_CLIENT_SECRET and ACTIONDESK_PUBLIC_URL"
)


DEMO_BANNER = (
    "DEMO MODE: no ACTIONDESK_OIDC_ISSUER, so the console signs nobody in: whoever reaches it picks who they are. "
    "It answers on loopback only. Set " + SIGN_IN_SETTINGS + " before anyone else uses it."
)


class Mode(StrEnum):
    OIDC = "oidc"
    DEMO = "demo"


@dataclass(frozen=True)
class AccessConfig:
    mode: Mode
    session_hours: float
    issuer: str = ""
    client_id: str = ""
    client_secret: str = ""
    scopes: str = "openid email profile"
    email_claim: str = "email"
    public_url: str = ""

    @property
    def origin(self) -> str | None:
        """scheme://host[:port] of the public URL: the only origin cookie-authenticated writes may come from."""
        if not self.public_url:
            return None
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/auth/callback"

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessConfig:
        issuer = (settings.oidc_issuer or "").strip().rstrip("/")
        public_url = (settings.public_url or "").strip().rstrip("/")
        if public_url and not safe_url(public_url):
            raise ConfigurationError(
                f"ACTIONDESK_PUBLIC_URL={public_url!r}: must be an https URL (plain http only on a loopback address)"
            )
        if not issuer:
            return cls(mode=Mode.DEMO, session_hours=settings.session_hours, public_url=public_url)
        if not safe_url(issuer):
            raise ConfigurationError(
                f"ACTIONDESK_OIDC_ISSUER={issuer!r}: must be an https URL (plain http only on a loopback address)"
            )
        if not (settings.oidc_client_id or "").strip():
            raise ConfigurationError("ACTIONDESK_OIDC_ISSUER is set, so sign-in also needs ACTIONDESK_OIDC_CLIENT_ID")
        if "openid" not in settings.oidc_scopes.split():
            raise ConfigurationError("ACTIONDESK_OIDC_SCOPES must include openid")
        secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else ""
        return cls(
            mode=Mode.OIDC,
            session_hours=settings.session_hours,
            issuer=issuer,
            client_id=(settings.oidc_client_id or "").strip(),
            client_secret=secret,
            scopes=settings.oidc_scopes,
            email_claim=settings.oidc_email_claim,
            public_url=public_url,
        )

    def check_listen(self, host: str) -> None:
        """Refuse to serve the unauthenticated demo on anything but a loopback address; off loopback, sign-in
        needs the public URL people reach the console at."""
        if self.mode is Mode.DEMO and not is_loopback(host):
            raise ConfigurationError(
                f"refusing to serve on {host}: without sign-in anyone who reaches the port could act as anyone. "
                f"Set {SIGN_IN_SETTINGS} to sign people in through your OpenID Connect issuer, "
                "or listen on 127.0.0.1 for the local demo"
            )
        if self.mode is Mode.OIDC and not self.public_url and not is_loopback(host):
            raise ConfigurationError(
                f"serving on {host} with sign-in needs ACTIONDESK_PUBLIC_URL: the https URL people open the console "
                "at (the issuer redirects back to PUBLIC_URL/auth/callback)"
            )

    def listening_at(self, url: str) -> AccessConfig:
        """On loopback without ACTIONDESK_PUBLIC_URL, the public URL is where the server listens."""
        return self if self.public_url else replace(self, public_url=url.rstrip("/"))
