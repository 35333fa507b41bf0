"""Action runs: the durable record that makes each mutating call happen at most once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, JsonValue


class RunStatus(StrEnum):
    STARTED = "started"  # claimed and about to touch the managed system
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"  # ran, failed its verification, and its inverse ran


class ActionRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    case_id: str | None
    action: str
    params: dict[str, JsonValue]
    status: RunStatus = RunStatus.STARTED
    snapshot: dict[str, JsonValue] | None = None
    result: dict[str, JsonValue] | None = None
    error: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
