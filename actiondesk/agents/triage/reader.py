"""What triage reads, through read-only catalog actions only, each at most once per triage pass."""

from __future__ import annotations

from pydantic import JsonValue

from actiondesk.actions.executor import Executor
from actiondesk.actions.packs.changes import ChangeEntry, ListChangesOutput
from actiondesk.actions.packs.telemetry import (
    CpuOutput,
    ErrorRateOutput,
    LatencyOutput,
    LogsOutput,
    PodStatusOutput,
    SamplePoint,
    TraceOutput,
)
from actiondesk.actions.spec import ActionOutput, Out
from actiondesk.agents.triage.signals import Reading, judge
from actiondesk.core.errors import ActionDeskError
from actiondesk.core.plan import ActionCall

ANOMALY_SIGNALS = ("error_rate", "latency")  # what tells whether a service is off its baseline at all
ALL_SIGNALS = ("error_rate", "latency", "cpu", "unready", "restarts")


class Reader:
    """Reads signals, changes and logs for one case; remembers what it read (and what failed) in this pass."""

    def __init__(self, executor: Executor, case_id: str, *, minutes: int, step_seconds: int) -> None:
        self._executor = executor
        self._case_id = case_id
        self.minutes = minutes
        self.step_seconds = step_seconds
        self._seen: dict[tuple[str, str], ActionOutput | None] = {}
        self.problems: list[str] = []
        self.failed: dict[tuple[str, str], str] = {}  # (action, service) → why it could not be read

    @property
    def probes(self) -> int:
        return len(self._seen)

    def _probe(self, action: str, params: dict[str, JsonValue], output: type[Out]) -> Out | None:
        """What ``action`` read, as its output model (None: it could not be read; ``problems`` says why)."""
        key = (action, repr(sorted(params.items())))
        if key not in self._seen:
            try:
                call = ActionCall(action=action, params=params)
                self._seen[key] = self._executor.probe_as(call, self._case_id, output)
            except ActionDeskError as exc:
                self.problems.append(f"{action} {params.get('service', '')}: {exc}")
                self.failed[(action, str(params.get("service", "")))] = str(exc)
                self._seen[key] = None
        seen = self._seen[key]
        return seen if isinstance(seen, output) else None

    def _window(self, service: str) -> dict[str, JsonValue]:
        return {"service": service, "minutes": self.minutes, "step_seconds": self.step_seconds}

    def reading(self, service: str, signal: str) -> Reading | None:
        points: tuple[SamplePoint, ...]
        if signal == "error_rate":
            rate = self._probe("get_error_rate", self._window(service), ErrorRateOutput)
            if rate is None:
                return None
            points = rate.points
        elif signal in ("latency", "cpu"):
            out = (
                self._probe("get_latency", self._window(service), LatencyOutput)
                if signal == "latency"
                else self._probe("get_cpu", self._window(service), CpuOutput)
            )
            if out is None:
                return None
            points = out.points
        else:
            pods = self.pods(service)
            if pods is None:
                return None
            points = pods.unready_points if signal == "unready" else pods.restart_points
        return judge(service, signal, points)

    def readings(self, service: str, signals: tuple[str, ...]) -> list[Reading]:
        return [r for r in (self.reading(service, s) for s in signals) if r is not None]

    def anomalies(self, service: str, signals: tuple[str, ...] = ANOMALY_SIGNALS) -> list[Reading]:
        """The signals of ``service`` with an onset, earliest first."""
        found = [r for r in self.readings(service, signals) if r.onset is not None]
        return sorted(found, key=lambda r: (r.onset, ALL_SIGNALS.index(r.signal)))

    def unreadable(self, service: str, actions: tuple[str, ...] = ("get_error_rate", "get_latency")) -> list[str]:
        """Why reads of ``service`` failed (the system down, refusing, misconfigured): missing evidence."""
        return [why for (action, name), why in self.failed.items() if name == service and action in actions]

    def pods(self, service: str) -> PodStatusOutput | None:
        return self._probe("get_pod_status", self._window(service), PodStatusOutput)

    def changes(self, service: str) -> tuple[ChangeEntry, ...]:
        out = self._probe(
            "list_changes", {"service": service, "minutes": max(self.minutes, 24 * 60)}, ListChangesOutput
        )
        return out.changes if out is not None else ()

    def logs(self, service: str, level: str) -> LogsOutput | None:
        params: dict[str, JsonValue] = {"service": service, "minutes": self.minutes, "level": level, "limit": 20}
        return self._probe("get_logs", params, LogsOutput)

    def trace(self, trace_id: str) -> TraceOutput | None:
        return self._probe("get_trace", {"trace_id": trace_id, "minutes": self.minutes}, TraceOutput)
