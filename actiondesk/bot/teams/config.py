"""The Teams surface's configuration, checked once at start-up. No botbuilder import here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from actiondesk.core.errors import ConfigurationError
from actiondesk.core.settings import Settings
from actiondesk.core.settings.chat import ChatSection
from actiondesk.core.settings.paging import PagingSection

PUBLIC_ISSUER = "https://api.botframework.com"
PUBLIC_SCOPE = "https://api.botframework.com/.default"
LOGIN = "https://login.microsoftonline.com"


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def safe_url(url: str) -> bool:
    """https anywhere; plain http only to a loopback address."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and is_loopback(parts.hostname)


def checked_url(name: str, url: str) -> str:
    if not safe_url(url):
        raise ConfigurationError(f"{name}={url!r}: must be an https URL (plain http only for loopback addresses)")
    return url


@dataclass(frozen=True)
class TeamsConfig:
    app_id: str
    password: str
    tenant_id: str
    app_type: str
    openid_metadata_url: str
    oauth_url: str
    issuer: str = PUBLIC_ISSUER
    scope: str = PUBLIC_SCOPE
    configured: bool = False  # some Teams setting is set (a password, tenant, token endpoint or notify channel)

    @property
    def development(self) -> bool:
        """No app id: nothing is authenticated. Local development only."""
        return not self.app_id

    @classmethod
    def from_settings(cls, settings: Settings) -> TeamsConfig:
        return cls.of(settings, settings)

    @classmethod
    def of(cls, settings: ChatSection, paging: PagingSection) -> TeamsConfig:
        """From the chat section (the bot's credentials and endpoints); the paging section's notify channel
        counts as Teams being configured."""
        app_id = settings.microsoft_app_id.strip()
        password = settings.microsoft_app_password.get_secret_value() if settings.microsoft_app_password else ""
        tenant = settings.microsoft_app_tenant_id.strip()
        if settings.microsoft_app_type == "SingleTenant" and app_id and not tenant:
            raise ConfigurationError("MICROSOFT_APP_TYPE=SingleTenant needs MICROSOFT_APP_TENANT_ID")
        if app_id and not password:
            raise ConfigurationError("MICROSOFT_APP_ID is set but MICROSOFT_APP_PASSWORD is empty")
        authority = tenant if settings.microsoft_app_type == "SingleTenant" else "botframework.com"
        oauth_url = settings.teams_oauth_url.strip() or f"{LOGIN}/{authority}/oauth2/v2.0/token"
        return cls(
            app_id=app_id,
            password=password,
            tenant_id=tenant,
            app_type=settings.microsoft_app_type,
            openid_metadata_url=checked_url(
                "ACTIONDESK_TEAMS_OPENID_METADATA_URL", settings.teams_openid_metadata_url.strip()
            ),
            oauth_url=checked_url("ACTIONDESK_TEAMS_OAUTH_URL", oauth_url),
            configured=bool(
                app_id or password or tenant or settings.teams_oauth_url.strip() or paging.teams_notify_channel
            ),
        )


def banner(config: TeamsConfig) -> str | None:
    """What `serve` announces at start when Teams is configured but runs without authentication (no app id).
    With no Teams setting at all nothing is said at start; the first activity that arrives says it instead."""
    if not config.development or not config.configured:
        return None
    return development_warning()


def development_warning() -> str:
    return (
        "WARNING: MICROSOFT_APP_ID is empty: Teams /api/messages runs in LOCAL DEVELOPMENT MODE. "
        "No token is checked: only requests from this machine with loopback serviceUrls are answered."
    )
