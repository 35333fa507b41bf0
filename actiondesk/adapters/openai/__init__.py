"""Chat models over the `openai` package: OpenAI, Azure OpenAI, vLLM, Ollama, LiteLLM, any compatible endpoint."""

from __future__ import annotations

from actiondesk.adapters.openai.chat import OpenAIChatModel, RetryPolicy

__all__ = ["OpenAIChatModel", "RetryPolicy"]
