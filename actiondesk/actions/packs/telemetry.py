"""Read-only telemetry actions: the four signals (error rate, p95 latency, CPU saturation, pods: restarts and
ready replicas) and logs, by service or by trace across services."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import ServiceName, TraceId
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec
from actiondesk.core.estate import LogLine, Series
from actiondesk.core.governance import Risk

MAX_POINTS = 11_000  # Prometheus' own limit of points per series in a range query


class SamplePoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    at: datetime
    value: float


class ErrorRateInput(ActionInput):
    service: ServiceName
    minutes: int = Field(default=60, ge=1, le=1440, description="How far back to read.")
    step_seconds: int = Field(default=60, ge=1, le=3600, description="Resolution of the series.")

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.minutes * 60 / self.step_seconds > MAX_POINTS:
            raise ValueError(f"{self.minutes} min at {self.step_seconds} s is more than {MAX_POINTS} points")
        return self


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
        return ErrorRateOutput(service=params.service, points=_points(ctx, params, ctx.telemetry.error_rate))


Read = Callable[[str, datetime, datetime, int], Series]


def _points(ctx: ActionContext, params: ErrorRateInput | SignalInput, read: Read) -> tuple[SamplePoint, ...]:
    """The last ``params.minutes`` of one of the service's series, at ``params.step_seconds``."""
    ctx.inventory.service(params.service)
    end = ctx.clock.now()
    series = read(params.service, end - timedelta(minutes=params.minutes), end, params.step_seconds)
    return tuple(SamplePoint(at=p.at, value=p.value) for p in series.points)


class SignalInput(ActionInput):
    service: ServiceName
    minutes: int = Field(default=60, ge=1, le=1440, description="How far back to read.")
    step_seconds: int = Field(default=60, ge=1, le=3600, description="Resolution of the series.")

    @model_validator(mode="after")
    def _bounded(self) -> Self:
        if self.minutes * 60 / self.step_seconds > MAX_POINTS:
            raise ValueError(f"{self.minutes} min at {self.step_seconds} s is more than {MAX_POINTS} points")
        return self


class SignalOutput(ActionOutput):
    service: str
    points: tuple[SamplePoint, ...]

    unit: ClassVar[str] = ""
    label: ClassVar[str] = ""

    @property
    def current(self) -> float:
        return self.points[-1].value if self.points else 0.0

    def summary(self) -> str:
        return f"{self.service} {self.label} now {self.current:.1f}{self.unit} over {len(self.points)} points"


class LatencyOutput(SignalOutput):
    unit: ClassVar[str] = " ms"
    label: ClassVar[str] = "p95 latency"


class CpuOutput(SignalOutput):
    unit: ClassVar[str] = " %"
    label: ClassVar[str] = "CPU use"


class GetLatency(ActionSpec[SignalInput, LatencyOutput]):
    name = "get_latency"
    description = "Read a service's 95th-percentile request latency in milliseconds as a time series."
    pack = "telemetry"
    scope = "metrics:read"
    risk = Risk.READ
    input_model = SignalInput
    output_model = LatencyOutput

    def run(self, ctx: ActionContext, params: SignalInput) -> LatencyOutput:
        return LatencyOutput(service=params.service, points=_points(ctx, params, ctx.telemetry.latency_p95))


class GetCpu(ActionSpec[SignalInput, CpuOutput]):
    name = "get_cpu"
    description = "Read a service's CPU use (percent of its pods' limit, averaged) as a time series: saturation."
    pack = "telemetry"
    scope = "metrics:read"
    risk = Risk.READ
    input_model = SignalInput
    output_model = CpuOutput

    def run(self, ctx: ActionContext, params: SignalInput) -> CpuOutput:
        return CpuOutput(service=params.service, points=_points(ctx, params, ctx.telemetry.cpu))


class PodEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    version: str
    ready: bool
    state: str = Field(description="Running, CrashLoopBackOff, ImagePullBackOff or Pending.")
    reason: str
    restarts: int


class PodStatusOutput(ActionOutput):
    service: str
    desired: int
    ready: int
    pods: tuple[PodEntry, ...]
    unready_points: tuple[SamplePoint, ...] = Field(description="Pods wanted but not ready, over the window.")
    restart_points: tuple[SamplePoint, ...] = Field(description="Container restarts (running total) over the window.")

    @property
    def restarts(self) -> int:
        return sum(p.restarts for p in self.pods)

    def summary(self) -> str:
        states = sorted({p.state for p in self.pods if not p.ready})
        trouble = f"; not ready: {', '.join(states)}" if states else ""
        return f"{self.service}: {self.ready}/{self.desired} pods ready, {self.restarts} restarts{trouble}"


class GetPodStatus(ActionSpec[SignalInput, PodStatusOutput]):
    name = "get_pod_status"
    description = (
        "Read a service's pods: desired and ready replicas, each pod's state (CrashLoopBackOff, ImagePullBackOff) "
        "and restarts, with pods not ready and restarts as time series."
    )
    pack = "telemetry"
    scope = "metrics:read"
    risk = Risk.READ
    input_model = SignalInput
    output_model = PodStatusOutput

    def run(self, ctx: ActionContext, params: SignalInput) -> PodStatusOutput:
        ctx.inventory.service(params.service)
        end = ctx.clock.now()
        start = end - timedelta(minutes=params.minutes)
        now = ctx.telemetry.pods(params.service, end)
        unready = ctx.telemetry.unready_replicas(params.service, start, end, params.step_seconds)
        restarts = ctx.telemetry.restarts(params.service, start, end, params.step_seconds)
        return PodStatusOutput(
            service=params.service,
            desired=now.desired,
            ready=now.ready,
            pods=tuple(
                PodEntry(
                    name=p.name, version=p.version, ready=p.ready, state=p.state, reason=p.reason, restarts=p.restarts
                )
                for p in now.pods
            ),
            unready_points=tuple(SamplePoint(at=p.at, value=p.value) for p in unready.points),
            restart_points=tuple(SamplePoint(at=p.at, value=p.value) for p in restarts.points),
        )


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
        return LogsOutput(service=params.service, lines=tuple(_entry(ln) for ln in lines))


class TraceInput(ActionInput):
    trace_id: TraceId = Field(description="The trace to follow across every service it reached.")
    minutes: int = Field(default=60, ge=1, le=1440, description="How far back to look.")


class TraceOutput(ActionOutput):
    trace_id: str
    lines: tuple[LogEntry, ...]

    def summary(self) -> str:
        services = sorted({line.service for line in self.lines})
        errors = sum(1 for line in self.lines if line.level == "ERROR")
        across = ", ".join(services) or "no service"
        return f"trace {self.trace_id}: {len(self.lines)} lines across {across}, {errors} errors"


class GetTrace(ActionSpec[TraceInput, TraceOutput]):
    name = "get_trace"
    description = "Read every log line of one trace id, across all the services the request reached, oldest first."
    pack = "telemetry"
    scope = "logs:read"
    risk = Risk.READ
    input_model = TraceInput
    output_model = TraceOutput

    def run(self, ctx: ActionContext, params: TraceInput) -> TraceOutput:
        end = ctx.clock.now()
        start = end - timedelta(minutes=params.minutes)
        lines = [
            line
            for service in ctx.inventory.services()
            for line in ctx.telemetry.logs(service.name, start, end, trace_id=params.trace_id, limit=50)
        ]
        lines.sort(key=lambda ln: (ln.at, ln.service))
        return TraceOutput(trace_id=params.trace_id, lines=tuple(_entry(ln) for ln in lines))


def _entry(line: LogLine) -> LogEntry:
    return LogEntry(
        at=line.at,
        service=line.service,
        level=line.level,
        message=line.message,
        trace_id=line.trace_id,
        version=line.version,
    )


TELEMETRY = Pack(
    name="telemetry",
    scopes=frozenset({"metrics:read", "logs:read"}),
    actions=(GetErrorRate(), GetLatency(), GetCpu(), GetPodStatus(), GetLogs(), GetTrace()),
)
