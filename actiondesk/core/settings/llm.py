"""LLM planning (issue 7): any OpenAI-compatible endpoint; off (runbooks only) unless configured."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr


class LlmSection(BaseModel):
    """The model endpoint, the planner in effect and each case's model budget."""

    openai_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_API_KEY", "ACTIONDESK_OPENAI_API_KEY"),
        description="Key of the OpenAI-compatible endpoint; with it the planner defaults to auto.",
    )

    openai_base_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OPENAI_BASE_URL", "ACTIONDESK_OPENAI_BASE_URL"),
        description="Endpoint base URL (Azure OpenAI, vLLM, Ollama, LiteLLM...); empty: OpenAI's.",
    )

    llm_model: str = Field(default="gpt-4o-mini", description="Chat model the LLM planner asks.")

    planner: Literal["runbook", "llm", "auto"] | None = Field(
        default=None,
        description="runbook, llm, or auto (runbooks first, the model for the rest); empty: auto with a key, "
        "else runbook.",
    )

    llm_max_turns: int = Field(default=10, ge=1, description="Model calls per case before it goes to a human.")

    llm_max_tokens: int | None = Field(
        default=None, ge=1, description="Prompt + completion tokens per case before it goes to a human; empty: none."
    )

    llm_max_cost: float | None = Field(
        default=None, ge=0, description="Model spend per case, in dollars, before it goes to a human; empty: none."
    )

    llm_timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one request to the model.")

    llm_prices: dict[str, dict[str, float]] = Field(
        default_factory=dict,
        description='Dollars per 1M tokens by model, JSON: {"gpt-4o-mini": {"prompt": 0.15, "completion": 0.6}}.',
    )

    @property
    def planning(self) -> str:
        """The planner in effect: ACTIONDESK_PLANNER, else auto when a key is configured, else runbook."""
        if self.planner is not None:
            return self.planner
        return "auto" if self.openai_api_key is not None else "runbook"
