"""The audit trail's signed checkpoints, the metrics window and the weekly report."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class ReportingSection(BaseModel):
    """Audit checkpoints, metrics and the weekly report."""

    audit_signing_key: Path | None = Field(
        default=None, description="Ed25519 private key (PEM) that signs audit checkpoints."
    )

    audit_checkpoint_file: Path | None = Field(
        default=None, description="JSON Lines file, kept away from the database, that signed checkpoints go to."
    )

    audit_checkpoint_minutes: float = Field(
        default=15.0, gt=0, description="How often `serve` publishes a checkpoint when key and file are set."
    )

    infra_cost_per_hour: float = Field(
        default=0.0, ge=0, description="Infrastructure cost of running ActionDesk, in dollars per hour."
    )

    metrics_window_days: float = Field(default=7.0, gt=0, description="Window of the MTTR, FCR and cost gauges.")

    report_channel: str | None = Field(
        default=None, description="Slack channel id the weekly resolution report is posted to; empty: none."
    )

    report_cron: str = Field(
        default="0 9 * * 1", description="When the weekly report is posted (cron, UTC); it covers the 7 days before."
    )
