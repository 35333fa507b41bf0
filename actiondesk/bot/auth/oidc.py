"""OpenID Connect sign-in through any standard issuer (Entra ID, Okta, Google, Keycloak, Dex), with Authlib.

Authlib does the protocol: discovery (``/.well-known/openid-configuration``), the authorization URL with a PKCE
S256 challenge, state and nonce, the code exchange, the ID token's signature (the issuer's JWKS, its advertised
algorithms) and claims (``iss`` = the configured issuer, ``aud`` = our client id, ``exp``, ``iat``, ``nonce``,
``azp``), and the userinfo request when the email is not in the ID token (its ``sub`` must match). ActionDesk
keeps each pending sign-in (verifier, nonce, where to go next) in the database, hashed by its state, so the
callback may land on any replica, and uses it once.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from authlib.integrations.base_client import BaseApp, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc.errors import JoseError

from actiondesk.adapters.store.access import SqlAccess
from actiondesk.bot.auth.config import AccessConfig
from actiondesk.bot.auth.sessions import LOGIN_MINUTES
from actiondesk.core.access import PendingLogin, digest
from actiondesk.core.errors import ActionDeskError

log = logging.getLogger(__name__)

LEEWAY_SECONDS = 60


def _transport_errors() -> tuple[type[Exception], ...]:
    """What Authlib's HTTP client raises when the issuer is unreachable or answers an error status: Authlib uses
    the httpx2 package when it is installed (the openai package brings it), else httpx."""
    errors: list[type[Exception]] = [httpx.HTTPError, ValueError]
    try:
        import httpx2

        errors.append(httpx2.HTTPError)
    except ImportError:  # Authlib falls back to httpx, already listed
        pass
    return tuple(errors)


TRANSPORT = _transport_errors()


class SignInError(ActionDeskError):
    """Raised when a sign-in cannot complete: the issuer refused, the callback is stale or forged, the ID token
    does not verify, or it names no usable email. The message is safe to show to the person."""


class IssuerUnavailableError(SignInError):
    """Raised when the issuer cannot be reached (discovery, keys or the token endpoint)."""


class _Issuer(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):  # type: ignore[misc]  # Authlib's untyped mixins
    client_cls = AsyncOAuth2Client


@dataclass(frozen=True)
class Identity:
    subject: str
    email: str
    name: str | None


class OidcSignIn:
    def __init__(self, config: AccessConfig, access: SqlAccess) -> None:
        self._config = config
        self._access = access
        self._issuer = _Issuer(
            None,
            name="actiondesk",
            client_id=config.client_id,
            client_secret=config.client_secret or None,
            server_metadata_url=config.issuer + "/.well-known/openid-configuration",
            client_kwargs={
                "scope": config.scopes,
                "code_challenge_method": "S256",
                "token_endpoint_auth_method": "client_secret_basic" if config.client_secret else "none",
                "timeout": 10.0,
            },
        )

    async def discover(self) -> None:
        """Read the issuer's metadata; the issuer it names must be the one configured."""
        try:
            metadata = await self._issuer.load_server_metadata()
        except TRANSPORT as exc:
            self._issuer.server_metadata.clear()
            raise IssuerUnavailableError(f"cannot read {self._config.issuer}'s OpenID configuration: {exc}") from None
        if str(metadata.get("issuer", "")).rstrip("/") != self._config.issuer:
            self._issuer.server_metadata.clear()
            raise SignInError(
                f"the discovery document names issuer {metadata.get('issuer')!r}, not {self._config.issuer!r}"
            )

    async def begin(self, next_path: str, now: datetime) -> tuple[str, str]:
        """(the issuer's authorization URL, the state) for a new sign-in; the state goes in the login cookie."""
        await self.discover()
        state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        made = await self._issuer.create_authorization_url(
            self._config.redirect_uri, state=state, nonce=nonce, code_verifier=verifier
        )
        self._access.add_login(
            PendingLogin(
                state_hash=digest(state),
                code_verifier=verifier,
                nonce=nonce,
                next_path=next_path,
                created_at=now,
                expires_at=now + timedelta(minutes=LOGIN_MINUTES),
            )
        )
        return str(made["url"]), state

    async def finish(self, code: str, state: str, now: datetime) -> tuple[Identity, str]:
        """Exchange the code of a callback whose state this browser started; (the identity, where to go next)."""
        login = self._access.take_login(digest(state), now)
        if login is None:
            raise SignInError("this sign-in link is unknown, used or expired: start again")
        await self.discover()
        try:
            token = await self._issuer.fetch_access_token(
                self._config.redirect_uri, code=code, code_verifier=login.code_verifier
            )
        except OAuthError as exc:
            raise SignInError(f"the issuer refused the sign-in: {exc.error}") from None
        except TRANSPORT as exc:
            raise IssuerUnavailableError(f"the issuer's token endpoint failed: {exc}") from None
        if "id_token" not in token:
            raise SignInError("the issuer returned no ID token (is the openid scope allowed for this client?)")
        options = {
            "iss": {"essential": True, "value": self._config.issuer},
            "aud": {"essential": True, "value": self._config.client_id},
        }
        try:
            claims = await self._issuer.parse_id_token(
                token, nonce=login.nonce, claims_options=options, leeway=LEEWAY_SECONDS
            )
        except (JoseError, ValueError) as exc:
            log.warning("oidc: an ID token did not verify: %s", type(exc).__name__)
            raise SignInError(f"the ID token did not verify ({type(exc).__name__})") from None
        except TRANSPORT as exc:
            raise IssuerUnavailableError(f"cannot read the issuer's keys: {exc}") from None
        found = dict(claims)
        if self._config.email_claim not in found:  # many issuers put profile claims in userinfo only
            found = {**await self._userinfo(token, str(found.get("sub"))), **found}
        return self._identity(found), login.next_path

    async def _userinfo(self, token: dict[str, object], subject: str) -> dict[str, object]:
        """The userinfo endpoint's claims, for the ID token's subject only (OIDC Core 5.3.2)."""
        try:
            info = dict(await self._issuer.userinfo(token=token))
        except TRANSPORT as exc:
            raise IssuerUnavailableError(f"the issuer's userinfo endpoint failed: {exc}") from None
        except KeyError:
            return {}  # no userinfo endpoint: the ID token is all there is
        if info.get("sub") != subject:
            raise SignInError("the userinfo answer is about another subject than the ID token")
        return info

    def _identity(self, claims: dict[str, object]) -> Identity:
        email = claims.get(self._config.email_claim)
        if not isinstance(email, str) or "@" not in email:
            raise SignInError(f"the ID token has no email in its {self._config.email_claim!r} claim")
        if claims.get("email_verified") is False:
            raise SignInError(f"the issuer says {email} is not verified")
        name = claims.get("name")
        return Identity(subject=str(claims.get("sub")), email=email, name=name if isinstance(name, str) else None)
