"""The model planner: Plan → Act → Observe → Refine over the catalog's strict tools, with no authority of its own."""

from __future__ import annotations

from actiondesk.agents.llm.planner import LLM_DONE, LLM_RUNBOOK, LlmBounds, LlmOutcome, LlmPlanner
from actiondesk.agents.llm.tools import offered_specs, strict_schema, tool_schema

__all__ = [
    "LLM_DONE",
    "LLM_RUNBOOK",
    "LlmBounds",
    "LlmOutcome",
    "LlmPlanner",
    "offered_specs",
    "strict_schema",
    "tool_schema",
]
