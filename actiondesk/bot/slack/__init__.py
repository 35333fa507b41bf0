"""The Slack surface: a Bolt AsyncApp on the shared aiohttp server (``/slack/events``) or over Socket Mode.

Every slack_bolt / slack_sdk import lives in this package.
"""

from __future__ import annotations

from actiondesk.bot.slack.config import SlackConfig
from actiondesk.bot.slack.mount import mount_slack
from actiondesk.bot.slack.pacing import Pacing

__all__ = ["Pacing", "SlackConfig", "mount_slack"]
