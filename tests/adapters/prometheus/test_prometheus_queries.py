"""The Prometheus adapter and pack against a real Prometheus the suite starts, scraping a local exporter."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from packbench import executor_with
from promserver import LivePrometheus

from actiondesk.actions.packs.prometheus import PROMETHEUS, MetricsOutput
from actiondesk.adapters.prometheus import PrometheusMetrics
from actiondesk.adapters.store import SqlStore
from actiondesk.core.clock import SystemClock
from actiondesk.core.errors import ActionFailedError, InvalidParametersError
from actiondesk.core.plan import ActionCall


def test_instant_query_reads_what_the_exporter_serves(prometheus: LivePrometheus) -> None:
    metrics = PrometheusMetrics(prometheus.url)
    (sample,) = metrics.query('actiondesk_test_requests_total{code="500"}', datetime.now(UTC))
    assert sample.labels["service"] == "web"
    assert sample.labels["instance"] == prometheus.exporter
    assert sample.points[0][1] == 42.0
    total = metrics.query("sum(actiondesk_test_requests_total)", datetime.now(UTC))
    assert total[0].points[0][1] == 1242.0


def test_range_query_returns_one_point_per_step(prometheus: LivePrometheus) -> None:
    metrics = PrometheusMetrics(prometheus.url)
    end = datetime.now(UTC)
    start = datetime.fromtimestamp(int(end.timestamp()) - 60, UTC)  # scrapes span >= 2 s (see conftest)
    (series,) = metrics.query_range("actiondesk_test_queue_depth", start, end, 1)
    assert series.labels["service"] == "worker"
    assert len(series.points) >= 2
    assert {value for _, value in series.points} == {7.0}
    assert [at for at, _ in series.points] == sorted(at for at, _ in series.points)


def test_a_bad_query_is_the_planners_to_fix(prometheus: LivePrometheus) -> None:
    with pytest.raises(InvalidParametersError, match=r"Prometheus rejected the query: .*parse error"):
        PrometheusMetrics(prometheus.url).query("sum(rate(", datetime.now(UTC))


def test_the_pack_queries_through_the_executor(prometheus: LivePrometheus, store: SqlStore) -> None:
    executor = executor_with(store, [PROMETHEUS], metrics=PrometheusMetrics(prometheus.url), clock=SystemClock())
    output = executor.probe(ActionCall(action="query_metrics", params={"expr": "actiondesk_test_queue_depth"}), None)
    assert isinstance(output, MetricsOutput)
    assert output.summary().endswith("service=worker} 7")
    ranged = executor.probe(
        ActionCall(action="query_metrics_range", params={"expr": "up", "minutes": 1, "step_seconds": 1}), None
    )
    assert isinstance(ranged, MetricsOutput)
    assert ranged.series[0].points[-1][1] == 1.0


def test_unreachable_prometheus_is_an_action_failure() -> None:
    with pytest.raises(ActionFailedError, match="Prometheus unreachable"):
        PrometheusMetrics("http://127.0.0.1:9").query("up", datetime.now(UTC))
