"""For the same cases, the scenario reports, the dashboard's JSON and /metrics tell the same story."""

from __future__ import annotations

import asyncio
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from authn import bearer
from prometheus_client.parser import text_string_to_metric_families

from actiondesk.adapters.sandbox import SandboxEstate, default_estate, load_scenario
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.reports import metrics
from actiondesk.bot.scenario.runner import run_scenario
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.case import CaseStatus
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings
from actiondesk.core.tickets import OutboxDraft, TicketDraft, TicketUpdate, UpdateKind

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
PLAYED = ["bad-deploy-rollback.yaml", "low-risk-autonomous.yaml", "no-deploy-control.yaml"]


@pytest.fixture
def settings(database_url: str) -> Settings:
    days = (datetime.now(UTC) - datetime(2026, 11, 1, tzinfo=UTC)).days + 2  # the scenarios' simulated days
    return Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, metrics_window_days=days, infra_cost_per_hour=0.25
    )


@pytest.fixture
async def client(aiohttp_client, store: SqlStore, settings: Settings):
    reports = [run_scenario(load_scenario(SCENARIOS / name), settings, store) for name in PLAYED]
    assert all(r.passed for r in reports), [r.mismatches for r in reports]
    clock = SystemClock()
    runtime = build_runtime(
        settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
    )
    http = await aiohttp_client(make_app(runtime, ChangeFeed()), headers=bearer(runtime, "alice"))
    return http, reports


async def test_dashboard_json_agrees_with_the_scenario_reports(client, settings):
    http, reports = client
    answer = await http.get(f"/api/metrics?days={settings.metrics_window_days}")
    assert answer.status == 200
    body = await answer.json()
    report = body["report"]
    resolved = [r.mttr_seconds for r in reports if r.mttr_seconds is not None]
    assert report["cases"] == len(reports)
    assert report["resolved"] == len(resolved) == 2
    assert report["mttr"]["mean"] == pytest.approx(statistics.fmean(resolved))
    assert report["llm_calls"] == sum(r.llm_calls for r in reports)
    assert report["tokens"] == sum(r.tokens for r in reports)
    assert report["fcr"] == pytest.approx(2 / 3)  # the control scenario escalates
    assert report["outcomes"] == {"allow": 1, "approve": 1}
    assert report["escalations_by_owner"] == {"payments": 1}  # the control scenario: handed to payments
    assert report["waiting_for_pickup"] == {"payments": 1}  # and nobody picked it up
    assert report["pickup"]["count"] == 0
    days = [d for d in body["daily"] if d["cases"]]
    assert days, "the chart series has the scenario days"
    assert sum(d["resolved"] for d in days) == 2


async def test_prometheus_exposition_agrees_with_the_scenario_reports(client):
    http, reports = client
    answer = await http.get("/metrics")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(await answer.text())
        for s in family.samples
    }
    resolved = [r.mttr_seconds for r in reports if r.mttr_seconds is not None]
    mttr = next(
        v
        for (name, labels), v in samples.items()
        if name == "actiondesk_mttr_seconds" and ("approval_wait", "included") in labels
    )
    assert mttr == pytest.approx(statistics.fmean(resolved))
    assert samples[("actiondesk_llm_calls_total", ())] == sum(r.llm_calls for r in reports)
    assert samples[("actiondesk_llm_tokens_total", ())] == sum(r.tokens for r in reports)
    assert samples[("actiondesk_cases", (("status", "resolved"),))] == 2
    assert samples[("actiondesk_cases", (("status", "escalated"),))] == 1
    assert samples[("actiondesk_case_transitions_total", (("to", "resolved"),))] == 2
    assert samples[("actiondesk_escalations_total", ())] == 1
    assert samples[("actiondesk_handoffs_total", (("team", "payments"),))] == 1
    assert samples[("actiondesk_handoffs_waiting", (("team", "payments"),))] == 1


async def test_a_bad_period_is_a_clear_error(client):
    http, _ = client
    for days in ("abc", "0", "1000"):
        answer = await http.get(f"/api/metrics?days={days}")
        assert answer.status == 400
        assert "days" in (await answer.json())["error"]


async def test_the_outbox_backlog_is_exported_per_system_and_state(client, store: SqlStore):
    http, _ = client
    now = datetime.now(UTC)
    draft = TicketDraft(case_id=store.list_cases()[0].id, title="t", description="d")
    with store.transaction() as uow:
        uow.enqueue(
            [
                OutboxDraft(system=system, ticket=draft, update=TicketUpdate(kind=UpdateKind.NOTE, text=str(i)))
                for i, system in enumerate(["servicenow", "servicenow", "servicenow", "jsm"])
            ],
            now,
        )
    rows = store.outbox.rows()
    store.outbox.dead(rows[0].id, "400 rejected")
    store.outbox.done(rows[3].id, now)
    answer = await http.get("/metrics")
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(await answer.text())
        for s in family.samples
        if s.name == "actiondesk_outbox_rows"
    }
    assert samples == {
        ("actiondesk_outbox_rows", (("state", "pending"), ("system", "servicenow"))): 2,
        ("actiondesk_outbox_rows", (("state", "dead"), ("system", "servicenow"))): 1,
        ("actiondesk_outbox_rows", (("state", "pending"), ("system", "jsm"))): 0,
        ("actiondesk_outbox_rows", (("state", "dead"), ("system", "jsm"))): 0,
    }


async def _families(http) -> dict:  # type: ignore[no-untyped-def]
    answer = await http.get("/metrics")
    return {f.name: f for f in text_string_to_metric_families(await answer.text())}


async def test_no_data_yet_means_absent_not_zero_and_cases_by_status_is_a_gauge(aiohttp_client, store, settings):
    """Defect: with nothing resolved yet MTTR, FCR, cost and approval wait read 0 (a perfect score), and
    actiondesk_cases_total was a counter of cases by *current* status, which goes down as cases move on."""
    clock = SystemClock()
    settings = settings.model_copy(update={"triage_watch_seconds": 0.0})  # abstain at once rather than watch
    runtime = build_runtime(
        settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
    )
    http = await aiohttp_client(make_app(runtime, ChangeFeed()))
    families = await _families(http)
    for name in (
        "actiondesk_mttr_seconds",
        "actiondesk_first_contact_resolution_ratio",
        "actiondesk_cost_per_resolved_request_dollars",
        "actiondesk_approval_wait_seconds",
    ):
        assert name not in families or families[name].samples == [], name
    assert families["actiondesk_cases"].type == "gauge"
    assert "actiondesk_cases_total" not in {s.name for f in families.values() for s in f.samples}

    case = runtime.loop.open_case("search is returning errors", "alice")
    opened = await _families(http)
    transitions = {s.labels["to"]: s.value for s in opened["actiondesk_case_transitions"].samples}
    assert opened["actiondesk_case_transitions"].type == "counter"
    assert transitions["open"] == 1
    # one case, in whatever status the server's worker has it by now
    assert sum(s.value for s in opened["actiondesk_cases"].samples) == 1

    # the server's case worker claims the queued case (running it here as well would race it for the case's
    # version); triage abstains, so the case is escalated
    for _ in range(300):
        if runtime.store.get_case(case.id).status is CaseStatus.ESCALATED:
            break
        await asyncio.sleep(0.1)
    assert runtime.store.get_case(case.id).status is CaseStatus.ESCALATED
    moved = await _families(http)
    now = {s.labels["to"]: s.value for s in moved["actiondesk_case_transitions"].samples}
    assert now["open"] == 1
    assert now["escalated"] == 1
    assert {s.labels["status"]: s.value for s in moved["actiondesk_cases"].samples}["open"] == 0  # a gauge may fall


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Berlin"])
async def test_the_days_are_calendar_days_in_the_viewers_time_zone_with_today_last(client, zone):
    """Defect: a day was a 24-hour window ending now, labelled with its UTC start date, so today's cases were
    filed under yesterday. With tz= the days are calendar days there, and a case opened now is under today."""
    http, _ = client
    opened = await http.post("/api/cases", json={"text": "my laptop will not boot"})
    assert opened.status in (200, 201), await opened.text()
    answer = await http.get(f"/api/metrics?days=3&tz={zone}")
    assert answer.status == 200
    body = await answer.json()
    today = datetime.now(ZoneInfo(zone)).date()
    assert body["time_zone"] == zone
    assert [d["day"] for d in body["daily"]] == [(today - timedelta(days=n)).isoformat() for n in (2, 1, 0)]
    assert body["daily"][-1]["cases"] >= 1  # the case opened a moment ago is today's
    assert all(set(d) >= {"closed", "first_contact"} for d in body["daily"])


async def test_an_unknown_time_zone_is_a_clear_error(client):
    http, _ = client
    for zone in ("Mars/Olympus_Mons", "../../etc/passwd", ""):
        answer = await http.get(f"/api/metrics?days=7&tz={zone}")
        assert answer.status == 400, zone
        assert "tz" in (await answer.json())["error"]


def test_a_day_across_a_clock_change_is_one_calendar_day(store: SqlStore):
    """Europe/Berlin leaves summer time on 2026-10-25 (a 25-hour day): every date appears once, in order."""
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 10, 23, tzinfo=zone)
    end = datetime(2026, 10, 28, 12, tzinfo=zone)
    days = [d["day"] for d in metrics.daily(store, start, end, 0.0, zone)]
    assert days == ["2026-10-23", "2026-10-24", "2026-10-25", "2026-10-26", "2026-10-27", "2026-10-28"]
