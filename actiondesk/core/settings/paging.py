"""Owners, paging and notices (issue 18): who owns what, on-call paging, where notices go, how often tickets
and the outbox are read."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class PagingSection(BaseModel):
    """Owners, on-call paging and notices."""

    owners_file: Path | None = Field(
        default=None,
        description="YAML owners of services, staples and request types, and each team's channels; "
        "empty: the built-in owners.",
    )

    pagerduty_routing_key: SecretStr | None = Field(
        default=None, description="PagerDuty Events API v2 integration (routing) key; pages on-call when set."
    )

    pagerduty_url: str = Field(
        default="https://events.pagerduty.com", description="PagerDuty Events API base URL (EU: events.eu...)."
    )

    opsgenie_api_key: SecretStr | None = Field(
        default=None, description="Opsgenie API integration key (GenieKey); pages on-call when set."
    )

    opsgenie_url: str = Field(
        default="https://api.opsgenie.com", description="Opsgenie API base URL (EU: https://api.eu.opsgenie.com)."
    )

    slack_notify_channel: str | None = Field(
        default=None,
        description="Slack channel id where actions that ran without approval are announced (unless the owner "
        "has its own).",
    )

    teams_notify_channel: str | None = Field(
        default=None,
        description="Teams channel id (19:...@thread.tacv2) for the same notices (unless the owner has its own).",
    )

    ticket_poll_seconds: float = Field(
        default=60.0, gt=0, description="How often people's comments on the tickets are read back."
    )

    outbox_drain_seconds: float = Field(
        default=30.0, ge=0, description="How long `scenario run` waits for the outbox to deliver before it exits."
    )
