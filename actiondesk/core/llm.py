"""What the planners need from a chat model, free of any vendor SDK: messages in, one typed turn out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, JsonValue

Message = dict[str, JsonValue]
ToolSchema = dict[str, JsonValue]


class ToolCall(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    arguments: str = Field(description="The model's JSON arguments, verbatim (untrusted, maybe not even JSON).")


class Usage(BaseModel):
    model_config = ConfigDict(frozen=True)

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class ModelTurn(BaseModel):
    """One answer of the model: text, tool calls, or both."""

    model_config = ConfigDict(frozen=True)

    model: str
    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = Usage()


class Price(BaseModel):
    """Dollars per million tokens."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt: float = Field(ge=0)
    completion: float = Field(ge=0)

    def cost(self, usage: Usage) -> float:
        return (usage.prompt_tokens * self.prompt + usage.completion_tokens * self.completion) / 1_000_000
