"""Sign-in and request security (issue 13): OpenID Connect for the console and its API, and sessions."""

from __future__ import annotations

from pydantic import BaseModel, Field, SecretStr


class SignInSection(BaseModel):
    """The console's sign-in and sessions."""

    oidc_issuer: str | None = Field(
        default=None,
        description="OpenID Connect issuer URL (Entra ID, Okta, Google, Keycloak, Dex...); empty: the loopback demo.",
    )

    oidc_client_id: str | None = Field(default=None, description="ActionDesk's client id at the issuer.")

    oidc_client_secret: SecretStr | None = Field(
        default=None, description="ActionDesk's client secret at the issuer; empty: a public client (PKCE only)."
    )

    oidc_scopes: str = Field(default="openid email profile", description="Scopes asked for at sign-in.")

    oidc_email_claim: str = Field(
        default="email", description="ID-token claim holding the email the directory is searched by."
    )

    public_url: str | None = Field(
        default=None,
        description="The URL people open the console at (https; http only on loopback); the sign-in callback "
        "is PUBLIC_URL/auth/callback, writes must come from its origin, and pages and messages link to it.",
    )

    session_hours: float = Field(default=12.0, gt=0, le=720, description="How long a console session lasts.")
