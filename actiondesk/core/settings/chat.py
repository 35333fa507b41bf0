"""The chat surfaces: the Slack app and the Teams bot (Bot Framework)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr


class ChatSection(BaseModel):
    """Slack and Teams."""

    slack_bot_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_BOT_TOKEN", "ACTIONDESK_SLACK_BOT_TOKEN"),
        description="Slack bot token (xoxb-...); Slack is on when this and the signing secret are set.",
    )

    slack_signing_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "ACTIONDESK_SLACK_SIGNING_SECRET"),
        description="Slack signing secret: every request to /slack/events must carry its HMAC.",
    )

    slack_app_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("SLACK_APP_TOKEN", "ACTIONDESK_SLACK_APP_TOKEN"),
        description="Slack app-level token (xapp-...); when set, Slack talks to ActionDesk over Socket Mode.",
    )

    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Base URL of the Slack Web API (tests point it elsewhere)."
    )

    microsoft_app_id: str = Field(
        default="",
        validation_alias=AliasChoices("MICROSOFT_APP_ID", "ACTIONDESK_MICROSOFT_APP_ID"),
        description="The Teams bot's Microsoft App ID; empty: /api/messages runs in local development mode only.",
    )

    microsoft_app_password: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("MICROSOFT_APP_PASSWORD", "ACTIONDESK_MICROSOFT_APP_PASSWORD"),
        description="The Teams bot's client secret, for the tokens it sends with replies.",
    )

    microsoft_app_type: Literal["MultiTenant", "SingleTenant"] = Field(
        default="MultiTenant",
        validation_alias=AliasChoices("MICROSOFT_APP_TYPE", "ACTIONDESK_MICROSOFT_APP_TYPE"),
        description="MultiTenant or SingleTenant (then MICROSOFT_APP_TENANT_ID is required).",
    )

    microsoft_app_tenant_id: str = Field(
        default="",
        validation_alias=AliasChoices("MICROSOFT_APP_TENANT_ID", "ACTIONDESK_MICROSOFT_APP_TENANT_ID"),
        description="The bot's Entra tenant, for SingleTenant bots.",
    )

    teams_openid_metadata_url: str = Field(
        default="https://login.botframework.com/v1/.well-known/openidconfiguration",
        description="OpenID metadata whose keys sign the Bot Framework's tokens (https; http only for loopback).",
    )

    teams_oauth_url: str = Field(
        default="",
        description="Token endpoint the bot gets its outbound tokens from; empty: Microsoft's for the app type.",
    )
