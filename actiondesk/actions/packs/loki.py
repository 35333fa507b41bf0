"""Logs from Loki by label and trace id (read only)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field

from actiondesk.actions.catalog import Pack
from actiondesk.actions.packs.common import TraceId
from actiondesk.actions.spec import ActionContext, ActionInput, ActionOutput, ActionSpec, need
from actiondesk.core.governance import Risk
from actiondesk.core.systems import LogRecord

LabelName = Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]{0,62}$")]
LabelValue = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]


class SearchLogsInput(ActionInput):
    labels: dict[LabelName, LabelValue] = Field(
        min_length=1, max_length=8, description='Stream labels to match exactly, e.g. {"service": "checkout"}.'
    )
    trace_id: TraceId | None = Field(default=None, description="Only lines that mention this trace id.")
    minutes: int = Field(default=60, ge=1, le=7 * 24 * 60, description="How far back from now.")
    limit: int = Field(default=50, ge=1, le=500, description="At most this many lines (the newest).")


class SearchLogsOutput(ActionOutput):
    query: dict[str, str]
    lines: tuple[LogRecord, ...]

    def summary(self) -> str:
        labels = ",".join(f"{k}={v}" for k, v in sorted(self.query.items()))
        if not self.lines:
            return f"no log lines for {labels}"
        return f"{len(self.lines)} log lines for {labels}; newest: {self.lines[-1].line[:160]}"


class SearchLogs(ActionSpec[SearchLogsInput, SearchLogsOutput]):
    name = "search_logs"
    description = "Log lines from Loki matching stream labels, optionally only those with a trace id."
    pack, scope, risk = "loki", "logs:read", Risk.READ
    input_model, output_model = SearchLogsInput, SearchLogsOutput

    def target(self, params: SearchLogsInput) -> str:
        return params.labels.get("service") or params.labels.get("app") or "loki"

    def run(self, ctx: ActionContext, params: SearchLogsInput) -> SearchLogsOutput:
        end = ctx.clock.now()
        lines = need(ctx.log_search, "Loki").search(
            dict(params.labels),
            end - timedelta(minutes=params.minutes),
            end,
            trace_id=params.trace_id,
            limit=params.limit,
        )
        shown = dict(params.labels) | ({"trace_id": params.trace_id} if params.trace_id else {})
        return SearchLogsOutput(query=shown, lines=tuple(lines))


LOKI = Pack(
    name="loki",
    scopes=frozenset({"logs:read"}),
    actions=(SearchLogs(),),
    service_account="actiondesk-loki",
    description="Log queries against Grafana Loki (read only).",
)
