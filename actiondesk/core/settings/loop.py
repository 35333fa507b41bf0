"""The case loop: its bounds, triage's window, verification, leases, workers and step retries."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LoopSection(BaseModel):
    """How the case loop runs cases."""

    agent_identity: str = Field(default="actiondesk", description="The name the agents act and audit under.")

    max_steps: int = Field(default=12, ge=1, description="Bound on loop steps per case before it escalates.")

    verify_timeout_seconds: float = Field(
        default=120.0, ge=0, description="How long verification waits for the signal to return to baseline."
    )

    verify_interval_seconds: float = Field(default=10.0, gt=0, description="Pause between verification reads.")

    triage_lookback_minutes: int = Field(default=60, ge=5, description="Telemetry window triage reads.")

    change_window_minutes: int = Field(
        default=30, ge=1, description="How long before an onset a change counts as its suspect."
    )

    triage_step_seconds: int = Field(
        default=15, ge=1, le=600, description="Sampling step of the signals triage reads (Prometheus' usual 15 s)."
    )

    triage_watch_seconds: float = Field(
        default=300.0,
        ge=0,
        description="How long an early report is watched (re-read each step) before triage concludes; 0: never.",
    )

    clarify_timeout_seconds: float = Field(
        default=1800.0, gt=0, description="How long a question to the reporter waits for an answer before escalating."
    )

    lease_seconds: float = Field(default=30.0, gt=0, description="How long a replica holds a case it works on.")

    case_workers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Threads that work cases in one process (their own pool: requests never wait behind them).",
    )

    malloc_arenas: int = Field(
        default=2,
        ge=0,
        le=1024,
        description="glibc malloc arenas `serve` allows (fewer keep less freed memory after a burst); 0 leaves "
        "glibc's own choice (or its MALLOC_ARENA_MAX).",
    )

    step_attempts: int = Field(
        default=5, ge=1, description="Attempts at a case step that raises before the case goes to a human."
    )

    step_retry_seconds: float = Field(
        default=5.0, gt=0, description="First pause after a step raised; it doubles per attempt, at most 10 min."
    )
