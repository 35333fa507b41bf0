"""Atlassian Document Format: what the platform API (v3) takes for comment bodies."""

from __future__ import annotations

from typing import Any


def adf(text: str) -> dict[str, Any]:
    """Plain text as an ADF document: one paragraph per line, empty lines dropped."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in text.splitlines() if line
    ]
    return {"type": "doc", "version": 1, "content": paragraphs or [{"type": "paragraph", "content": []}]}
