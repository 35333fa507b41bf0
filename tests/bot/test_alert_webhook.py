"""Alertmanager's webhook opens cases, reaches the case an alert already has, and refuses strangers."""

from __future__ import annotations

import asyncio
import json

import pytest
from fixturefiles import sources

from actiondesk.adapters.sandbox import SandboxEstate, default_estate
from actiondesk.adapters.store import SqlStore
from actiondesk.bot.server.app import make_app
from actiondesk.bot.web.appkeys import WORKER
from actiondesk.bot.web.events import ChangeFeed
from actiondesk.bot.wiring.root import build_runtime, policy_from_settings
from actiondesk.core.audit import AuditKind
from actiondesk.core.clock import SystemClock
from actiondesk.core.settings import Settings

FIRING = {
    "version": "4",
    "status": "firing",
    "receiver": "actiondesk",
    "alerts": [
        {
            "status": "firing",
            "labels": {"alertname": "HighErrorRate", "service": "payment-gateway", "severity": "page"},
            "annotations": {"summary": "payment-gateway 5xx rate above 5% for 2 minutes"},
            "startsAt": "2026-11-25T09:01:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.local/graph",
            "fingerprint": "a1b2c3d4e5f60718",
        }
    ],
}


def _resolved() -> dict:
    body = json.loads(json.dumps(FIRING))
    body["status"] = body["alerts"][0]["status"] = "resolved"
    return body


async def _client(aiohttp_client, store: SqlStore, database_url: str, token: str | None):
    settings = Settings(_env_file=None, database_url=database_url, alert_token=token)  # type: ignore[call-arg]
    clock = SystemClock()
    runtime = build_runtime(
        settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
    )
    return await aiohttp_client(make_app(runtime, ChangeFeed())), runtime


async def test_a_firing_alert_opens_one_case_and_a_redelivery_opens_none(aiohttp_client, store, database_url):
    http, runtime = await _client(aiohttp_client, store, database_url, "s3cret-token")
    auth = {"Authorization": "Bearer s3cret-token"}
    first = await http.post("/api/alerts", json=FIRING, headers=auth)
    again = await http.post("/api/alerts", json=FIRING, headers=auth)  # Alertmanager repeats firing alerts
    assert first.status == again.status == 200
    (case_id,) = (await first.json())["cases"]
    assert (await again.json())["cases"] == []
    case = runtime.store.get_case(case_id)
    assert (case.surface, case.reporter, case.service) == ("alert", "alertmanager", "payment-gateway")
    assert "payment-gateway 5xx rate above 5%" in case.text

    done = await http.post("/api/alerts", json=_resolved(), headers=auth)
    assert (await done.json())["cases"] == [case_id]  # the resolution is noted in the same case
    messages = [e.payload["text"] for e in runtime.store.audit(case_id) if e.kind is AuditKind.MESSAGE]
    assert any(str(m).startswith("[alert HighErrorRate resolved]") for m in messages)


@pytest.mark.parametrize("header", [None, "Bearer wrong", "Basic czNjcmV0LXRva2Vu"])
async def test_a_request_without_the_token_is_refused(aiohttp_client, store, database_url, header):
    http, runtime = await _client(aiohttp_client, store, database_url, "s3cret-token")
    answer = await http.post("/api/alerts", json=FIRING, headers={"Authorization": header} if header else {})
    assert answer.status == 401
    assert runtime.store.list_cases() == []


async def test_a_malformed_payload_is_a_clear_400(aiohttp_client, store, database_url):
    http, _ = await _client(aiohttp_client, store, database_url, None)  # loopback sender, no token configured
    bad = await http.post("/api/alerts", data=b"{not json", headers={"Content-Type": "application/json"})
    assert bad.status == 400
    form = await http.post(
        "/api/alerts", data=b"alerts=1", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status == 415
    empty = await http.post("/api/alerts", json={"version": "4", "alerts": []})
    assert empty.status == 400
    assert "alerts" in (await empty.json())["error"]


@pytest.mark.parametrize(
    "sample",
    sources("alertmanager/webhook.multiple.json", "alertmanager/prom2teams/tests/data/json_files/all_ok_multiple.json"),
)
async def test_the_recorded_alertmanager_payload_is_accepted(aiohttp_client, store, database_url, sample):
    """A webhook body with several alerts of one group (Alertmanager's documented webhook_config shape): one case
    per firing alert, none for an alert that arrives already resolved."""
    http, _ = await _client(aiohttp_client, store, database_url, None)
    body = json.loads(sample.read_text())
    answer = await http.post("/api/alerts", json=body)
    assert answer.status == 200, await answer.text()
    firing = [a for a in body["alerts"] if a["status"] == "firing"]
    assert len((await answer.json())["cases"]) == len(firing)


def _alert(n: int, status: str) -> dict:
    body = json.loads(json.dumps(FIRING))
    alert = body["alerts"][0]
    body["status"] = alert["status"] = status
    alert["fingerprint"] = f"fp{n:014d}"
    alert["labels"] = {**alert["labels"], "instance": f"pod-{n}"}
    return body


async def test_twenty_concurrent_alerts_keep_twenty_mappings_and_every_resolution_lands(
    aiohttp_client, store, database_url
):
    """Defect: the fingerprint → case map was one JSON blob read and rewritten per delivery, so concurrent
    deliveries overwrote each other (20 alerts kept 1 mapping, the other 19 resolutions were dropped)."""
    http, runtime = await _client(aiohttp_client, store, database_url, None)
    fired = await asyncio.gather(*(http.post("/api/alerts", json=_alert(n, "firing")) for n in range(20)))
    opened = [(await r.json())["cases"] for r in fired]
    assert all(len(c) == 1 for c in opened)
    resolved = await asyncio.gather(*(http.post("/api/alerts", json=_alert(n, "resolved")) for n in range(20)))
    for n, answer in enumerate(resolved):
        assert (await answer.json())["cases"] == opened[n], n  # each resolution reaches the case its alert opened
    for (case_id,) in opened:
        notes = [e.payload["text"] for e in runtime.store.audit(case_id) if e.kind is AuditKind.MESSAGE]
        assert any(str(t).startswith("[alert HighErrorRate resolved]") for t in notes), case_id
    assert len(runtime.store.list_cases()) == 20
    await http.server.app[WORKER].idle()  # the 20 cases run in worker threads: let them settle before teardown


async def test_an_alert_for_an_unknown_service_is_escalated_not_stuck(aiohttp_client, store, database_url):
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=database_url, step_attempts=3, step_retry_seconds=0.01
    )
    clock = SystemClock()
    runtime = build_runtime(
        settings, store, SandboxEstate(default_estate(clock.now()), clock), clock, policy_from_settings(settings)
    )
    http = await aiohttp_client(make_app(runtime, ChangeFeed()))
    body = _alert(1, "firing")
    body["alerts"][0]["labels"]["service"] = "flux-capacitor"
    body["alerts"][0]["annotations"] = {"summary": "flux-capacitor 5xx rate above 5%"}
    (case_id,) = (await (await http.post("/api/alerts", json=body)).json())["cases"]
    await http.server.app[WORKER].idle()
    case = runtime.store.get_case(case_id)
    assert case.status.value == "escalated", "an alert's case is not left waiting for an answer nobody can give"
    (reason,) = [e.payload["reason"] for e in runtime.store.audit(case_id) if e.kind is AuditKind.CASE_ESCALATED]
    assert reason == "triage abstained"
    assert case.finding is not None
    assert "I see no service off its baseline" in case.finding.summary
