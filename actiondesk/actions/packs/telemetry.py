"""Read-only telemetry actions: error rate and logs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import ServiceName, TraceId
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec
from actiondesk.core.governance import Risk


class SamplePoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    value: float


class ErrorRateInput(ActionInput):
    service: ServiceName
    minutes: int = Field(default=60, ge=1, le=1440, description="How far back to read.")
    step_seconds: int = Field(default=60, ge=10, le=3600, description="Resolution of the series.")


class ErrorRateOutput(ActionOutput):
    service: str
    points: tuple[SamplePoint, ...]

    @property
    def current(self) -> float:
        return self.points[-1].value if self.points else 0.0

    def summary(self) -> str:
        return f"{self.service} error rate now {self.current:.2%} over {len(self.points)} points"


class GetErrorRate(ActionSpec[ErrorRateInput, ErrorRateOutput]):
    name = "get_error_rate"
    description = "Read a service's 5xx error rate (fraction of requests) as a time series."
    pack = "telemetry"
    scope = "metrics:read"
    risk = Risk.READ
    input_model = ErrorRateInput
    output_model = ErrorRateOutput

    def run(self, ctx: ActionContext, params: ErrorRateInput) -> ErrorRateOutput:
        ctx.inventory.service(params.service)
        end = ctx.clock.now()
        series = ctx.telemetry.error_rate(
            params.service, end - timedelta(minutes=params.minutes), end, params.step_seconds
        )
        points = tuple(SamplePoint(at=p.at, value=p.value) for p in series.points)
        return ErrorRateOutput(service=params.service, points=points)


class LogsInput(ActionInput):
    service: ServiceName
    minutes: int = Field(default=30, ge=1, le=1440, description="How far back to read.")
    trace_id: TraceId | None = Field(default=None, description="Only lines of this trace.")
    level: Literal["DEBUG", "INFO", "WARN", "ERROR"] | None = Field(default=None, description="Only this level.")
    limit: int = Field(default=50, ge=1, le=500, description="At most this many lines, newest kept.")


class LogEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    service: str
    level: str
    message: str
    trace_id: str
    version: str


class LogsOutput(ActionOutput):
    service: str
    lines: tuple[LogEntry, ...]

    def summary(self) -> str:
        errors = sum(1 for line in self.lines if line.level == "ERROR")
        return f"{len(self.lines)} log lines from {self.service}, {errors} errors"


class GetLogs(ActionSpec[LogsInput, LogsOutput]):
    name = "get_logs"
    description = "Read a service's recent log lines, optionally one trace or one level."
    pack = "telemetry"
    scope = "logs:read"
    risk = Risk.READ
    input_model = LogsInput
    output_model = LogsOutput

    def run(self, ctx: ActionContext, params: LogsInput) -> LogsOutput:
        ctx.inventory.service(params.service)
        end = ctx.clock.now()
        lines = ctx.telemetry.logs(
            params.service,
            end - timedelta(minutes=params.minutes),
            end,
            trace_id=params.trace_id,
            level=params.level,
            limit=params.limit,
        )
        entries = tuple(
            LogEntry(
                at=ln.at,
                service=ln.service,
                level=ln.level,
                message=ln.message,
                trace_id=ln.trace_id,
                version=ln.version,
            )
            for ln in lines
        )
        return LogsOutput(service=params.service, lines=entries)


TELEMETRY = Pack(name="telemetry", scopes=frozenset({"metrics:read", "logs:read"}), actions=(GetErrorRate(), GetLogs()))
