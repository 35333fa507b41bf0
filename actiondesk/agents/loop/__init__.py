"""The case loop: triage → plan → govern → (approval) → act → verify, one persisted step at a time.

Every transition is saved (with its audit entries, in one transaction) before the side effect it leads to,
so a process killed at any point resumes the case from the database without doing anything twice.

One module per stage: ``conversation`` (opening a case, replies in its thread), ``triaging``, ``planning``,
``acting`` (each step governed, approved, run or stopped), ``verifying``; ``runner`` drives a case through them
and ``base`` holds what they share.
"""

from __future__ import annotations

from actiondesk.agents.loop.base import (
    ALERT_SURFACE,
    QUEUED,
    TIMED,
    WAITING,
    Intake,
    LoopSettings,
    confidence,
    new_id,
    run_key,
    shown,
)
from actiondesk.agents.loop.runner import CaseLoop

__all__ = [
    "ALERT_SURFACE",
    "QUEUED",
    "TIMED",
    "WAITING",
    "CaseLoop",
    "Intake",
    "LoopSettings",
    "confidence",
    "new_id",
    "run_key",
    "shown",
]
