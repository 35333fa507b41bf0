"""Governance (issue 5): autonomy levels, policies, freezes and chaos days, approvers, the kill switch,
confidence thresholds and the circuit breaker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator


class GovernanceSection(BaseModel):
    """What governance decides from besides the Cedar policies."""

    autonomy: dict[str, int] = Field(
        default_factory=dict,
        description='Autonomy level overrides, JSON: {"payment-gateway": 1, "tier:3": 3, "search@staging": 2}.',
    )

    approval_ttl_seconds: int = Field(default=3600, ge=1, description="How long an approval request stays open.")

    policy_dir: Path | None = Field(
        default=None,
        description="Directory of .cedar policies (and optionally a .cedarschema); replaces the built-in set.",
    )

    freeze_calendars: str = Field(
        default="", description="Comma-separated ICS files or URLs whose events are freeze windows."
    )

    chaos_calendars: str = Field(
        default="", description="Comma-separated ICS files or URLs whose events are chaos days (CATEGORIES: services)."
    )

    freeze_windows: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Inline freezes, JSON: [{"name": "Month end", "start": ISO, "end": ISO, "services": ["x"]}].',
    )

    chaos_schedule: list[dict[str, Any]] = Field(
        default_factory=list,
        description='Scheduled chaos days, JSON: [{"service": "search", "cron": "0 9 * * 5", "minutes": 480}].',
    )

    calendar_refresh_seconds: int = Field(default=300, ge=10, description="How often calendars are re-read.")

    kill_switch: bool = Field(default=False, description="Stop all autonomous execution (also /actiondesk kill).")

    production_approvers: str = Field(default="sre", description="Group that approves production changes.")

    freeze_approvers: str = Field(default="cab", description="Group that approves changes during a freeze.")

    break_glass_group: str = Field(default="sre", description="Group whose members may approve in an emergency.")

    break_glass_minutes: int = Field(
        default=30, ge=1, description="How long a break-glass approval lets its action start."
    )

    approval_escalate_after_seconds: int | None = Field(
        default=None, ge=1, description="When an open approval is escalated; default half its time to live."
    )

    approval_escalation_group: str = Field(
        default="", description="Group named when an approval is escalated; empty: the approver group again."
    )

    confidence_threshold: float = Field(
        default=0.9,
        ge=0.0,
        le=1.0,
        description="Level 3 runs alone only when the diagnosis is at least this confident; else it asks.",
    )

    confidence_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description='Per-target thresholds, JSON, keys as for autonomy: {"payment-gateway": 0.95, "tier:3": 0.8}.',
    )

    breaker_max_repeats: int = Field(default=3, ge=1, description="Circuit breaker: X same actions on a target.")

    breaker_window_minutes: float = Field(default=10.0, gt=0, description="Circuit breaker: in Y minutes.")

    breaker_cooldown_minutes: float = Field(
        default=60.0, gt=0, description="How long a tripped breaker freezes automation for its target."
    )

    @field_validator("confidence_thresholds")
    @classmethod
    def _thresholds(cls, value: dict[str, float]) -> dict[str, float]:
        wrong = {key: v for key, v in value.items() if not 0.0 <= v <= 1.0}
        if wrong:
            raise ValueError(f"a confidence threshold is a number from 0 to 1: {wrong}")
        return value
