"""The one place that imports `openai`, and only when a model is configured: the SDK's import costs about half
a CPU-second, which a process that never calls a model (most `serve` starts, every CLI command) does not pay.
Retries are ours (the SDK's are off): at most ``retries`` more attempts on timeouts, 429 and 5xx, waiting what
Retry-After asks (or a doubling backoff), then ModelUnavailableError. After ``trip_after`` calls in a row have
failed so, the circuit stays open for ``open_seconds``: nothing is sent and every call fails at once, so a dead
endpoint never sees a retry storm."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from actiondesk.core.errors import ModelRejectedError, ModelUnavailableError
from actiondesk.core.llm import Message, ModelTurn, ToolCall, ToolSchema, Usage
from actiondesk.core.ports import Clock

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 3
    backoff_seconds: float = 1.0
    max_wait_seconds: float = 30.0  # a Retry-After beyond this is not waited for: the call fails
    trip_after: int = 1  # one call failing after all its retries opens the circuit
    open_seconds: float = 300.0


def _retry_after(exc: openai.APIStatusError) -> float | None:
    raw = exc.response.headers.get("retry-after")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


class OpenAIChatModel:
    def __init__(
        self,
        *,
        model: str,
        api_key: str,
        base_url: str | None,
        timeout_seconds: float,
        clock: Clock,
        policy: RetryPolicy | None = None,
        max_completion_tokens: int | None = None,
    ) -> None:
        import openai  # here, not at the top: see the module's docstring

        self.model = model
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout_seconds, max_retries=0)
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._max_completion_tokens = max_completion_tokens
        self._failures = 0
        self._open_until: datetime | None = None

    def complete(self, messages: Sequence[Message], tools: Sequence[ToolSchema]) -> ModelTurn:
        import openai  # imported by __init__ already: a lookup in sys.modules

        now = self._clock.now()
        if self._open_until is not None and now < self._open_until:
            raise ModelUnavailableError(f"the model endpoint kept failing; circuit open until {self._open_until}")
        policy = self._policy
        last = "no attempt"
        for attempt in range(policy.retries + 1):
            try:
                turn = self._once(messages, tools)
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                last, wait = type(exc).__name__, policy.backoff_seconds * 2**attempt
            except openai.APIStatusError as exc:
                if exc.status_code != 429 and exc.status_code < 500 and exc.status_code != 408:
                    raise ModelRejectedError(f"the model endpoint refused: HTTP {exc.status_code}") from None
                last = f"HTTP {exc.status_code}"
                hint = _retry_after(exc)
                wait = hint if hint is not None else policy.backoff_seconds * 2**attempt
            else:
                self._failures = 0
                self._open_until = None
                return turn
            if attempt == policy.retries:
                break
            if wait > policy.max_wait_seconds:
                last += f" (asked to wait {wait:.0f} s)"
                break
            log.warning("model endpoint: %s; attempt %d of %d in %.1f s", last, attempt + 2, policy.retries + 1, wait)
            self._clock.sleep(wait)
        self._failures += 1
        if self._failures >= policy.trip_after:
            self._open_until = self._clock.now() + timedelta(seconds=policy.open_seconds)
            log.error("model endpoint: circuit open %.0f s after %d failed calls", policy.open_seconds, self._failures)
        raise ModelUnavailableError(f"the model endpoint is unavailable: {last}")

    def _once(self, messages: Sequence[Message], tools: Sequence[ToolSchema]) -> ModelTurn:
        kwargs: dict[str, Any] = {"model": self.model, "messages": list(messages)}
        if tools:
            kwargs["tools"] = list(tools)
            kwargs["parallel_tool_calls"] = False
        if self._max_completion_tokens:
            kwargs["max_completion_tokens"] = self._max_completion_tokens
        response = self._client.chat.completions.create(**kwargs)
        if not response.choices:
            raise ModelUnavailableError("the model endpoint answered without a choice")
        message = response.choices[0].message
        calls = tuple(
            ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments or "")
            for c in (message.tool_calls or ())
            if getattr(c, "function", None) is not None
        )
        usage = response.usage
        return ModelTurn(
            model=response.model or self.model,
            text=message.content,
            tool_calls=calls,
            usage=Usage(
                prompt_tokens=usage.prompt_tokens if usage else 0,
                completion_tokens=usage.completion_tokens if usage else 0,
            ),
        )
