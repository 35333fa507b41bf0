"""What every part runs with: the clock, and the chat model the LLM agents ask."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from actiondesk.core.llm import Message, ModelTurn, ToolSchema


class Clock(Protocol):
    """Wall-clock time in production, simulated time in scenario runs."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class ChatModel(Protocol):
    """A chat model with tool calling. Raise ModelUnavailableError or ModelRejectedError; never a vendor error."""

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSchema]) -> ModelTurn: ...
