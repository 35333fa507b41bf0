"""The Loki adapter and pack against a local server that follows Loki's query_range contract."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from lokifake import FakeLoki, fake_loki
from packbench import executor_with

from actiondesk.actions.packs.loki import LOKI, SearchLogsOutput
from actiondesk.adapters.loki import LokiLogs, logql
from actiondesk.adapters.store import SqlStore
from actiondesk.core.clock import SimulatedClock
from actiondesk.core.errors import ActionFailedError, InvalidParametersError
from actiondesk.core.plan import ActionCall

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _ns(minutes_ago: float) -> int:
    return int((NOW - timedelta(minutes=minutes_ago)).timestamp() * 1_000_000_000)


@pytest.fixture
def loki() -> Iterator[tuple[LokiLogs, FakeLoki]]:
    with fake_loki() as (url, fake):
        fake.push({"service": "checkout", "level": "error"}, _ns(10), f"payment declined trace_id={TRACE}")
        fake.push(
            {"service": "checkout", "level": "info"}, _ns(20), "cart saved trace_id=00000000000000000000000000000001"
        )
        fake.push({"service": "checkout", "level": "info"}, _ns(5), f"retrying trace_id={TRACE}")
        fake.push({"service": "search", "level": "info"}, _ns(3), f"unrelated trace_id={TRACE}")
        fake.push({"service": "checkout", "level": "info"}, _ns(120), "too old")
        yield LokiLogs(url), fake


def test_by_label_oldest_first_within_the_window(loki: tuple[LokiLogs, FakeLoki]) -> None:
    logs, _ = loki
    lines = logs.search({"service": "checkout"}, NOW - timedelta(hours=1), NOW)
    assert [r.line.split(" trace_id")[0] for r in lines] == ["cart saved", "payment declined", "retrying"]
    assert lines[1].labels == {"service": "checkout", "level": "error"}


def test_by_trace_id(loki: tuple[LokiLogs, FakeLoki]) -> None:
    logs, fake = loki
    lines = logs.search({"service": "checkout"}, NOW - timedelta(hours=1), NOW, trace_id=TRACE)
    assert [r.line for r in lines] == [f"payment declined trace_id={TRACE}", f"retrying trace_id={TRACE}"]
    assert fake.queries[-1]["query"] == f'{{service="checkout"}} |= "{TRACE}"'


def test_limit_keeps_the_newest(loki: tuple[LokiLogs, FakeLoki]) -> None:
    logs, _ = loki
    (line,) = logs.search({"service": "checkout"}, NOW - timedelta(hours=1), NOW, limit=1)
    assert line.line.startswith("retrying")


def test_label_values_are_quoted_not_interpreted() -> None:
    assert logql({"service": 'a"} |= "x'}) == '{service="a\\"} |= \\"x"}'
    with pytest.raises(InvalidParametersError, match="not Loki label names"):
        logql({"bad-name": "x"})


def test_a_rejected_query_is_for_the_planner_to_fix(loki: tuple[LokiLogs, FakeLoki]) -> None:
    logs, _ = loki
    with pytest.raises(InvalidParametersError, match="at least one label matcher"):
        logs.search({}, NOW - timedelta(hours=1), NOW)


def test_unreachable_loki_is_an_action_failure() -> None:
    with fake_loki() as (url, _):
        pass
    with pytest.raises(ActionFailedError, match="Loki unreachable"):
        LokiLogs(url).search({"service": "x"}, NOW - timedelta(hours=1), NOW)


def test_the_pack_searches_by_trace_id_and_rejects_hallucinations(
    loki: tuple[LokiLogs, FakeLoki], store: SqlStore
) -> None:
    logs, fake = loki
    executor = executor_with(store, [LOKI], log_search=logs, clock=SimulatedClock(NOW))
    call = ActionCall(action="search_logs", params={"labels": {"service": "checkout"}, "trace_id": TRACE})
    output = executor.probe(call, None)
    assert isinstance(output, SearchLogsOutput)
    assert output.summary() == f"2 log lines for service=checkout,trace_id={TRACE}; newest: retrying trace_id={TRACE}"
    asked = len(fake.queries)
    for params, problem in [
        ({"labels": {"service": "checkout"}, "traceid": TRACE}, "traceid: Extra inputs are not permitted"),
        ({"labels": {"service": "checkout"}, "minutes": "an hour"}, "minutes: Input should be a valid integer"),
        ({"labels": {"service": "../../etc/passwd"}}, "String should match pattern"),
        ({"labels": {"service": "checkout`rm -rf /`"}}, "String should match pattern"),
    ]:
        with pytest.raises(InvalidParametersError, match=problem):
            executor.probe(ActionCall(action="search_logs", params=params), None)
    assert len(fake.queries) == asked, "an invalid call never reaches Loki"
