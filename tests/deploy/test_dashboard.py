"""The Grafana dashboard beside the chart: every query is valid PromQL (promtool checks it as a recording rule)
and asks only for metrics ActionDesk's /metrics really exports (read from the collector itself)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CHART

from actiondesk.bot.reports.metrics import DeskCollector
from actiondesk.core.clock import SystemClock

DASHBOARD = CHART / "dashboards" / "actiondesk.json"
NOT_OURS = {"up"}  # Prometheus's own series about the scrape
COVERED = {  # what the dashboard must show, by the metric that carries it
    "MTTR": "actiondesk_mttr_seconds",
    "FCR": "actiondesk_first_contact_resolution_ratio",
    "cost": "actiondesk_cost_per_resolved_request_dollars",
    "approvals": "actiondesk_approval_wait_seconds",
    "escalations": "actiondesk_escalations_total",
    "breaker": "actiondesk_breaker_trips_total",
    "outbox backlog": "actiondesk_outbox_rows",
}


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))
    return found


def _queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in _panels(dashboard) for t in p.get("targets", [])]


def _exported(store) -> set[str]:
    """The series names the collector exposes (counters with their _total), even with no sample yet."""
    families = DeskCollector(store, SystemClock(), 7.0, 0.0).collect()
    return {f"{f.name}_total" if f.type == "counter" else f.name for f in families}


def test_the_dashboard_is_grafana_json_with_a_datasource_variable() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] == "actiondesk-overview"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    ids = [p["id"] for p in _panels(dashboard)]
    assert len(ids) == len(set(ids))
    for panel in _panels(dashboard):
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            assert panel["targets"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_query_asks_for_a_metric_actiondesk_exports(store) -> None:
    exported = _exported(store)
    used = {name for query in _queries() for name in re.findall(r"\b(actiondesk_[a-z_]+|up)\b", query)}
    assert used - exported - NOT_OURS == set()
    for what, metric in COVERED.items():
        assert metric in used, f"the dashboard shows no {what}"


def test_every_query_is_valid_promql(promtool: str, tmp_path: Path) -> None:
    rules = {
        "groups": [{"name": "dashboard", "rules": [{"record": f"q:{i}", "expr": q} for i, q in enumerate(_queries())]}]
    }
    file = tmp_path / "queries.yml"
    file.write_text(yaml.safe_dump(rules))
    done = subprocess.run([promtool, "check", "rules", str(file)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(_queries())} rules found" in done.stdout
