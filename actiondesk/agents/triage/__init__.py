"""Triage: find the affected services, read their signals and those of what they call, and tie the onset to the
change just before it — or ask which service is meant, or abstain rather than guess."""

from __future__ import annotations

from actiondesk.agents.triage.agent import Triage, TriageSettings
from actiondesk.agents.triage.naming import Mentions, Namer

__all__ = ["Mentions", "Namer", "Triage", "TriageSettings"]
