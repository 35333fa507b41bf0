"""The four signals triage reads, what counts as an onset on each, and what counts as healthy again.

- error_rate (fraction 5xx): an onset is ``ERROR_FACTOR`` times the baseline and ``ERROR_FLOOR`` above it;
- latency (p95, ms): ``LATENCY_FACTOR`` times the baseline and ``LATENCY_FLOOR`` ms above it;
- cpu (percent): at least ``CPU_SATURATED`` and ``CPU_FLOOR`` points above the baseline;
- unready (pods wanted but not ready): at least one; restarts: ``RESTARTS_FLOOR`` more than at the start of the
  window.
An onset is the first point of a rise that holds for two consecutive points — of the latest such rise, when the
window holds several (an earlier episode that was fixed is not the trouble reported now) — and only while it
lasts: a rise whose last two points are back under the threshold is over (``past``), not an onset. A last point
alone above the threshold is a rise not yet confirmed. The baseline is the median of the window's first third.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import JsonValue

from actiondesk.core.audit_payloads import Verification


class Sample(Protocol):
    @property
    def at(self) -> datetime: ...

    @property
    def value(self) -> float: ...


ERROR_FACTOR, ERROR_FLOOR = 5.0, 0.02
LATENCY_FACTOR, LATENCY_FLOOR = 1.5, 50.0
CPU_SATURATED, CPU_FLOOR = 80.0, 20.0
RESTARTS_FLOOR = 2.0


@dataclass(frozen=True)
class Rule:
    signal: str
    action: str
    unit: str

    def threshold(self, baseline: float) -> float:
        match self.signal:
            case "error_rate":
                return max(baseline * ERROR_FACTOR, baseline + ERROR_FLOOR)
            case "latency":
                return max(baseline * LATENCY_FACTOR, baseline + LATENCY_FLOOR)
            case "cpu":
                return max(CPU_SATURATED, baseline + CPU_FLOOR)
            case "restarts":
                return baseline + RESTARTS_FLOOR
            case _:  # unready: a pod more than the baseline is wanted but not ready
                return baseline + 0.5

    def abnormal(self, value: float, baseline: float) -> bool:
        return value > self.threshold(baseline)

    def shown(self, value: float) -> str:
        if self.signal == "error_rate":
            return f"{value:.2%}"
        if self.signal == "latency":
            return f"{value:.0f} ms"
        if self.signal == "cpu":
            return f"{value:.0f} %"
        return f"{value:.0f}"


RULES: dict[str, Rule] = {
    "error_rate": Rule("error_rate", "get_error_rate", "fraction"),
    "latency": Rule("latency", "get_latency", "ms"),
    "cpu": Rule("cpu", "get_cpu", "percent"),
    "unready": Rule("unready", "get_pod_status", "pods"),
    "restarts": Rule("restarts", "get_pod_status", "restarts"),
}
LABELS = {
    "error_rate": "5xx rate",
    "latency": "p95 latency",
    "cpu": "CPU",
    "unready": "pods not ready",
    "restarts": "restarts",
}


@dataclass(frozen=True)
class Reading:
    """One signal of one service over the triage window, judged."""

    service: str
    signal: str
    baseline: float
    peak: float
    current: float
    onset: datetime | None  # the start of a sustained rise that still lasts, None when there is none
    rising: bool  # the last point is abnormal but not yet for two points
    past: datetime | None = None  # the start of the latest sustained rise, when it is over now

    @property
    def rule(self) -> Rule:
        return RULES[self.signal]

    @property
    def anomalous(self) -> bool:
        return self.onset is not None

    def described(self) -> str:
        rule, label = self.rule, LABELS[self.signal]
        if self.onset is None and self.past is not None:
            return (
                f"{self.service}'s {label} rose to {rule.shown(self.peak)} at {self.past:%H:%M:%S} UTC and is back to "
                f"{rule.shown(self.current)} (baseline {rule.shown(self.baseline)})"
            )
        if self.onset is None:
            return f"{self.service}'s {label} is {rule.shown(self.current)} (baseline {rule.shown(self.baseline)})"
        return (
            f"{self.service}'s {label} went from {rule.shown(self.baseline)} to {rule.shown(self.peak)} "
            f"at {self.onset:%H:%M:%S} UTC"
        )


def judge(service: str, signal: str, points: Sequence[Sample]) -> Reading:
    rule = RULES[signal]
    if not points:
        return Reading(service, signal, 0.0, 0.0, 0.0, None, False)
    values = [p.value for p in points]
    head = values[: max(3, len(values) // 3)]
    baseline = statistics.median(head)
    if signal == "restarts":
        baseline = values[0]
    abnormal = [rule.abnormal(v, baseline) for v in values]
    starts = [i for i in range(len(values) - 1) if abnormal[i] and abnormal[i + 1] and (i == 0 or not abnormal[i - 1])]
    if starts:
        i = starts[-1]
        before = [v for v, bad in zip(values[:i], abnormal[:i], strict=True) if not bad] or head
        settled = statistics.median(before[-30:]) if signal != "restarts" else baseline
        if signal == "restarts":  # a running total: over when it stopped growing (unready pods say the rest)
            over = len(values) - i > 4 and len(set(values[-4:])) == 1
        else:
            over = len(values) - i > 2 and not abnormal[-1] and not abnormal[-2]
        if over:
            return Reading(service, signal, settled, max(values[i:]), values[-1], None, False, past=points[i].at)
        return Reading(service, signal, settled, max(values[i:]), values[-1], points[i].at, False)
    return Reading(service, signal, baseline, max(values), values[-1], None, abnormal[-1])


def limit(signal: str, baseline: float) -> float:
    """The most a signal may read and count as back to normal: a tolerance over the baseline before the onset."""
    match signal:
        case "error_rate":
            return max(baseline * 2, baseline + 0.01)
        case "latency":
            return max(baseline * 1.25, baseline + 25.0)
        case "cpu":
            return max(baseline + 10.0, min(CPU_SATURATED, baseline * 1.3))
        case "unready":
            return baseline + 0.5
        case _:  # restarts: a running total; verification reads pods not ready instead
            return baseline + RESTARTS_FLOOR


def healthy(signal: str, value: float, baseline: float) -> bool:
    """Back to normal, for verification."""
    return value <= limit(signal, baseline)


def check_text(check: Mapping[str, JsonValue]) -> str:
    """One verification check as people read it: ``checkout's 5xx rate is back to 0.31% (baseline 0.30%)``."""
    signal = str(check.get("signal") or "error_rate")
    rule = RULES.get(signal, RULES["error_rate"])
    current, baseline = check.get("current"), check.get("baseline")
    now = rule.shown(float(current)) if isinstance(current, int | float) else "unreadable"
    base = rule.shown(float(baseline)) if isinstance(baseline, int | float) else "?"
    verb = "is back to" if check.get("ok") else "is still"
    return f"{check.get('service') or 'the service'}'s {LABELS.get(signal, signal)} {verb} {now} (baseline {base})"


def verification_text(result: Verification) -> str:
    """A verification audit entry as people read it, every check of the chain or the actions' outcome."""
    if result.checks:
        said = "; ".join(check_text(c) for c in result.checks)
    elif result.signal in RULES:
        said = check_text(result.dump())
    else:
        said = "every step succeeded" if result.ok else "a step did not succeed"
    return f"Verification: {said}" + ("." if result.ok else "; not yet.")
