"""Redaction of secrets before anything is stored, logged, shown or sent to a model."""

from __future__ import annotations

import re
from functools import lru_cache

from pydantic import JsonValue

REDACTED = "[REDACTED]"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"xox[abposr]-[A-Za-z0-9-]{8,}"),  # Slack tokens
    re.compile(r"xapp-[A-Za-z0-9-]{8,}"),  # Slack app-level tokens
    re.compile(r"sk-[A-Za-z0-9_-]{16,}"),  # OpenAI-style keys
    re.compile(r"gh[pousr]_[A-Za-z0-9]{20,}"),  # GitHub tokens
    re.compile(r"AKIA[0-9A-Z]{16}"),  # AWS access key ids
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWTs
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"),
)
_ASSIGNMENT = re.compile(
    r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|client[_-]?secret)(\s*[=:]\s*|\s+(?:is|was)\s+)"
    r"(\"[^\"]*\"|'[^']*'|[^\s,;]+)"
)
# What every pattern above must contain where it matches: the literal start of each token pattern and
# "-----BEGIN " as spelled, and "bearer" and the start of each secret name in any case (those patterns ignore
# case). ASCII text without any of them cannot match, so it is returned as it is after a few substring tests
# instead of nine regex scans; other text goes through every pattern as before. (For ASCII text, lower() and
# the patterns' ignoring of case agree; beyond ASCII they need not, so no shortcut is taken there.)
_SPELLED = ("xox", "xapp-", "sk-", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "AKIA", "eyJ", "-----BEGIN ")
_ANY_CASE = ("bearer", "passw", "pwd", "secret", "token", "api")


def _may_hold_secret(text: str) -> bool:
    if not text.isascii():
        return True
    for part in _SPELLED:
        if part in text:
            return True
    lowered = text.lower()
    return any(part in lowered for part in _ANY_CASE)


_SECRET_KEYS = re.compile(r"(?i)(password|passwd|secret|token|api[_-]?key|authorization|private[_-]?key)")


def redact_text(text: str) -> str:
    if not _may_hold_secret(text):
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(REDACTED, text)
    return _ASSIGNMENT.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)


def redact_message(message: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """A chat message (or any JSON object) with its secrets redacted, still an object."""
    return {k: (REDACTED if isinstance(v, str) and secret_name(k) else redact(v)) for k, v in message.items()}


def redact(value: JsonValue) -> JsonValue:
    """Redact secrets in any JSON value: secret-looking keys lose their values, strings are scrubbed."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, dict):
        return redact_message(value)
    return value


@lru_cache(maxsize=4096)  # the same few keys, over and over
def secret_name(name: str) -> bool:
    """Whether a key or setting name says its value is a secret (password, token, api key...)."""
    return _SECRET_KEYS.search(name) is not None
