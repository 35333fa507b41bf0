"""The one Settings object. Built once by the composition root and passed down; nothing reads the
environment anywhere else.

``Settings`` is flat (``settings.slack_bot_token``, read from ``ACTIONDESK_SLACK_BOT_TOKEN``); its fields are
declared by section, one module each: ``server``, ``estate``, ``reporting``, ``loop``, ``governance``, ``chat``,
``packs``, ``fulfilment``, ``tickets``, ``paging``, ``llm``, ``signin``.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from actiondesk.core.settings.chat import ChatSection
from actiondesk.core.settings.estate import EstateSection
from actiondesk.core.settings.fulfilment import FulfilmentSection
from actiondesk.core.settings.governance import GovernanceSection
from actiondesk.core.settings.llm import LlmSection
from actiondesk.core.settings.loop import LoopSection
from actiondesk.core.settings.packs import PackSection
from actiondesk.core.settings.paging import PagingSection
from actiondesk.core.settings.reporting import ReportingSection
from actiondesk.core.settings.server import ServerSection
from actiondesk.core.settings.signin import SignInSection
from actiondesk.core.settings.tickets import TicketSection


class Settings(
    SignInSection,
    LlmSection,
    PagingSection,
    TicketSection,
    FulfilmentSection,
    PackSection,
    ChatSection,
    GovernanceSection,
    LoopSection,
    ReportingSection,
    EstateSection,
    ServerSection,
    BaseSettings,
):
    """Every setting, from the environment (and ``.env``)."""

    model_config = SettingsConfigDict(
        env_prefix="ACTIONDESK_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
    )


__all__ = ["Settings"]
