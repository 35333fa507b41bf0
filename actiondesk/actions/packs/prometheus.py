"""PromQL over Prometheus: instant and range queries (read only)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from actiondesk.actions.catalog import Pack
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.governance import Risk
from actiondesk.core.systems import MetricSample

PromQL = Field(
    min_length=1,
    max_length=1000,
    pattern=r"^[^\n\r\x00]+$",
    description='A PromQL expression, e.g. sum(rate(http_requests_total{code=~"5.."}[5m])).',
)


class InstantInput(ActionInput):
    expr: str = PromQL


class RangeInput(ActionInput):
    expr: str = PromQL
    minutes: int = Field(default=30, ge=1, le=24 * 60, description="How far back from now.")
    step_seconds: int = Field(default=60, ge=1, le=3600, description="Resolution of the series.")


class MetricsOutput(ActionOutput):
    expr: str
    series: tuple[MetricSample, ...]

    def summary(self) -> str:
        if not self.series:
            return f"{self.expr}: no data"
        parts = []
        for s in self.series[:5]:
            labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if k != "__name__")
            parts.append(f"{{{labels}}} {s.points[-1][1]:g}" if s.points else f"{{{labels}}} -")
        more = f" (+{len(self.series) - 5} more)" if len(self.series) > 5 else ""
        return f"{self.expr}: " + "; ".join(parts) + more


class QueryMetrics(ActionSpec[InstantInput, MetricsOutput]):
    name = "query_metrics"
    description = "Evaluate a PromQL expression now (Prometheus instant query)."
    pack, scope, risk = "prometheus", "prometheus:read", Risk.READ
    input_model, output_model = InstantInput, MetricsOutput

    def target(self, params: InstantInput) -> str:
        return "prometheus"

    def run(self, ctx: ActionContext, params: InstantInput) -> MetricsOutput:
        series = need(ctx.metrics, "Prometheus").query(params.expr, ctx.clock.now())
        return MetricsOutput(expr=params.expr, series=tuple(series))


class QueryMetricsRange(ActionSpec[RangeInput, MetricsOutput]):
    name = "query_metrics_range"
    description = "Evaluate a PromQL expression over the last minutes (Prometheus range query)."
    pack, scope, risk = "prometheus", "prometheus:read", Risk.READ
    input_model, output_model = RangeInput, MetricsOutput

    def target(self, params: RangeInput) -> str:
        return "prometheus"

    def run(self, ctx: ActionContext, params: RangeInput) -> MetricsOutput:
        end = ctx.clock.now()
        start = end - timedelta(minutes=params.minutes)
        series = need(ctx.metrics, "Prometheus").query_range(params.expr, start, end, params.step_seconds)
        return MetricsOutput(expr=params.expr, series=tuple(series))


PROMETHEUS = Pack(
    name="prometheus",
    scopes=frozenset({"prometheus:read"}),
    actions=(QueryMetrics(), QueryMetricsRange()),
    service_account="actiondesk-prometheus",
    description="PromQL queries against Prometheus (read only).",
)
