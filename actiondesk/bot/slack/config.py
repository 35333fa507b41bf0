"""What the Slack surface needs from the settings (their chat section), taken once when Slack is mounted."""

from __future__ import annotations

from dataclasses import dataclass, field

from actiondesk.core.settings.chat import ChatSection


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    api_url: str = "https://slack.com/api/"
    app_token: str | None = field(default=None, repr=False)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)

    @classmethod
    def from_settings(cls, settings: ChatSection) -> SlackConfig | None:
        """None unless both the bot token and the signing secret are set: Slack stays off."""
        if settings.slack_bot_token is None or settings.slack_signing_secret is None:
            return None
        token = settings.slack_bot_token.get_secret_value()
        secret = settings.slack_signing_secret.get_secret_value()
        if not token or not secret:
            return None
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        return cls(bot_token=token, signing_secret=secret, api_url=settings.slack_api_url, app_token=app_token or None)
