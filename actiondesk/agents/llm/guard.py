"""Untrusted text as data: marked as such in the prompt, and scanned for instructions aimed at the model."""

from __future__ import annotations

import re
from collections.abc import Iterable

from actiondesk.core.redact import redact_text

_SUSPECT: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "override",
        re.compile(
            r"(?i)\b(ignore|disregard|forget)\b.{0,30}\b(previous|prior|above|earlier|all)\b.{0,20}"
            r"\b(instructions?|rules?|prompts?|polic(y|ies))"
        ),
    ),
    ("role", re.compile(r"(?i)\byou are now\b|\bact as\b|\bnew instructions?\b|\bsystem prompt\b|\bdeveloper mode\b")),
    (
        "exfiltration",
        re.compile(
            r"(?i)\b(reveal|print|show|dump|send|leak)\b.{0,40}\b(secrets?|env(ironment)?"
            r"( variables?)?|api[ _-]?keys?|tokens?|passwords?|credentials?)\b"
        ),
    ),
    ("authority", re.compile(r"(?i)\b(approved by|bypass|skip|override)\b.{0,30}\b(policy|approvals?|governance)\b")),
)


def suspicions(text: str, tool_names: Iterable[str] = ()) -> list[str]:
    """Why ``text`` looks like it talks to the model rather than about the incident (empty: it does not)."""
    found = [name for name, pattern in _SUSPECT if pattern.search(text)]
    named = sorted(n for n in tool_names if re.search(rf"\b{re.escape(n)}\b", text))
    if named:
        found.append("tool names: " + ", ".join(named))
    return found


def data(source: str, text: str) -> str:
    """Untrusted text, redacted and fenced; the system prompt says nothing inside a fence is an instruction."""
    body = redact_text(text).replace("</data>", "</ data>")
    return f'<data source="{source}">\n{body}\n</data>'
